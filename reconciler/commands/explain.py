"""`xtap explain`: may this user reach that application, with this partner, through this setting,
and why. The verdict and the chain of settings that decided it (`reconciler.explain`), from
policies/ (what the files will make true once applied) or, with --live, the tenant as it is.
Many questions are answered in one run with --questions FILE (one JSON object a line): the
files load once, and each answer costs microseconds.

Offline, a setting the files do not manage is unknown: the default's documented system value
stands in for it, and the answer lists that as an assumption, with --live to read the truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.commands.run import (
    EXIT_ERROR,
    EXIT_OK,
    Formats,
    Options,
    binding_if_there,
    connect,
    load,
    run_graph,
    say,
)
from reconciler.core.address import Address
from reconciler.core.names import TENANT_PERMISSION
from reconciler.core.registry import DEFAULT, IDENTITY_SYNC, PARTNER
from reconciler.core.wire import domain_name, is_guid
from reconciler.explain.access import Subject
from reconciler.explain.verdict import VIAS, Explanation, Question, Source, explain
from reconciler.render.explain import Answered, explanations_json, render_explanations

if TYPE_CHECKING:
    from reconciler.core.desired import Desired
    from reconciler.core.live import Live

FORMATS = Formats[list[Answered]](colored={"text": render_explanations}, plain={"json": explanations_json})
# A questions file is read whole: a bound on its size, and on the questions in it.
MAX_QUESTIONS_BYTES = 64 * 2**20
MAX_QUESTIONS = 1_000_000
QUESTION_KEYS = frozenset({"partner", "via", "direction", "user", "groups", "app"})
SYSTEM_DEFAULT = "Graph's system default"


class Refused(Exception):
    """A question that cannot be asked as written: the message says what to write instead."""


@dataclass(frozen=True)
class Asked:
    """A question as written: the partner as given (an id or a name), and where (for errors)."""

    partner: str
    via: str
    direction: str | None
    subject: Subject
    at: str  # "--via" for the command line, "questions.jsonl:3" for a file


def explain_command(options: Options, asked: list[Asked], live: bool, fmt: str, folder_given: bool = True) -> int:
    """Answer each question; exit 0 with a verdict for every one, 1 on any error (nothing is
    answered then, so a script never reads half an answer as whole)."""
    try:
        for question in asked:
            _route(question)
    except Refused as exc:
        say(f"Error: {exc}")
        return EXIT_ERROR
    if live:
        answers = _live(options, asked, folder_given)
    else:
        desired = load(options.policies, cloud=options.cloud)
        answers = None if desired is None else _answered(asked, _ids(desired), _offline(desired))
    if answers is None:
        return EXIT_ERROR
    print(FORMATS.render(answers, fmt), end="")
    return EXIT_OK


def _route(asked: Asked) -> str:
    """The question's direction: its own, or its `via`'s first; Refused for one the setting lacks."""
    directions = VIAS.get(asked.via)
    if directions is None:
        raise Refused(f"{asked.at}: no setting {asked.via!r}; --via takes one of {', '.join(VIAS)}")
    direction = asked.direction or next(iter(directions))
    if direction not in directions:
        only = ", ".join(directions)
        raise Refused(f"{asked.at}: {asked.via} has no {direction} setting; give --direction {only}")
    return direction


# -- the sources: policies/ offline, the tenant with --live -------------------------------------


@dataclass(frozen=True)
class Sources:
    """What the answers are read from: each partner's settings and identity sync by tenant id,
    the default's settings, and each partner's name where its file gives one."""

    partners: Mapping[str, Source]
    syncs: Mapping[str, Source]
    default: Source
    names: Mapping[str, str]


def _offline(desired: Desired) -> Sources:
    """policies/ as the tenant will be once it is applied. The default's settings the files
    leave out are its documented system values, or, for those with none and that the files do
    not manage, unknown: each such answer says what it assumed."""
    partners = {a.id: Source("partner", i.source, i.written) for a, i in desired.of(PARTNER.name).items()}
    syncs = {a.id: Source("partner", i.source, i.written) for a, i in desired.of(IDENTITY_SYNC.name).items()}
    names = _names(desired)
    declared = desired.instances.get(Address(DEFAULT.name, DEFAULT.singleton_id or ""))
    if declared is None:
        why = "policies/ does not manage the default: xtap takes Graph's system value; --live reads the tenant's"
        assumed = {name: why for name in DEFAULT.settings}
        default = Source("default", SYSTEM_DEFAULT, dict(DEFAULT.absent_means), assumed)
    else:
        written = declared.written
        unmanaged = {
            name: f"{declared.file} does not set {name}, so the tenant keeps its own (unknown offline; --live reads it)"
            for name in DEFAULT.unmanaged_when_absent
            if name not in written
        }
        system = {name: f"Graph's system value ({declared.file} does not set it)" for name in DEFAULT.absent_means}
        places = {name: place for name, place in system.items() if name not in written}
        default = Source("default", declared.source, {**DEFAULT.absent_means, **written}, unmanaged, places)
    return Sources(partners, syncs, default, names)


def _names(desired: Desired) -> dict[str, str]:
    """Each partner's `xtap: name:`, by tenant id, where its file gives one."""
    return {a.id: i.tool.name for a, i in desired.of(PARTNER.name).items() if i.tool.name}


def _live(options: Options, asked: list[Asked], folder_given: bool) -> list[Answered] | None:
    """The answers from the tenant as it is. Of policies/ only xtap.yaml is read (the tenant it
    binds), and the partner files only when a question names a partner by name; a name no file
    gives that is a domain name is looked up in Graph (`CrossTenantInformation.ReadBasic.All`).
    A folder that is not there binds nothing, unless it was named (`folder_given`), as for show."""
    bound, tenant = binding_if_there(options, folder_given)
    if not bound:
        return None
    desired = None
    named = [question for question in asked if not is_guid(question.partner)]
    if named and options.policies.exists():
        desired = load(options.policies, cloud=options.cloud)
        if desired is None:
            return None
    ids = _ids(desired)
    domains = {domain_name(question.partner) for question in named if question.partner.casefold() not in ids}
    read = run_graph(_read(options, tenant, sorted(domain for domain in domains if domain is not None)))
    if read is None:
        return None
    live, found = read
    sources = _from_tenant(live)
    names = _names(desired) if desired is not None else {}
    for domain, info in found.items():
        if isinstance(info, str):
            say(f"Error: {info}")
            return None
        ids[domain] = [info.tenant_id]
        names.setdefault(info.tenant_id, info.display_name or domain)
    return _answered(asked, ids, Sources(sources.partners, sources.syncs, sources.default, names), live=True)


async def _read(options: Options, tenant: str | None, domains: list[str]) -> tuple[Live, dict[str, Any]]:
    """The tenant's partners, their identity sync and the default; and each domain's tenant
    (its TenantInformation), or why it has none (a sentence)."""
    from reconciler.graph.names import LookupDenied, find_tenant
    from reconciler.graph.read import read_live

    async with connect(options, tenant) as graph:  # a token for another tenant is refused here
        say(f"Reading the live tenant from {graph.base_url} ...")
        live = await read_live(graph, (PARTNER.name, IDENTITY_SYNC.name, DEFAULT.name))
        found: dict[str, Any] = {}
        for domain in domains:
            try:
                info = await find_tenant(graph, None, domain)
            except LookupDenied as exc:
                found[domain] = (
                    f"looking up the domain name {domain} needs {TENANT_PERMISSION} ({exc}); give the tenant id"
                )
                continue
            found[domain] = info or f"Graph knows no tenant with the domain name {domain}; check the spelling"
        return live, found


def _from_tenant(live: Live) -> Sources:
    where = "the tenant"
    partners = {a.id: Source("partner", where, wire) for a, wire in live.of(PARTNER.name).items()}
    syncs = {a.id: Source("partner", where, wire) for a, wire in live.of(IDENTITY_SYNC.name).items()}
    defaults = list(live.of(DEFAULT.name).values())
    default = Source("default", where, defaults[0] if defaults else dict(DEFAULT.absent_means))
    return Sources(partners, syncs, default, {})


# -- answering -------------------------------------------------------------------------------------


def _answered(
    asked: list[Asked], ids: Mapping[str, list[str]], sources: Sources, live: bool = False
) -> list[Answered] | None:
    answers = []
    for question in asked:
        try:
            partner = _partner_id(question, ids)
        except Refused as exc:
            say(f"Error: {exc}")
            return None
        own = sources.partners.get(partner)
        explanation = explain(
            Question(partner, question.via, _route(question), question.subject),
            own,
            sources.default,
            sources.syncs.get(partner),
        )
        if own is None:
            explanation = _undeclared(explanation, live)
        answers.append(Answered(explanation, sources.names.get(partner)))
    return answers


def _undeclared(explanation: Explanation, live: bool) -> Explanation:
    """Said of a partner with no settings of its own: the default applies to it whole."""
    note = (
        "the tenant has no partner configuration for this tenant: the default applies whole"
        if live
        else "policies/ declares no partner with this tenant id: the default applies whole, unless the "
        "tenant holds one that policies/ does not manage (--live reads the tenant)"
    )
    return Explanation(
        explanation.question, explanation.allowed, explanation.chain, explanation.also, (note, *explanation.assumptions)
    )


def _ids(desired: Desired | None) -> dict[str, list[str]]:
    """Each name a partner goes by (its `xtap: name:` and its file's stem, case folded), to the
    tenant ids that go by it."""
    found: dict[str, list[str]] = {}
    if desired is None:
        return found
    for address, instance in desired.of(PARTNER.name).items():
        for name in {instance.tool.name or "", Path(instance.file).stem} - {""}:
            found.setdefault(name.casefold(), []).append(address.id)
    return found


def _partner_id(question: Asked, ids: Mapping[str, list[str]]) -> str:
    if is_guid(question.partner):
        return question.partner.lower()
    matches = sorted(set(ids.get(question.partner.casefold(), [])))
    if len(matches) == 1:
        return matches[0]
    if matches:
        named = f"{question.partner!r} names {len(matches)} partners ({', '.join(matches)})"
        raise Refused(f"{question.at}: {named}; give the tenant id")
    raise Refused(
        f"{question.at}: no partner named {question.partner!r} in policies/ (a name is a partner file's "
        "`xtap: name:` or its file name; with --live, also a domain name); give the partner's tenant id"
    )


# -- questions ------------------------------------------------------------------------------------


def questions_in(path: Path) -> list[Asked]:
    """The questions of a JSON Lines file: one object a line, with `partner` and, as on the
    command line, `via`, `direction`, `user`, `groups` (a list) and `app`. Refused, naming the
    line and column, for anything else."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_QUESTIONS_BYTES + 1)
    except OSError as exc:
        raise Refused(f"{path}: cannot read it: {exc.strerror}") from None
    if len(data) > MAX_QUESTIONS_BYTES:
        raise Refused(f"{path}: over {MAX_QUESTIONS_BYTES // 2**20} MiB; split the questions into several files")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None
    asked: list[Asked] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(asked) >= MAX_QUESTIONS:
            raise Refused(f"{path}:{number}: more than {MAX_QUESTIONS:,} questions; split them into several files")
        asked.append(_question(json_object(path, number, line), f"{path}:{number}"))
    if not asked:
        raise Refused(f'{path}: holds no question; write one JSON object a line, like {{"partner": "contoso"}}')
    return asked


def json_object(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Refused(f"{path}:{number}:{exc.colno}: not JSON ({exc.msg}); write one JSON object a line") from None
    if not isinstance(value, dict):
        raise Refused(f'{path}:{number}:1: a question is a JSON object, like {{"partner": "contoso"}}')
    return value


def _question(value: dict[str, Any], at: str) -> Asked:
    unknown = sorted(set(value) - QUESTION_KEYS)
    if unknown:
        raise Refused(f"{at}: unknown key {unknown[0]!r}; a question has {', '.join(sorted(QUESTION_KEYS))}")
    texts = {key: value.get(key) for key in ("partner", "via", "direction", "user", "app")}
    for key, text in texts.items():
        if text is not None and not isinstance(text, str):
            raise Refused(f"{at}: {key} must be a string, not {type(text).__name__}")
    groups = value.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise Refused(f"{at}: groups must be a list of group ids")
    if not texts["partner"]:
        raise Refused(f"{at}: every question names its partner (a tenant id or a name)")
    return asked_as(
        texts["partner"], texts["via"] or DEFAULT_VIA, texts["direction"], texts["user"], groups, texts["app"], at
    )


DEFAULT_VIA = "b2bCollaboration"


def asked_as(
    partner: str, via: str, direction: str | None, user: str | None, groups: Iterable[str], app: str | None, at: str
) -> Asked:
    return Asked(partner, via, direction, Subject(user, tuple(groups), app), at)

"""`xtap explain`'s answers as text and JSON. Pure.

Ids, groups, applications and file names come from the command line, the files or Graph: the
text escapes each (`escape.visible`); JSON escapes by its own rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.core.escape import visible
from reconciler.explain.verdict import Explanation, Step
from reconciler.render.terminal import GREEN, RED, painter

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Answered:
    """One question's explanation, with the partner's name where its file gives one."""

    explanation: Explanation
    name: str | None = None


def render_explanations(answers: list[Answered], color: bool) -> str:
    return "\n".join(_text(answer, color) for answer in answers)


def _text(answer: Answered, color: bool) -> str:
    explanation = answer.explanation
    question = explanation.question
    paint = painter(color)
    verdict = paint(explanation.verdict.upper(), GREEN if explanation.allowed else RED)
    partner = f"{answer.name} ({question.partner})" if answer.name else question.partner
    lines = [
        f"{verdict}: {_subject(explanation)}, with {visible(partner)}, through {question.via} {question.direction}"
    ]
    lines += [f"  {_step(step)}" for step in explanation.chain]
    if explanation.also:
        lines.append("Also bearing on it:")
        lines += [f"  {_step(step)}" for step in explanation.also]
    if explanation.assumptions:
        lines.append("Assumed (docs/explain.md):")
        lines += [f"  - {visible(note)}" for note in explanation.assumptions]
    return "\n".join(lines) + "\n"


def _subject(explanation: Explanation) -> str:
    subject, route = explanation.question.subject, explanation.route
    users, apps = route.users_of, route.apps_of
    who = f"user {subject.user} of {users}" if subject.user else f"a user of {users}"
    if subject.groups:
        who += f", in group(s) {', '.join(subject.groups)}"
    elif not subject.user:
        who += " whom no target names"
    what = f"application {subject.app}" if subject.app else "an application no target names"
    return visible(f"{who} -> {what} of {apps}")


def _step(step: Step) -> str:
    origin = f" [{step.origin}: {step.where}]" if step.origin else ""
    return visible(f"{step.setting}{origin}: {step.says}")


def explanations_json(answers: list[Answered]) -> str:
    """One answer as an indented object; several (--questions) as JSON Lines, one per line."""
    objects = [_json(answer) for answer in answers]
    if len(objects) == 1:
        return json.dumps(objects[0], indent=2) + "\n"
    return "".join(json.dumps(each, separators=(",", ":")) + "\n" for each in objects)


def _json(answer: Answered) -> dict[str, Any]:
    explanation = answer.explanation
    question = explanation.question
    subject = question.subject
    return {
        "version": FORMAT_VERSION,
        "verdict": explanation.verdict,
        "partner": question.partner,
        "name": answer.name,
        "via": question.via,
        "direction": question.direction,
        "subject": {"user": subject.user, "groups": list(subject.groups), "app": subject.app},
        "chain": [_json_step(step) for step in explanation.chain],
        "alsoApplies": [_json_step(step) for step in explanation.also],
        "assumptions": list(explanation.assumptions),
    }


def _json_step(step: Step) -> dict[str, str | None]:
    return {"setting": step.setting, "from": step.origin or None, "where": step.where or None, "says": step.says}

"""`xtap schema`: the JSON Schemas editors and CI check policy files with, made from the models.

The committed schemas/ are exactly what xtap generates now; every example in policies/ names
its schema in a modeline and validates against it with check-jsonschema, as CI runs it; and
every bad file of the CLI tests is rejected by its schema, or is listed here as beyond JSON
Schema, with what check-jsonschema makes of it instead.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from support.bad_files import BROKEN, CASES, RESOURCE_CASES
from support.import_log import heavy, imported
from support.workflow_steps import ROOT, VENV_BIN, Runner
from support.xtap import run_xtap

SCHEMAS = ROOT / "schemas"
EXAMPLES = ROOT / "policies"
MODELINE = re.compile(r"\A# yaml-language-server: \$schema=(\S+)\n")

# Every bad file of the CLI tests, by "module: case": (its path under policies/, its text).
BAD_FILES: dict[str, tuple[str, str]] = {
    **{f"test_cli: {case}": ("partners/broken.yaml", text) for case, (text, _, _) in BROKEN.items()},
    **{f"test_validate_cli: {case}": ("partners/p.yaml", text) for case, (text, _) in CASES.items()},
    **{f"test_validate_cli: {case}": (file, text) for case, (file, text, _) in RESOURCE_CASES.items()},
}
# What JSON Schema cannot see, because the problem is in the YAML, not in the data it holds:
# check-jsonschema cannot parse these ("parse") ...
UNPARSED = {
    "test_cli: syntax",
    "test_cli: two documents",
    "test_cli: code-running tag",
    "test_validate_cli: python object",
    "test_validate_cli: !custom",
}
# ... reads these as valid data ("accepted": an explicit tag on a value of the right type, a
# date where any value goes, the loader's 1 MiB bound) ...
ACCEPTED = {
    "test_validate_cli: !!bool yes",
    "test_validate_cli: !!null nope",
    "test_validate_cli: !!str",
    "test_validate_cli: !!int",
    "test_validate_cli: verbatim",
    "test_validate_cli: non-specific",
    "test_validate_cli: tagged mapping",
    "test_validate_cli: date",
    "test_validate_cli: over 1 MiB",
}
# ... and fails on these as a program does (a RecursionError, a segfault): the loader's depth
# bound is what stops them.
TOO_DEEP = {"test_validate_cli: deep brackets", "test_validate_cli: deeper brackets"}


def schema_for(file: str) -> Path:
    """The schema a policy file's modeline names: partners share one, a singleton has its own."""
    name = "partner" if file.startswith("partners/") else Path(file).stem
    return SCHEMAS / f"{name}.schema.json"


def check(schema: Path, files: list[Path]) -> dict[Path, str]:
    """check-jsonschema's verdict on each file, in one run: "rejected" by the schema, "parse"
    when it cannot read the file as YAML, "accepted" otherwise."""
    done = subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "-o", "json", "--schemafile", str(schema), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    rejected = {error["filename"] for error in report.get("errors", [])}
    unparsed = {error["filename"] for error in report.get("parse_errors", [])}
    assert done.returncode == (0 if not rejected | unparsed else 1), done.stderr
    return {
        path: "rejected" if str(path) in rejected else "parse" if str(path) in unparsed else "accepted"
        for path in files
    }


def test_the_committed_schemas_are_what_xtap_schema_generates_now(tmp_path: Path) -> None:
    written = run_xtap("schema", "--out", str(tmp_path / "schemas"))
    assert written.code == 0, written.stderr
    generated = {path.name: path.read_text() for path in (tmp_path / "schemas").iterdir()}
    committed = {path.name: path.read_text() for path in SCHEMAS.iterdir()}
    assert generated == committed, "stale schemas/: run `xtap schema --out schemas` and commit the result"
    assert set(committed) == {
        "partner.schema.json",
        "default.schema.json",
        "mto-partner-template.schema.json",
        "mto-identity-sync-template.schema.json",
        "policy.schema.json",
        "xtap.schema.json",
    }
    printed = run_xtap("schema")
    assert printed.code == 0, printed.stderr
    as_files = {f"{name}.schema.json": schema for name, schema in json.loads(printed.stdout).items()}
    assert as_files == {name: json.loads(text) for name, text in committed.items()}


def test_schema_is_offline_and_imports_nothing_graph_needs() -> None:
    assert heavy(imported("schema")) == []


def test_an_out_folder_that_cannot_be_made_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = run_xtap("schema", "--out", str(tmp_path / "file" / "schemas"))
    assert result.code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"Error: cannot write the schemas to {tmp_path}/file/schemas: Not a directory"
    ]


def test_every_example_names_its_schema_in_a_modeline_and_validates() -> None:
    examples = sorted(EXAMPLES.rglob("*.yaml"))
    assert len(examples) == 5
    for example in examples:
        modeline = MODELINE.match(example.read_text())
        assert modeline is not None, f"{example} does not start with a yaml-language-server modeline"
        named = (example.parent / modeline.group(1)).resolve()
        assert named == schema_for(str(example.relative_to(EXAMPLES))), example
        assert check(named, [example]) == {example: "accepted"}


def test_ci_checks_the_examples_and_fails_on_a_bad_one(tmp_path: Path) -> None:
    passed = Runner(ROOT, tmp_path).run("ci.yml", "workflows", "schemas")
    assert passed.code == 0, passed.log
    assert passed.log.count("ok -- validation done") == 5
    for folder in ("schemas", "policies"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "policies" / "partners" / "typo.yaml").write_text(BAD_FILES["test_cli: mis-cased key"][1])
    failed = Runner(tmp_path, tmp_path).run("ci.yml", "workflows", "schemas")
    assert failed.code == 1
    assert "policies/partners/typo.yaml" in failed.log and "'B2bCollaborationInbound' was unexpected" in failed.log


def test_each_bad_file_is_rejected_by_its_schema_or_is_beyond_json_schema(tmp_path: Path) -> None:
    """Done-when 3: the schemas reject each bad-input case's file, except those whose problem
    is in the YAML itself, which check-jsonschema cannot parse, reads as valid data, or cannot
    read at all; for those the loader's own checks are the only guard."""
    assert set(BAD_FILES) >= UNPARSED | ACCEPTED | TOO_DEEP
    by_schema: dict[Path, dict[Path, str]] = {}
    for n, (case, (file, text)) in enumerate(sorted(BAD_FILES.items())):
        path = tmp_path / f"{n}-{Path(file).name}"
        path.write_text(text)
        if case in TOO_DEEP:
            done = subprocess.run(
                [str(VENV_BIN / "check-jsonschema"), "--schemafile", str(schema_for(file)), str(path)],
                capture_output=True,
                timeout=60,
            )
            assert done.returncode != 0 and b"ok -- validation done" not in done.stdout, case
        else:
            by_schema.setdefault(schema_for(file), {})[path] = case
    verdicts = {
        cases[path]: verdict
        for schema, cases in by_schema.items()
        for path, verdict in check(schema, list(cases)).items()
    }
    expected = {
        case: "parse" if case in UNPARSED else "accepted" if case in ACCEPTED else "rejected" for case in verdicts
    }
    assert verdicts == expected
    assert list(verdicts.values()).count("rejected") >= 25


def validate_and_check(tmp_path: Path, file: str, texts: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each text as `file` of its own policies/ folder: what `xtap validate` and what its schema
    make of it, "accepted" or "rejected"."""
    verdicts: dict[str, str] = {}
    paths: dict[Path, str] = {}
    for n, (name, text) in enumerate(texts.items()):
        path = tmp_path / str(n) / file
        path.parent.mkdir(parents=True)
        path.write_text(text)
        paths[path] = name
        code = run_xtap("validate", "--policies", str(tmp_path / str(n))).code
        verdicts[name] = {0: "accepted", 1: "rejected"}[code]
    checked = check(schema_for(file), list(paths))
    return {name: (verdicts[name], checked[path]) for path, name in paths.items()}


LEVELS = {
    "newPartners,existingPartners": "accepted",
    " existingPartners , newPartners,newPartners": "accepted",
    "none": "accepted",
    "none,newPartners": "rejected",
    "newPartners, unknownFutureValue": "rejected",
    "newPartners,everyone": "rejected",
    "newPartners,": "rejected",
}


def test_template_flags_are_checked_as_the_loader_checks_them(tmp_path: Path) -> None:
    texts = {level: f"templateApplicationLevel: {json.dumps(level)}\n" for level in LEVELS}
    found = validate_and_check(tmp_path, "mto-identity-sync-template.yaml", texts)
    assert found == {level: (verdict, verdict) for level, verdict in LEVELS.items()}


TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
MICROSOFT_ACCOUNTS = "9188040d-6c67-4c5b-b112-36a304b66dad"


def blocking(target: str, target_type: str, access: str = "blocked") -> str:
    return f"{{accessType: {access}, targets: [{{target: {target}, targetType: {target_type}}}]}}"


def setting(name: str, users: str, apps: str | None = None, tenant: str = TENANT) -> str:
    return f"tenantId: {tenant}\n{name}:\n  usersAndGroups: {users}\n" + (f"  applications: {apps}\n" if apps else "")


# The rules across properties (Entra's admin-center rules), each way: name -> (partner file, verdict).
ACROSS = {
    "blocking a group, not all apps": (
        setting("b2bCollaborationInbound", blocking(GROUP, "group"), blocking("Office365", "application", "allowed")),
        "accepted",
    ),
    "blocking all users, and all apps": (
        setting("b2bDirectConnectOutbound", blocking("AllUsers", "user"), blocking("AllApplications", "application")),
        "accepted",
    ),
    "blocking all users, applications left out": (
        setting("b2bCollaborationOutbound", blocking("AllUsers", "user")),
        "accepted",
    ),
    "blocking all users, not all apps": (
        setting(
            "b2bCollaborationInbound", blocking("AllUsers", "user"), blocking("Office365", "application", "allowed")
        ),
        "rejected",
    ),
    "tenant restrictions blocking all apps, not all users": (
        setting(
            "tenantRestrictions", blocking("AllUsers", "user", "allowed"), blocking("AllApplications", "application")
        ),
        "rejected",
    ),
    "Microsoft Accounts restricting a group": (
        setting("tenantRestrictions", blocking(GROUP, "group"), tenant=MICROSOFT_ACCOUNTS.upper()),
        "rejected",
    ),
    "Microsoft Accounts restricting all users": (
        setting(
            "tenantRestrictions",
            blocking("AllUsers", "user"),
            blocking("AllApplications", "application"),
            tenant=MICROSOFT_ACCOUNTS,
        ),
        "accepted",
    ),
    "another tenant restricting a group": (setting("tenantRestrictions", blocking(GROUP, "group")), "accepted"),
}


def test_rules_across_properties_are_checked_as_the_loader_checks_them(tmp_path: Path) -> None:
    found = validate_and_check(tmp_path, "partners/p.yaml", {name: text for name, (text, _) in ACROSS.items()})
    assert found == {name: (verdict, verdict) for name, (_, verdict) in ACROSS.items()}

"""One file read into plain data with its positions, before any model is involved: what YAML
gives each plain value, which positions a first reading keeps, and where a later report points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import Resolver

from reconciler.policies.problems import Problem
from reconciler.policies.reader import (
    MAX_DEPTH,
    TOP_LEVEL,
    Doc,
    _as_block,
    _as_json,
    _plain,
    _read,
    every_position,
    parse,
    positions,
)

FILE = """\
# leading comment
name: x
count: 0x10
flags: [yes, on, true, ~, 1_000, 1.5]
nested:
  inner:
    deep: value
"""


def read(tmp_path: Path, text: str) -> tuple[object, list[str]]:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    problems: list[Problem] = []
    doc = parse(path, problems)
    return None if doc is None else doc.data, [str(problem).removeprefix(f"{path}:") for problem in problems]


def test_plain_values_are_yaml_1_2_core_types(tmp_path: Path) -> None:
    data, found = read(tmp_path, FILE)
    assert found == []
    assert data == {
        "name": "x",
        "count": 16,
        "flags": ["yes", "on", True, None, 1000, 1.5],
        "nested": {"inner": {"deep": "value"}},
    }


SCALARS = ["", "~", "null", "NULL", "true", "False", "yes", "on", "0x1f", "0o17", "017", "-1_000", "+1", "1.5", ".5"]
SCALARS += ["1e3", "-.Inf", ".NaN", "2001-12-14", "<<", "=", "-", ".", "0000001f-dddd-4eee-8fff-000000000001"]


@given(st.sampled_from(SCALARS) | st.text("01-+._:eExXoObnNtTfFlsaA~<=9 ", max_size=8))
def test_a_plain_scalar_is_the_type_ruamel_s_resolver_gives_it(text: str) -> None:
    kind = str(Resolver().resolve(ScalarNode, text, (True, False)).suffix).removeprefix("tag:yaml.org,2002:")
    assert _plain.__wrapped__(text)[0] == kind


def test_a_first_reading_keeps_the_top_level_positions_and_a_second_every_one(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(FILE)
    doc = parse(path, [])
    assert doc is not None
    assert doc.source() == f"{path}:2"  # the first key, after the comment
    assert doc.source("nested") == f"{path}:5"
    assert ("nested", "inner") not in doc.key_marks
    assert doc.position(("nested", "inner", "deep"), on_key=True) == (5, 1)  # its nearest kept ancestor
    assert every_position(doc).position(("nested", "inner", "deep"), on_key=True) == (7, 5)


def test_positions_of_a_valid_file_point_at_each_key_or_its_nearest_written_ancestor(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(FILE)
    assert positions(str(path), [("flags", 2), ("nested", "inner", "missing"), ("name",)]) == {
        ("flags", 2): (4, 18),  # a list item has no key: where the item starts
        ("nested", "inner", "missing"): (6, 3),
        ("name",): (2, 1),
    }
    assert positions(str(path), []) == {}
    assert positions(str(tmp_path / "gone.yaml"), [("name",)]) == {("name",): (1, 1)}


def test_what_yaml_may_hold_and_a_policy_may_not_is_a_problem_where_it_stands(tmp_path: Path) -> None:
    _, found = read(tmp_path, "a: !!str x\nb: 2026-11-24\nc: &x 1\nd: *x\n")
    assert found == [
        "1:4: explicit YAML tags are not allowed: write the plain value",
        "2:4: unsupported YAML value '2026-11-24': quote it to make it a string",
        "4:4: YAML aliases (*name) are not supported: write the value out",
    ]


def test_nesting_stops_at_the_cap_and_a_second_document_is_refused(tmp_path: Path) -> None:
    _, found = read(tmp_path, "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert found == [f"1:{4 + MAX_DEPTH - 1}: nested deeper than {MAX_DEPTH} levels, the limit for a policy file"]
    _, found = read(tmp_path, "a: 1\n---\nb: 2\n")
    assert found == ["2:1: a policy file is a single document: remove the second one"]


def test_a_file_with_no_document_is_what_its_reader_says_it_means(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("# only a comment\n")
    assert parse(path, [], empty_means={}) is not None
    problems: list[Problem] = []
    assert parse(path, problems) is None
    assert [problem.message for problem in problems] == ["empty: a policy file holds one mapping (key: value lines)"]


def test_a_tab_in_the_indentation_is_said_at_the_tab_in_the_author_s_words(tmp_path: Path) -> None:
    """libyaml says "found character that cannot start any token", or that a tab "violates
    indentation", and names no fix; both are the same mistake."""
    fix = "YAML indents with spaces; replace the tab with spaces"
    assert read(tmp_path, "a:\n\tb: 1\n") == (None, [f"2:1: a tab at line 2 col 1: {fix}"])
    assert read(tmp_path, "a:\n  b: 1\n  \tc: 2\n") == (None, [f"3:3: a tab at line 3 col 3: {fix}"])
    assert read(tmp_path, "a:\t1\n") == ({"a": 1}, [])  # a tab that is not indentation is fine
    assert read(tmp_path, "a: [1\n")[1] == [
        "2:1: YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'"
    ]


def test_a_byte_that_is_not_utf8_is_said_at_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n" + "# déjà ".encode() + b"\xe9t\xe9\n")
    problems: list[Problem] = []
    assert parse(path, problems) is None
    # columns count characters, as an editor does: "# déjà " is 7 of them, 9 bytes
    assert [str(problem).removeprefix(f"{path}:") for problem in problems] == [
        "2:8: byte 0xe9 is not UTF-8: save the file as UTF-8"
    ]


def test_an_empty_file_and_a_file_that_is_not_a_mapping_are_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    for text, message in [
        ("", "1:1: needs tenantId"),
        ("- a\n- b\n", "1:1: a policy file holds one mapping (key: value lines), not a list"),
        ("null\n", "1:1: a policy file holds one mapping (key: value lines), not null"),
        ("# x\n'a b'\n", "2:1: a policy file holds one mapping (key: value lines), not 'a b'"),
    ]:
        path.write_text(text)
        problems: list[Problem] = []
        assert parse(path, problems, empty="needs tenantId") is None
        assert [str(problem).removeprefix(f"{path}:") for problem in problems] == [message]


JSON_FILES = [
    '# partner\n{"tenantId": "a", "inboundTrust": {"isMfaAccepted": true}, "n": [1, 2.5, null, "é\\u00e9"]}\n',
    '\n  # two comment lines\n{\n  "a": {"b": [\n    {"c": "x\\/y"}]},\n  "d": -0, "e": 1.50,\n}\n\n',
    '{"a": ' + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "}",
]
# Read by the YAML reader only, which says what is wrong where something is.
NOT_PLAIN_JSON = [
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "b": 2}}',
    '{"a": 1e5, "b": NaN}',
    '{"a": 1} # a comment after it',
    '{"a": 1}\n...\n',
    '{\t"a": 1}',
    '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}",
    "{}",
    '{"a": 1',
]


def test_a_json_file_reads_as_the_yaml_reader_reads_it(tmp_path: Path) -> None:
    """JSON is read at C speed, with the same data and top-level positions; anything JSON and
    YAML might read apart goes to the YAML reader."""
    for n, text in enumerate(JSON_FILES + NOT_PLAIN_JSON):
        path = tmp_path / f"p{n}.yaml"
        path.write_text(text)
        as_json = Doc(str(path), text, TOP_LEVEL)
        as_yaml = Doc(str(path), text, TOP_LEVEL)
        problems = _read(as_yaml)
        assert _as_json(as_json) is (text in JSON_FILES), text
        if text in JSON_FILES:
            assert problems == []
            assert (as_json.data, as_json.key_marks, as_json.value_marks) == (
                as_yaml.data,
                as_yaml.key_marks,
                as_yaml.value_marks,
            )
        parsed = parse(path, found := [])
        assert (parsed is None) == bool(problems) and found == problems


def _ruamel(text: str, kept: int) -> tuple[Doc, list[Problem]]:
    """`text` read by the YAML reader alone, the block-subset reading turned off."""
    doc = Doc("f.yaml", text, kept)
    with patch("reconciler.policies.reader._as_block", return_value=False):
        return doc, _read(doc)


def _same_as_ruamel(text: str) -> bool:
    """Whether the block-subset reading took `text`; where it did, at every depth of positions
    kept, it read what the YAML reader reads, which found no problem."""
    taken = []
    for kept in (TOP_LEVEL, 2, MAX_DEPTH):
        block = Doc("f.yaml", text, kept)
        taken.append(_as_block(block))
        if taken[-1]:
            by_yaml, problems = _ruamel(text, kept)
            assert problems == [], text
            assert (block.data, block.key_marks, block.value_marks) == (
                by_yaml.data,
                by_yaml.key_marks,
                by_yaml.value_marks,
            ), text
    assert len(set(taken)) == 1, text
    return taken[0]


PARTNER_FILE = """\
# partner 1
b2bCollaborationInbound:
  applications:
    accessType: allowed   # trailing comment
    targets:
    - target: AllApplications
      targetType: application
  usersAndGroups:
      accessType: 'it''s'
      targets:
        -   target: "0000001f-dddd-4eee-8fff-000000000001"
            targetType: group
        - target: x#y
          targetType: https://a.b/c
isMfaAccepted: false
list:
- 1
- -2.5
- ~
tenantId: 00000001-0000-4000-8000-000000001eef
"""


def test_a_block_style_file_is_read_without_libyaml_events_as_they_would_read_it() -> None:
    assert _same_as_ruamel(PARTNER_FILE)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !!str 1\n",  # tags
        "a: [1, 2]\n",  # flow collections
        "a: {b: 1}\n",
        "a: foo\n  bar\n",  # a plain scalar over two lines
        "a: |\n  text\n",  # block scalars
        "a:\nb: 1\n",  # a key with no value: null
        "a: 1\na: 2\n",  # a duplicate key
        "'a': 1\n",  # a quoted key
        "1: x\n",  # a key that is not a string
        "a: 2026-11-24\n",  # a YAML 1.1 date
        'a: "x\\ty"\n',  # an escape
        "a: 1\n---\nb: 2\n",  # a second document
        "- a\n- b\n",  # not a mapping
        "  a: 1\nb: 2\n",  # a second node at the top
        "a:\n  - - x\n",  # a sequence in a sequence
        "a: 1\n\tb: 2\n",  # a tab
        "a: 1\r\n",  # a carriage return
        "\ufeffa: 1\n",  # a byte order mark
        "a: b: c\n",  # a mapping value where none may be
        "a:\n  b: 1\n c: 2\n",  # an indent that matches nothing open
        "# only a comment\n",
        "",
    ],
)
def test_anything_outside_the_block_subset_is_left_to_the_yaml_reader(text: str) -> None:
    assert not _same_as_ruamel(text)


# Lines shaped like the subset's, of pieces that may or may not keep them in it.
_TOKENS = st.sampled_from(
    [
        "",
        "a",
        "k-1",
        "x y",
        "1",
        "-1",
        "-",
        "true",
        "null",
        "~",
        "0x1F",
        ":",
        "a:b",
        "a: b",
        "a #c",
        "a#c",
        "'q'",
        "'it''s'",
        "'",
        '"d"',
        '"e\\"',
        "&a",
        "*a",
        "!x",
        "[1]",
        "{}",
        "? x",
        "---",
        "|",
        ">",
        "@x",
        "%",
        "`",
        "é",
        "\t",
    ]
)
_EDITS = st.lists(st.tuples(st.integers(0, PARTNER_FILE.count("\n")), st.integers(0, 50), _TOKENS), max_size=3)


def _edited(edits: list[tuple[int, int, str]]) -> str:
    """PARTNER_FILE with each token put in at a line and column, or over the rest of the line."""
    lines = PARTNER_FILE.split("\n")
    for line, col, token in edits:
        written = lines[line]
        lines[line] = written[:col] + token + (written[col:] if col % 2 else "")
    return "\n".join(lines)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EDITS.map(_edited))
def test_whatever_the_block_subset_reading_takes_it_reads_as_the_yaml_reader(text: str) -> None:
    _same_as_ruamel(text)


_SCALARS = st.one_of(
    st.sampled_from([None, True, False, 0, -3, 2.5, "AllUsers", "x y", "it's", "a#b", "http://x/y", "yes", "é"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
_NAMES = st.sampled_from(["a", "b", "targets", "accessType", "tenant_id", "x.y", "$k", "k-1"])
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3), st.dictionaries(_NAMES, inner, min_size=1, max_size=3)
    ),
    max_leaves=12,
)


def _scalar(value: Any, style: int) -> str:
    if isinstance(value, str) and style == 1:
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, str) and style == 2:
        return json.dumps(value, ensure_ascii=False)
    return "~" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _block_yaml(value: Any, indent: int, step: int, draw: Any) -> list[str]:
    """`value` written as block YAML, in the styles an author might pick (the indent, an indented
    sequence or not, quoting, comments)."""
    pad = " " * indent
    lines = []
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for key, item in items:
        head = f"{pad}{key}:" if isinstance(value, dict) else f"{pad}-{' ' * draw(st.integers(1, 3))}"
        if draw(st.booleans()):
            lines.append(f"{pad}# comment")
        if isinstance(item, (dict, list)) and item:
            if isinstance(value, list) and isinstance(item, dict):
                inner = _block_yaml(item, len(head), step, draw)
                lines.append(head + inner[0].lstrip(" "))
                lines.extend(inner[1:])
                continue
            if isinstance(value, list):
                return ["[unsupported]"]
            lines.append(head)
            nested = indent if isinstance(item, list) and draw(st.booleans()) else indent + step
            lines.extend(_block_yaml(item, nested, step, draw))
        else:
            space = " " if isinstance(value, dict) else ""
            trailing = draw(st.sampled_from(["", "  ", " # note"]))
            lines.append(f"{head}{space}{_scalar(item, draw(st.integers(0, 2)))}{trailing}")
    return lines


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_NAMES, _DATA, min_size=1, max_size=4), st.data())
def test_generated_block_files_read_as_the_yaml_reader_reads_them(data: dict[str, Any], draw: st.DataObject) -> None:
    text = "\n".join(_block_yaml(data, 0, draw.draw(st.sampled_from([2, 4])), draw.draw)) + "\n"
    _same_as_ruamel(text)

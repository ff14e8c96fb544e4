"""The bounds on a rule of your own, checked by `cel_expr`'s scanner before the CEL crate sees
the rule: a hostile xtap.yaml from a pull request (a rule the crate's parser overflows its stack
on, or panics on) is one `xtap.yaml:line:col` problem naming the rule and the bound, in every
command, with no traceback and no signal. The scanner reads strings and comments as the crate's
lexer does, which a property test checks against the crate itself; a fuzz test throws random
text, bracket structures and operator chains at the loader, which must answer each with a
problem or accept it, never anything else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.xtap import examples, run_xtap

from reconciler.core import cel as cel_expr
from reconciler.core.cel import MAX_BYTES, MAX_DEPTH, MAX_OPERATORS, bounded, shape
from reconciler.policies.load import PolicyError, load_settings

PARTNER = "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nxtap:\n  trusted: true\n"


def settings_with(expression: str) -> str:
    """xtap.yaml with one rule of your own; the expression, JSON-quoted, starts at 3:17."""
    return f"rules:\n  hostile:\n    expression: {json.dumps(expression)}\n    message: never true\n"


def folder(root: Path, expression: str) -> Path:
    policies = root / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "partners" / "fabrikam.yaml").write_text(PARTNER)
    (policies / "xtap.yaml").write_text(settings_with(expression))
    return policies


# Each as it came in a pull request, before the bounds: the crate overflowed its stack on the
# first (SIGSEGV, exit 139: evaluating it in check; parsing it in every command from 30,000
# terms) and panicked on the second (a traceback: pyo3's PanicException is no Exception).
# Within the size bound, the other two bounds each stop a rule alone.
TERMS = " + ".join(["1"] * 20_000) + " == 2"
PARENTHESES = "(" * 100_000 + "true" + ")" * 100_000
SPLIT, SIMPLIFY = "split the rule into several", "simplify it"
HOSTILE = {
    "20,000 terms": (TERMS, f"is {len(TERMS)} bytes, over the bound of 4096: {SPLIT}"),
    "100,000 parentheses": (PARENTHESES, f"is {len(PARENTHESES)} bytes, over the bound of 4096: {SPLIT}"),
    "33 brackets deep": ("[" * 33 + "true" + "]" * 33, f"nests brackets 33 deep, over the bound of 32: {SIMPLIFY}"),
    "257 operators": ("x" + ".a" * 257, f"has 257 operators, over the bound of 256: {SPLIT}"),
}
# The two that crashed xtap run in a process of their own: were a bound lost, the crash must fail
# the test with its exit code, not take the test process down.
CRASHED = {"20,000 terms", "100,000 parentheses"}


@pytest.mark.parametrize("command", ["validate", "check", "plan"])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_rule_over_a_bound_is_one_problem_at_its_line(tmp_path: Path, command: str, case: str) -> None:
    expression, bound = HOSTILE[case]
    policies = folder(tmp_path, expression)
    # plan: Graph is a closed port, never reached
    run = run_xtap(command, "--policies", str(policies), subprocess=case in CRASHED)
    assert run.code == 1, run.stderr[-2000:]  # not 139 (SIGSEGV) nor -11
    first, summary = run.stderr.splitlines()
    assert first == f"{policies}/xtap.yaml:3:17: rule 'hostile': CEL expression {bound}"
    assert summary.startswith(f"1 problem(s) in {policies}") and run.stdout == ""


def test_rules_at_the_bounds_pass_them_and_compile() -> None:
    """The bounds leave room: each is reached, not passed, by an expression that compiles."""
    for expression in (
        "[" * MAX_DEPTH + "true" + "]" * MAX_DEPTH,
        " + ".join(["1"] * MAX_OPERATORS) + " == 256",  # 255 additions and a comparison
        "'" + "x" * (MAX_BYTES - 2) + "'",
    ):
        bounded(expression)
        cel.compile(expression)


def test_a_panic_while_compiling_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a rule within the bounds ever make the crate panic, it is still a problem at the
    rule: pyo3's PanicException is a BaseException, which `except Exception` lets through. (The
    bounds turned off here, a known panic stands in for an unknown one.)"""
    monkeypatch.setattr(cel_expr, "bounded", lambda expression: None)
    with pytest.raises(ValueError, match=r"^the CEL library failed on this expression \(PanicException: "):
        cel_expr.compile_expression(PARENTHESES)


@pytest.mark.parametrize(
    ("expression", "depth", "operators"),
    [
        ("resource.inboundTrust == null || !resource.inboundTrust.isMfaAccepted", 0, 6),
        ("'(((' + \"[[[\" + '''{{{''' + \"\"\"(((\"\"\"", 0, 3),
        ("r'\\' + (1)", 1, 2),  # a raw string ends at its quote, backslash or not
        ("'\\'(' + (1)", 1, 2),  # an escaped quote does not end one
        ("b'((' + br'\\(' + B\"((\" + rB'(('", 0, 3),
        ("rb'(('", 0, 0),  # not a prefix: `rb` is a name, then a string
        ("// ((( a comment\n(1)", 1, 1),
        ("x.`a//b` + (1)", 1, 3),  # a backquoted name, not a comment
        ("'a\n((((", 4, 4),  # a string does not span lines: the lexer skips past the line break
        ("'a\\q' + ((1))", 0, 0),  # \q is no escape: the lexer skips `'a\q`, then `' + ((1))` is a string
        ("'''abc ((", 0, 0),  # `''` then an unterminated string
        ("1.5 + .5e-3 - 0x1Fu * 2u", 0, 3),  # numbers: their dots and signs are no operators
        ("x.a[0].b(1, {2: 3})", 2, 5),
        ("a in b && c", 0, 2),
    ],
)
def test_the_scanner_counts_what_the_parser_sees(expression: str, depth: int, operators: int) -> None:
    found = shape(expression)
    assert (found.depth, found.operators) == (depth, operators)


# --- the scanner against the crate, and the loader against anything ------------------------------

# Pieces of string literals, escapes, comments and line breaks, in any order: each way the lexer
# could read a stretch of text as a string where the scanner reads code, or the other way round.
QUOTING = ["'", '"', "'''", '"""', "\\", "\\x4", "\\u00", "\\0", "\\n", "r", "R", "b", "B", "br", "`", "//", "/"]
LEXER_NOISE = st.lists(
    st.sampled_from([*QUOTING, "\n", " ", "x", ".", "0", "1e", "+", "(", ")", "u", "a"]), max_size=14
).map("".join)


@settings(max_examples=300, deadline=None)
@given(before=LEXER_NOISE, after=LEXER_NOISE)
def test_what_the_parser_finds_too_deep_the_scanner_finds_over_the_bound(before: str, after: str) -> None:
    """The crate refuses brackets nested 96 deep or more (its own recursion limit; safe to reach
    on this thread's stack). Wherever its lexer reads 100 parentheses as code, after and before
    any noise, the scanner must too: else a string or comment it imagines would hide code."""
    expression = before + "(" * 100 + "1" + ")" * 100 + after
    try:
        cel.compile(expression)
    except ValueError as exc:
        if "Recursion limit" in str(exc):
            assert shape(expression).depth > MAX_DEPTH


OPERATORS = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in", ".", "!", "?", ":"]
OPERANDS = ["1", "x", "true", "'s'", "[]", "{}", "null", "1.5", "2u", "x.y", "f()"]


@st.composite
def brackets(draw: st.DrawFn) -> str:
    """Brackets nested up to 60 deep, each level with a random operand and operator, sometimes
    left unclosed or closed by the wrong bracket."""
    depth = draw(st.integers(0, 60))
    pairs = [draw(st.sampled_from(["()", "[]", "{}", "f()", "x[]"])) for _ in range(depth)]
    inner = draw(st.sampled_from(OPERANDS))
    for pair in reversed(pairs):
        operator = draw(st.sampled_from(OPERATORS))
        closing = draw(st.sampled_from([pair[-1], pair[-1], ")", ""]))
        inner = f"{pair[:-1]}{draw(st.sampled_from(OPERANDS))} {operator} {inner}{closing}"
    return inner


@st.composite
def chains(draw: st.DrawFn) -> str:
    """Up to 400 operators in a row between operands: the chains the parser recursed on."""
    count = draw(st.integers(1, 400))
    operators = draw(st.lists(st.sampled_from(OPERATORS), min_size=1, max_size=4))
    operands = draw(st.lists(st.sampled_from(OPERANDS), min_size=1, max_size=4))
    return operands[0] + "".join(
        f" {operators[i % len(operators)]} {operands[i % len(operands)]}" for i in range(count)
    )


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=st.one_of(st.text(max_size=300), brackets(), chains(), LEXER_NOISE))
def test_any_expression_is_a_clean_problem_or_a_rule(expression: str) -> None:
    """Through the loader, as xtap.yaml arrives: the outcome is a rule or a problem at a
    position, never another exception (the crate's panic, a RecursionError, ...) nor a crash."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "xtap.yaml").write_text(settings_with(expression), encoding="utf-8")
        try:
            loaded = load_settings(root)
        except PolicyError as exc:
            assert exc.problems and all(problem.file.endswith("xtap.yaml") for problem in exc.problems)
        else:
            assert "hostile" in loaded.rules

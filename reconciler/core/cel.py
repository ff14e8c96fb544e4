"""CEL, the expression language of the rules of your own (as Kubernetes admission policies use
it), through `common-expression-language`: bindings to the Rust `cel` crate. CEL has no I/O and
no unbounded loops (comprehensions walk the input once), so a rule from a pull request can read
the resource and nothing else.

It can still crash or stall the process that runs it: the crate parses and evaluates by
recursion, so a long chain of operators overflows the stack (SIGSEGV, on an 8 MiB stack:
20,000 `1 + 1 + …` evaluated, 30,000 parsed), a deep nesting of brackets panics (100,000
parentheses), and three nested `.all()` over 400-element lists run for hours while holding the
GIL. So an expression is measured here, by a scanner of our own, before the crate sees it
(`bounded`), and evaluated in a worker process under a budget (`check.worker`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cel

# The binding words a parse error as "Failed to parse expression '…': ERROR: <input>:L:C: what\n| …".
PARSE_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): ([^\n]*)")

# Bounds on a rule's source, checked before the crate parses it (docs/security.md says why each).
# A rule that says what it checks takes 50 to 300 bytes, 2 to 5 levels of brackets and 5 to 30
# operators. Measured on the crate (0.10), the worst expressions within these bounds need at
# most 512 KiB of stack to parse and evaluate; a Linux thread has 8 MiB. The crate crashes
# from about 12,000 operators in a chain, and refuses brackets nested 96 deep or more.
MAX_BYTES = 4096
MAX_DEPTH = 32
MAX_OPERATORS = 256

_SPACE = " \t\r\n\f"
_TWO_CHAR_OPERATORS = frozenset({"==", "!=", "<=", ">=", "&&", "||"})
_OPERATORS = frozenset("<>+-*/%!?.")
_OPENING, _CLOSING = "([{", ")]}"
_QUOTES = "'\""
_STRING_PREFIXES = frozenset({"r", "b", "br"})  # raw, bytes, raw bytes; either case
_ESCAPED = frozenset("abfnrtv\"'\\?`")
_DIGITS = frozenset("0123456789")  # ASCII only, as in CEL.g4: `٣` is no digit to the lexer
_HEX = _DIGITS | frozenset("abcdefABCDEF")
_OCTAL = frozenset("01234567")
# After a backslash: a letter or quote, or the digits of a code (\x41, \u00e9, \U0001f600, \101).
_ESCAPE_DIGITS = {"x": (_HEX, 2), "X": (_HEX, 2), "u": (_HEX, 4), "U": (_HEX, 8)} | dict.fromkeys("0123", (_OCTAL, 2))
_ESCAPED_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/ ")


@dataclass(frozen=True)
class Shape:
    """What the parser will recurse on: the deepest nesting of brackets, and the operators
    (each of `== != < <= > >= && || in + - * / % ! ? .` and each opening bracket: a call, an
    index, a list, a map or a group), outside string literals and comments."""

    depth: int
    operators: int


def shape(expression: str) -> Shape:
    """The expression's shape, read the way the crate's lexer (ANTLR, from CEL.g4) reads it:
    string literals (quoted, triple-quoted, raw, bytes) and comments do not count, and what
    the lexer cannot read is skipped as it skips it (up to and with the character it fails
    on), so no text the parser sees as code is taken here for a string."""
    depth = deepest = operators = 0
    at, end = 0, len(expression)
    while at < end:
        char = expression[at]
        if char in _SPACE:
            at += 1
        elif expression.startswith("//", at):
            newline = expression.find("\n", at)
            at = end if newline < 0 else newline
        elif char.isascii() and (char.isalpha() or char == "_"):
            word_end = _word_end(expression, at)
            word = expression[at:word_end]
            literal = None
            if word.lower() in _STRING_PREFIXES and word_end < end and expression[word_end] in _QUOTES:
                literal = _string(expression, word_end, raw="r" in word.lower())[0]
            operators += word == "in"
            at = literal or word_end  # a prefix whose string does not lex is an identifier
        elif char in _QUOTES:
            literal, failed = _string(expression, at, raw=False)
            at = literal or _skipped(expression, failed)
        elif char == "`":
            at = _escaped_name(expression, at)
        elif char in _DIGITS or (char == "." and expression[at + 1 : at + 2] in _DIGITS):
            at = _number_end(expression, at)
        elif expression[at : at + 2] in _TWO_CHAR_OPERATORS:
            operators += 1
            at += 2
        else:
            if char in _OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif char in _CLOSING:
                depth = max(depth - 1, 0)
            operators += char in _OPERATORS or char in _OPENING
            at += 1  # `,` `:` and what the lexer skips (`=`, `&`, `#`, ...) count for nothing
    return Shape(deepest, operators)


def _word_end(text: str, at: int) -> int:
    while at < len(text) and text[at].isascii() and (text[at].isalnum() or text[at] == "_"):
        at += 1
    return at


def _skipped(text: str, failed: int) -> int:
    """Where the lexer goes on after a token it cannot read: past the character it failed on."""
    return min(failed + 1, len(text))


def _string(text: str, quote_at: int, raw: bool) -> tuple[int | None, int]:
    """The end of the string literal whose quote is at `quote_at`, as the lexer takes it (the
    longest literal that lexes: a triple-quoted one, else a single-quoted one, which for `'''`
    is the empty `''`), and None with where it failed when none does."""
    quote = text[quote_at]
    if text.startswith(quote * 3, quote_at):
        at = quote_at + 3
        while at < len(text):
            if text.startswith(quote * 3, at):
                return at + 3, at
            if text[at] == "\\" and not raw:
                at, valid = _escape(text, at)
                if not valid:
                    break
            else:
                at += 1
        return quote_at + 2, quote_at + 2  # the triple one does not end: `''` is the literal
    at = quote_at + 1
    while at < len(text):
        char = text[at]
        if char == quote:
            return at + 1, at
        if char in "\r\n":
            return None, at
        if char == "\\" and not raw:
            at, valid = _escape(text, at)
            if not valid:
                return None, at
        else:
            at += 1
    return None, len(text)


def _escape(text: str, at: int) -> tuple[int, bool]:
    """The end of the escape sequence at `at` (a backslash) and True, or where it fails and False."""
    kind = text[at + 1 : at + 2]
    if kind and kind in _ESCAPED:
        return at + 2, True
    if kind not in _ESCAPE_DIGITS:
        return at + 1, False
    allowed, count = _ESCAPE_DIGITS[kind]
    for digit in range(at + 2, at + 2 + count):
        if digit >= len(text) or text[digit] not in allowed:
            return digit, False
    return at + 2 + count, True


def _escaped_name(text: str, at: int) -> int:
    """A `backquoted` field name, or the skip after a backquote the lexer cannot read."""
    name_end = at + 1
    while name_end < len(text) and text[name_end] in _ESCAPED_NAME:
        name_end += 1
    if name_end > at + 1 and text[name_end : name_end + 1] == "`":
        return name_end + 1
    return _skipped(text, name_end)


def _number_end(text: str, at: int) -> int:
    """A number literal: decimal or 0x hexadecimal, a fraction and an exponent only where digits
    follow (`1.a` is a member of 1), and the `u` of an unsigned one."""
    if text.startswith("0x", at) and text[at + 2 : at + 3] in _HEX:
        at += 2
        while at < len(text) and text[at] in _HEX:
            at += 1
    else:
        at = _digits_end(text, at)
        if text[at : at + 1] == "." and text[at + 1 : at + 2] in _DIGITS:
            at = _digits_end(text, at + 1)
        if text[at : at + 1] in ("e", "E"):
            digits = at + 2 if text[at + 1 : at + 2] in ("+", "-") else at + 1
            if text[digits : digits + 1] in _DIGITS:
                at = _digits_end(text, digits)
    return at + 1 if text[at : at + 1] in ("u", "U") else at


def _digits_end(text: str, at: int) -> int:
    while at < len(text) and text[at] in _DIGITS:
        at += 1
    return at


def bounded(expression: str) -> None:
    """Raise ValueError naming the bound the expression is over, if any, before it is parsed."""
    size = len(expression.encode("utf-8"))
    if size > MAX_BYTES:
        raise ValueError(f"CEL expression is {size} bytes, over the bound of {MAX_BYTES}: split the rule into several")
    found = shape(expression)
    if found.depth > MAX_DEPTH:
        raise ValueError(
            f"CEL expression nests brackets {found.depth} deep, over the bound of {MAX_DEPTH}: simplify it"
        )
    if found.operators > MAX_OPERATORS:
        raise ValueError(
            f"CEL expression has {found.operators} operators, over the bound of {MAX_OPERATORS}: "
            "split the rule into several"
        )


def compile_expression(expression: str) -> cel.Program:
    """The compiled program; a ValueError saying which bound the expression is over, or where
    in it it does not parse."""
    bounded(expression)
    try:
        return cel.compile(expression)
    except ValueError as exc:
        found = PARSE_ERROR.search(str(exc))
        where = f" at {found[1]}:{found[2]} of the expression: {found[3]}" if found else f": {exc}"
        raise ValueError(f"CEL expression does not compile{where}") from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a panic in the crate: pyo3's PanicException is a BaseException
        raise ValueError(f"the CEL library failed on this expression ({failure(exc)}); simplify it") from None


def failure(exc: BaseException) -> str:
    """An exception of the crate in one short line."""
    first = str(exc).strip().splitlines()[:1]
    return f"{type(exc).__name__}: {first[0][:200]}" if first else type(exc).__name__


def holds(program: cel.Program, variables: dict[str, Any] | cel.Context) -> bool | str:
    """True or False, or why the expression could not be evaluated (a missing key, a type
    mismatch, a result that is not a bool): a rule that cannot say yes fails, as an admission
    policy does under failurePolicy Fail. A panic of the crate is not caught here: it is not
    the resource's fault, and `check.worker` reports it against the rule."""
    try:
        result = program.execute(variables)
    except Exception as exc:  # the binding raises KeyError, TypeError, RuntimeError, ZeroDivisionError...
        return f"{type(exc).__name__}: {exc}"
    if not isinstance(result, bool):
        return f"the expression gave {result!r}, not true or false"
    return result

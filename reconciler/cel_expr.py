"""CEL, the expression language of the rules of your own (as Kubernetes admission policies use
it), through `common-expression-language`: bindings to the Rust `cel` crate. CEL has no I/O and
no unbounded loops (comprehensions walk the input once), so a rule from a pull request can read
the resource and nothing else, and always ends.
"""

from __future__ import annotations

import re
from typing import Any

import cel

# The binding words a parse error as "Failed to parse expression '…': ERROR: <input>:L:C: what\n| …".
PARSE_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): ([^\n]*)")


def compile_expression(expression: str) -> cel.Program:
    """The compiled program; a ValueError saying where in the expression it does not parse."""
    try:
        return cel.compile(expression)
    except ValueError as exc:
        found = PARSE_ERROR.search(str(exc))
        where = f" at {found[1]}:{found[2]} of the expression: {found[3]}" if found else f": {exc}"
        raise ValueError(f"CEL expression does not compile{where}") from None


def holds(program: cel.Program, variables: dict[str, Any]) -> bool | str:
    """True or False, or why the expression could not be evaluated (a missing key, a type
    mismatch, a result that is not a bool): a rule that cannot say yes fails, as an admission
    policy does under failurePolicy Fail."""
    try:
        result = program.execute(variables)
    except Exception as exc:  # the binding raises KeyError, TypeError, RuntimeError, ZeroDivisionError...
        return f"{type(exc).__name__}: {exc}"
    if not isinstance(result, bool):
        return f"the expression gave {result!r}, not true or false"
    return result

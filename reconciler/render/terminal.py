"""What every text report shares: the SGR colours, painting only when colour is wanted,
JSON that is safe to print, clipping and counting words. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.core.escape import visible

BOLD, DIM, RED, GREEN = "1", "2", "31", "32"
# A value shown on one line (`xtap show`, a plan's settings) is clipped to this many characters;
# the JSON formats have every value whole.
SHOW_WIDTH = 140
# Paints text with an SGR parameter, or leaves it as it is when colour is off.
Paint = Callable[[str, str], str]


def painter(color: bool) -> Paint:
    """Colour is the caller's decision (a TTY, `NO_COLOR`); without it a report holds no escape
    sequence at all, so it is safe to write to files and logs."""

    def paint(text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if color else text

    return paint


def printable_json(value: Any, indent: int | None = None) -> str:
    """JSON as written to Graph, readable (non-ASCII kept) and safe to print.

    `json.dumps` escapes C0 controls inside strings, so the only raw newlines are its own line
    breaks; C1 controls and format characters are escaped line by line."""
    return "\n".join(visible(line) for line in json.dumps(value, ensure_ascii=False, indent=indent).split("\n"))


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def quantity(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"

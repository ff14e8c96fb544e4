"""The one escaping path for text from outside the program on its way to a terminal or a log.

Policy files come from pull requests, saved plans from disk, error messages from Graph, and all
of them end up in CI logs and PR comments. A control character there could move the cursor,
recolour the log, forge a line of output, start a GitHub Actions workflow command (a newline
followed by `::error::` or `::add-mask::`) or flip the direction of the text after it. So every
piece of outside text passes through `visible` before it is printed: control (Cc) and format (Cf)
characters, newlines and ESC included, become `\\uXXXX` escapes that read the same but do nothing.
"""

from __future__ import annotations

import unicodedata

# Controls, format characters (bidi overrides, zero-width), and the Unicode line and paragraph
# separators, which some viewers break lines at.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def visible(text: str) -> str:
    """`text` with every control and format character written as an escape, so it prints on one
    line and cannot act on the terminal or the CI runner."""
    if text.isprintable():  # the common case, and a fast one; all four categories are unprintable
        return text
    return "".join(_escape(char) if unicodedata.category(char) in _ESCAPED_CATEGORIES else char for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

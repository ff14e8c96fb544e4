"""The escaping paths for text from outside the program: `visible` on its way to a terminal or a
log, `markdown_text` on its way into a GitHub comment or issue, and `written`, a value a file
wrote as a message quotes it.

Policy files come from pull requests, saved plans from disk, error messages from Graph, and all
of them end up in CI logs and PR comments. A control character there could move the cursor,
recolour the log, forge a line of output, start a GitHub Actions workflow command (a newline
followed by `::error::` or `::add-mask::`) or flip the direction of the text after it. So every
piece of outside text passes through `visible` before it is printed: control (Cc) and format (Cf)
characters, newlines and ESC included, become `\\uXXXX` escapes that read the same but do nothing.
Markdown is read by GitHub as well as by people, so there outside text also passes through
`markdown_text`, which keeps it from turning into a link, an image, a tag or a mention.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Controls, format characters (bidi overrides, zero-width), and the Unicode line and paragraph
# separators, which some viewers break lines at.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def visible(text: str) -> str:
    """`text` with every control and format character written as an escape, so it prints on one
    line and cannot act on the terminal or the CI runner."""
    if text.isprintable():  # the common case, and a fast one; all four categories are unprintable
        return text
    return "".join(_escape(char) if unicodedata.category(char) in _ESCAPED_CATEGORIES else char for char in text)


# How much of a written string a message quotes: a value may be up to a file's size.
_SHOWN_CHARS = 60


def written(value: Any) -> str:
    """A value as the file wrote it, in YAML's spelling (true, null), a string quoted, escaped
    (`repr` writes a control character as an escape) and clipped; a collection by its kind,
    since it may be long."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# Characters markdown or HTML would read as markup, each written as a character reference, which
# GitHub shows as the character and never reads as markup, whether the text lands in markdown,
# in a table cell or inside an HTML element such as `<summary>` (where a backslash escape would
# show). `@` keeps a zero-width space after it, so no `@name` in outside text notifies anyone.
_MARKDOWN_ESCAPES = {ord(char): f"&#{ord(char)};" for char in "[]()*_\\`#|!~"} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord("@"): "@&#8203;",
}
# What makes a line a list item, a heading underline or a quote when it starts one.
_LINE_STARTS = ("-", "+", "=")


def markdown_text(text: str) -> str:
    """`text` as literal text in GitHub markdown or HTML: `visible`, then every character that
    could make a link, an image, a tag, emphasis, code, a heading, a table cell or a mention
    written as a character reference, and likewise what would make a list or a code block at
    the start of a line. Bare URLs stay autolinked, but their shown text is the URL itself."""
    escaped = visible(text).translate(_MARKDOWN_ESCAPES)
    body = escaped.lstrip(" ")
    indent = "&#32;" * (len(escaped) - len(body))  # four spaces would start a code block
    if body.startswith(_LINE_STARTS):
        body = f"&#{ord(body[0])};{body[1:]}"
    elif (number := re.match(r"\d+\.", body)) is not None:  # `1.` starts an ordered list
        body = f"{number.group()[:-1]}&#46;{body[number.end() :]}"
    return indent + body

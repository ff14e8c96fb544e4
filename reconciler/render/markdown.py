"""Fitting a markdown report into a GitHub comment or issue (at most 65,536 characters).

Plans and drift reports are a head (a summary table) and one block per resource: its details
(a `<details>` element) and its one-line summary. When the report is too long, details give way
to their summary line first, one by one: those of the highest rank (a plan's least risky
changes) first, and within a rank the largest first, so one giant partner cannot flatten the
whole report; only if the summary lines alone are still too long are the last ones left out,
saying how many (a caller puts what matters most first). Only whole blocks are dropped, so a
code fence or a `<details>` element is never cut open and the rest of the comment still
renders. Pure.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

# GitHub refuses comments longer than this many characters.
MARKDOWN_LIMIT = 65536


@dataclass(frozen=True)
class Block:
    """One resource: its summary as a list item, and its details (which hold the same summary
    as their `<summary>`). Details of a higher `rank` are the first to give way."""

    line: str
    details: str
    rank: int = 0


def count_table(label: str, counts: list[tuple[str, int]]) -> str:
    """The summary table at the top of a plan or drift comment: one row a kind, with its count."""
    rows = [f"| {kind} | {count} |" for kind, count in counts]
    return "\n".join([f"| {label} | count |", "|---|---:|", *rows])


def fit(head: str, blocks: list[Block], limit: int, noun: str, artifact: str) -> str:
    """`head` and `blocks` in at most `limit` characters (see the module doc). `noun` names
    what a block is ("change", "resource"); `artifact` says where the whole report is."""
    detailed = [True] * len(blocks)
    text = _join(head, blocks, detailed, len(blocks), noun, artifact)
    trim_order = sorted(range(len(blocks)), key=lambda i: (blocks[i].rank, len(blocks[i].details)), reverse=True)
    total = len(text)
    for i in trim_order:
        if total <= limit:
            text = _join(head, blocks, detailed, len(blocks), noun, artifact)
            if len(text) <= limit:  # the estimate leaves out the separators and the note
                return text
        detailed[i] = False
        total -= len(blocks[i].details) - len(blocks[i].line)
    text = _join(head, blocks, detailed, len(blocks), noun, artifact)
    if len(text) <= limit:
        return text
    # Sound as the length grows with n: each block adds more than the "N more omitted" line can shrink by.
    key = lambda n: len(_join(head, blocks, detailed, n, noun, artifact))  # noqa: E731
    shown = bisect_right(range(len(blocks) + 1), limit, key=key) - 1
    if shown < 0:
        raise ValueError(f"a markdown report needs more than {limit} characters with every {noun} omitted")
    return _join(head, blocks, detailed, shown, noun, artifact)


def _join(head: str, blocks: list[Block], detailed: list[bool], shown: int, noun: str, artifact: str) -> str:
    """The report with the first `shown` blocks; details where `detailed`, else the line.
    Consecutive summary lines form one list; a trimmed report says so after the head."""
    parts = [head]
    if not all(detailed[:shown]):
        parts.append(f"_Some details are omitted to fit a GitHub comment; {artifact}._")
    body = ""
    for i in range(shown):
        if body:
            body += "\n" if not detailed[i] and not detailed[i - 1] else "\n\n"
        body += blocks[i].details if detailed[i] else blocks[i].line
    if body:
        parts.append(body)
    if omitted := len(blocks) - shown:
        plural = noun if omitted == 1 else noun + "s"
        parts.append(f"_…and {omitted} more {plural} omitted; {artifact}._")
    return "\n\n".join(parts) + "\n"

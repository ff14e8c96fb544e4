"""The documentation points only at what the repository holds: every relative link in README.md
and docs/*.md reaches a file, and its #anchor a heading of that file (GitHub's slug rules), and
no doc or source file cites notes, trackers or folders that are not in the repository."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# What the repository is made of: documentation, code, tests, workflows, policies and schemas.
SCANNED = ("README.md", "LICENSE", "pyproject.toml", "docs", "reconciler", "tests", "bench", ".github", ".ci")
SUFFIXES = {".md", ".py", ".yml", ".yaml", ".sh", ".toml", ".json", ".txt", ""}
# Design notes, fact sheets and a shared folder that live outside the repository, and a
# tracker's numbered issues: a reader of the repository can open none of them. (Each pattern is
# written so that it does not match itself.)
OUTSIDE = {
    "a design note outside the repository": re.compile(r"\bDESIG[N](?:\.md)?\b"),
    "a fact sheet outside the repository": re.compile(r"\bGRAPH_FACT[S]\b"),
    "a numbered issue": re.compile(r"\b[Ii]ssues? #?[0-9]+\b|\(#[0-9]+\)"),
    "a shared folder outside the repository": re.compile(r"\.\./share[d]\b|/work/share[d]\b"),
}
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
ANCHOR_TAG = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
INLINE_CODE = re.compile(r"`+[^`]*`+")


def _scanned_files() -> Iterator[Path]:
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.suffix in SUFFIXES and "__pycache__" not in file.parts:
                    yield file


def _prose(text: str) -> Iterator[tuple[int, str]]:
    """Each line outside fenced code blocks, with its number."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: markup dropped (links keep their text), lower case,
    every character but letters, marks, numbers, underscores, spaces and hyphens
    removed, and each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LMN" or c == "_")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a markdown file has: its headings' slugs, numbered from -1 on when repeated
    as GitHub numbers them, and explicit <a name/id> anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    text = path.read_text(encoding="utf-8")
    for _, line in _prose(text):
        found.update(ANCHOR_TAG.findall(line))
        heading = HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def _links(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in _prose(path.read_text(encoding="utf-8")):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
                yield number, target


def test_the_slug_rules_are_github_s() -> None:
    applied = "`xtap apply [PLAN] [--auto-approve] [--skip-checks]`"
    assert slug(applied) == "xtap-apply-plan---auto-approve---skip-checks"
    assert slug("4. What xtap does with this") == "4-what-xtap-does-with-this"
    assert slug("xtap.yaml") == "xtapyaml"
    assert slug("2a. Partner names: findTenantInformationByTenantId / ByDomainName") == (
        "2a-partner-names-findtenantinformationbytenantid--bydomainname"
    )
    assert slug("Guardrails: `xtap check`") == "guardrails-xtap-check"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_an_anchor(doc: Path) -> None:
    broken = []
    for number, target in _links(doc):
        file_part, _, anchor = target.partition("#")
        file = doc if not file_part else (doc.parent / file_part).resolve()
        where = f"{doc.relative_to(ROOT)}:{number}: {target}"
        if not file.exists():
            broken.append(f"{where}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{where}: no such anchor in {file.relative_to(ROOT)}")
    assert broken == []


def test_no_file_cites_what_the_repository_does_not_hold() -> None:
    found = []
    for file in _scanned_files():
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for what, pattern in OUTSIDE.items():
                if pattern.search(line):
                    found.append(f"{file.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert found == []

"""What every text report shares (reconciler/render/terminal.py): paint only when colour is
wanted, JSON safe to print, clipping to a width and counting words."""

from __future__ import annotations

import json

from reconciler.render.terminal import BOLD, RED, clip, painter, printable_json, quantity


def test_paint_wraps_in_sgr_only_with_color() -> None:
    assert painter(True)("x", RED) == "\x1b[31mx\x1b[0m"
    assert painter(False)("x", BOLD) == "x"


def test_printable_json_escapes_controls_and_keeps_non_ascii() -> None:
    value = {"name": "Zoë\x1b[2J\u202e\x9b", "line": "a\nb"}
    text = printable_json(value, indent=2)
    assert "Zoë" in text
    assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text
    assert "\\u202e" in text and "\\u009b" in text
    assert len(text.splitlines()) == 4  # only json's own line breaks
    assert json.loads(text.replace("\\u202e", "").replace("\\u009b", "")) == {
        "name": "Zoë\x1b[2J",
        "line": "a\nb",
    }


def test_clip_keeps_text_that_fits_and_marks_a_cut() -> None:
    assert clip("abcdef", 6) == "abcdef"
    assert clip("abcdefg", 6) == "abcde…"
    assert len(clip("x" * 500, 140)) == 140


def test_quantity_picks_singular_or_plural() -> None:
    assert quantity(1, "change") == "1 change"
    assert quantity(0, "change") == "0 changes"
    assert quantity(2, "policy", "policies") == "2 policies"
    assert quantity(1, "policy", "policies") == "1 policy"

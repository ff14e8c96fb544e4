"""Fitting a markdown report into a GitHub comment (reconciler/render/markdown.py): `fit` keeps
whole blocks, lets details give way to their summary line first (highest rank, then largest),
and only then leaves out the last lines, saying how many. The plan's use of it is in
test_plan.py."""

from __future__ import annotations

import pytest

from reconciler.render.markdown import Block, count_table, fit

HEAD = "### report"
ARTIFACT = "the whole report is in the artifact"


def block(name: str, size: int, rank: int = 0) -> Block:
    line = f"- {name}"
    return Block(line, f"<details><summary>{name}</summary>\n\n{'x' * size}\n\n</details>", rank)


def test_a_report_that_fits_is_every_block_in_full() -> None:
    blocks = [block("a", 10), block("b", 10)]
    text = fit(HEAD, blocks, 10_000, "change", ARTIFACT)
    assert text == f"{HEAD}\n\n{blocks[0].details}\n\n{blocks[1].details}\n"


def test_the_largest_details_of_the_highest_rank_give_way_first() -> None:
    small, large, ranked = block("small", 100), block("large", 300), block("ranked", 500, rank=1)
    whole = fit(HEAD, [small, large, ranked], 10_000, "change", ARTIFACT)
    text = fit(HEAD, [small, large, ranked], len(whole) - 1, "change", ARTIFACT)
    assert ranked.details not in text and ranked.line in text  # the higher rank went first
    assert small.details in text and large.details in text
    assert "_Some details are omitted to fit a GitHub comment; the whole report is in the artifact._" in text
    text = fit(HEAD, [small, large, ranked], len(text) - 1, "change", ARTIFACT)
    assert large.details not in text and large.line in text and small.details in text  # then the largest


def test_when_the_lines_alone_do_not_fit_the_last_are_counted_not_cut() -> None:
    blocks = [block(f"change number {n}", 500) for n in range(20)]
    text = fit(HEAD, blocks, 300, "change", ARTIFACT)
    assert len(text) <= 300
    shown = [b for b in blocks if b.line + "\n" in text]
    assert shown == blocks[: len(shown)] and 0 < len(shown) < 20
    assert f"_…and {20 - len(shown)} more changes omitted; {ARTIFACT}._" in text
    assert "<details>" not in text and "</details>" not in text  # never a block cut open


def test_one_left_out_is_said_in_the_singular() -> None:
    blocks = [block("first", 500), block("s" * 300, 500)]
    lines_only = len(f"{HEAD}\n\n_Some details are omitted to fit a GitHub comment; {ARTIFACT}._\n\n- first\n")
    text = fit(HEAD, blocks, lines_only + len(f"\n_…and 1 more change omitted; {ARTIFACT}._\n"), "change", ARTIFACT)
    assert text.endswith(f"- first\n\n_…and 1 more change omitted; {ARTIFACT}._\n")


def test_a_limit_too_small_for_the_head_is_an_error() -> None:
    with pytest.raises(ValueError, match="more than 5 characters with every resource omitted"):
        fit(HEAD, [block("a", 10)], 5, "resource", ARTIFACT)


def test_the_count_table_has_a_row_per_kind() -> None:
    assert count_table("change", [("create", 2), ("delete", 0)]) == (
        "| change | count |\n|---|---:|\n| create | 2 |\n| delete | 0 |"
    )

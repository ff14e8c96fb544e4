"""A policies folder is self-contained: a symbolic link in it that leads outside it is a problem
at the link, in every command and before any request to Graph, and nothing is read through it.
Links that stay inside keep working, and so does a policies folder that is itself a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.xtap import run_xtap

from reconciler.emulator import Emulator
from reconciler.policies.layout import LINK_OUTSIDE, read_layout
from reconciler.policies.load import PolicyError, load_policies, load_settings

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
OTHER = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
HOME = "0b4f0a2e-1111-4222-8333-944455556666"  # the tenant a folder binds
# What sits outside the folder: read, it would be a problem of its own (or bind another tenant).
NOT_YAML = "secret: [unclosed\n"


def folder(tmp_path: Path) -> tuple[Path, Path]:
    """A valid policies folder and, beside it, a folder it must not reach into."""
    root, outside = tmp_path / "policies", tmp_path / "outside"
    (root / "partners").mkdir(parents=True)
    (root / "partners" / "kept.yaml").write_text(f"tenantId: {TENANT}\n")
    outside.mkdir()
    for name in ("x.yaml", "default.yaml"):
        (outside / name).write_text(NOT_YAML)
    (outside / "xtap.yaml").write_text(f"tenant: {HOME}\n")
    return root, outside


def problems(root: Path) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        load_policies(root)
    return [str(problem).removeprefix(f"{root}/") for problem in raised.value.problems]


def settings_problems(root: Path) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        load_settings(root)
    return [str(problem).removeprefix(f"{root}/") for problem in raised.value.problems]


# link inside the folder -> where it points (relative to the link's own folder)
ESCAPES = {
    "xtap.yaml": "../outside/xtap.yaml",
    "default.yaml": "../outside/default.yaml",
    "partners/x.yaml": "../../outside/x.yaml",
    "partners/absolute.yaml": "{outside}/x.yaml",
    "README.md": "../outside/x.yaml",  # not a policy file, and still not inside the folder
    "partners/dotdot.yaml": "../partners/../../outside/x.yaml",  # `..` that climbs back out
}


@pytest.mark.parametrize("link", sorted(ESCAPES))
def test_a_link_that_leads_outside_is_a_problem_at_the_link_and_is_not_read(tmp_path: Path, link: str) -> None:
    root, outside = folder(tmp_path)
    (root / link).symlink_to(ESCAPES[link].format(outside=outside))

    assert problems(root) == [f"{link}:1:1: {LINK_OUTSIDE}"]
    assert settings_problems(root) == [f"{link}:1:1: {LINK_OUTSIDE}"]


def test_a_partners_folder_that_is_a_link_outside_is_refused_and_never_listed(tmp_path: Path) -> None:
    root, outside = folder(tmp_path)
    (root / "partners" / "kept.yaml").unlink()
    (root / "partners").rmdir()
    (root / "partners").symlink_to(outside)

    assert problems(root) == [f"partners:1:1: {LINK_OUTSIDE}"]  # outside/x.yaml would be a syntax error
    assert settings_problems(root) == [f"partners:1:1: {LINK_OUTSIDE}"]
    assert read_layout(root).files == ()  # not even counted, to choose whether to fork workers


def test_a_link_to_a_link_is_judged_where_it_ends(tmp_path: Path) -> None:
    """The first hop stays inside; the second leaves."""
    root, _ = folder(tmp_path)
    (root / ".shared").mkdir()
    (root / ".shared" / "hop.yaml").symlink_to("../../outside/x.yaml")  # hidden: never read itself
    (root / "partners" / "x.yaml").symlink_to("../.shared/hop.yaml")

    assert problems(root) == [f"partners/x.yaml:1:1: {LINK_OUTSIDE}"]


def test_every_link_outside_is_listed_with_the_other_problems(tmp_path: Path) -> None:
    root, _ = folder(tmp_path)
    (root / "xtap.yaml").symlink_to("../outside/xtap.yaml")
    (root / "partners" / "x.yaml").symlink_to("../../outside/x.yaml")
    (root / "partners" / "bad.yaml").write_text("tenantId: nope\n")

    assert problems(root) == [
        "partners/bad.yaml:1:11: tenantId 'nope' is not a GUID (like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)",
        f"partners/x.yaml:1:1: {LINK_OUTSIDE}",
        f"xtap.yaml:1:1: {LINK_OUTSIDE}",
    ]


def test_links_that_stay_inside_keep_working(tmp_path: Path) -> None:
    root, _ = folder(tmp_path)
    shared = root / ".shared"  # hidden, so not read as a folder of its own
    (shared / "partners").mkdir(parents=True)
    (shared / "partners" / "y.yaml").write_text(f"tenantId: {OTHER}\n")
    (shared / "xtap.yaml").write_text(f"tenant: {HOME.upper()}\n")
    (shared / "default.yaml").write_text("# the system default\n")
    (root / "xtap.yaml").symlink_to(".shared/xtap.yaml")
    (root / "default.yaml").symlink_to(shared / "default.yaml")  # absolute, and still inside
    (root / "partners" / "y.yaml").symlink_to("../partners/../.shared/partners/y.yaml")  # `..` that stays in
    (root / ".editorconfig").symlink_to("../outside/x.yaml")  # hidden names are never read, nor judged

    desired = load_policies(root)

    assert sorted(address.id for address in desired.of("partner")) == [OTHER, TENANT]
    assert desired.tenant == HOME and desired.manages("default")
    assert load_settings(root).tenant == HOME


def test_a_partners_folder_linked_inside_the_folder_is_read(tmp_path: Path) -> None:
    root, _ = folder(tmp_path)
    (root / "partners").rename(root / ".partners")
    (root / "partners").symlink_to(".partners")

    assert [address.id for address in load_policies(root).of("partner")] == [TENANT]
    assert len(read_layout(root).files) == 1


def test_a_policies_folder_that_is_a_link_is_judged_by_its_real_path(tmp_path: Path) -> None:
    """Through the link's own path a link may point back in; a `..` from the real folder that
    looks inside the link's path is outside."""
    real, _ = folder(tmp_path / "deep")
    root = tmp_path / "policies"
    root.symlink_to(real)
    (real / ".shared").mkdir()
    (real / ".shared" / "y.yaml").write_text(f"tenantId: {OTHER}\n")
    (real / "partners" / "y.yaml").symlink_to(root / ".shared" / "y.yaml")  # by the link's path

    assert sorted(address.id for address in load_policies(root).of("partner")) == [OTHER, TENANT]

    (tmp_path / "deep" / "sibling.yaml").write_text(NOT_YAML)
    (real / "partners" / "z.yaml").symlink_to("../../sibling.yaml")  # tmp/deep/sibling.yaml: outside
    assert problems(root) == [f"partners/z.yaml:1:1: {LINK_OUTSIDE}"]
    assert os.path.realpath(root / "partners" / "z.yaml") == str(tmp_path / "deep" / "sibling.yaml")


@pytest.mark.parametrize(
    "command",
    [("validate",), ("check",), ("plan",), ("apply", "--auto-approve"), ("drift",), ("export",)],
    ids=lambda command: command[0],
)
def test_every_command_refuses_before_any_request(tmp_path: Path, emulator: Emulator, command: tuple[str, ...]) -> None:
    root, _ = folder(tmp_path)
    (root / "partners" / "x.yaml").symlink_to("../../outside/x.yaml")
    emulator.put_partner({"tenantId": TENANT})

    result = run_xtap(*command, "--policies", str(root), emulator=emulator)

    assert result.code == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{root}/partners/x.yaml:1:1: {LINK_OUTSIDE}",
        f"1 problem(s) in {root}; nothing was sent to Graph.",
    ]
    assert emulator.requests == []
    assert result.stdout == ""

"""The policies folder's layout on its own: which files are read as what, from the registry, and
which problems the listings alone find. What loading makes of them is tests/policies/test_load.py's."""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import pytest

from reconciler.core.keys import TenantKey
from reconciler.core.registry import DEFAULT, PARTNER, ResourceType
from reconciler.graph.read import scope
from reconciler.policies import layout
from reconciler.policies.layout import LINK_OUTSIDE, as_layout, read_layout
from reconciler.policies.problems import PolicyError

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
EXPECTED = (
    "default.yaml, mto-partner-template.yaml, mto-identity-sync-template.yaml, policy.yaml, xtap.yaml "
    "or a partner file in partners/"
)


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    (root / "partners").mkdir(parents=True)
    (root / "partners" / "b.yaml").write_text(f"tenantId: {TENANT}\n")
    (root / "partners" / "a.YML").write_text("{}")
    (root / "default.yaml").write_text("# reset\n")
    (root / "xtap.yaml").write_text("{}")
    return root


def test_each_file_is_read_as_its_type_singletons_first_then_each_folder_by_name(tmp_path: Path) -> None:
    root = folder(tmp_path)
    found = read_layout(root)
    assert [(path, rtype.name) for path, rtype in found.files] == [
        (f"{root}/default.yaml", "default"),
        (f"{root}/partners/a.YML", "partner"),
        (f"{root}/partners/b.yaml", "partner"),
    ]
    assert found.settings == f"{root}/xtap.yaml"
    assert found.problems == found.links_outside == ()


def test_paths_are_written_as_pathlib_writes_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every problem names its file by this path, so `.` and a trailing slash must not show."""
    root = folder(tmp_path)
    monkeypatch.chdir(root)
    assert [path for path, _ in read_layout(".").files] == ["default.yaml", "partners/a.YML", "partners/b.yaml"]
    monkeypatch.chdir(tmp_path)
    assert read_layout("policies/").settings == "policies/xtap.yaml"


def test_a_singleton_is_managed_exactly_when_its_file_is_there(tmp_path: Path) -> None:
    """So the reads a plan starts before the files load are those it needs once they have."""
    root = folder(tmp_path)
    found = read_layout(root)
    assert found.manages(DEFAULT.name) and found.manages(PARTNER.name)
    assert not found.manages("mtoPartnerTemplate")
    assert scope(found) == ("partner", "identitySynchronization", "default")


def test_links_outside_are_kept_apart_from_the_other_layout_problems(tmp_path: Path) -> None:
    """xtap.yaml is not read while a link leads out; the other problems wait for the load."""
    root = folder(tmp_path)
    (tmp_path / "elsewhere.yaml").write_text("{}")
    (root / "partners" / "out.yaml").symlink_to("../../elsewhere.yaml")
    (root / "stray.yaml").write_text("{}")
    found = read_layout(root)
    link = f"{root}/partners/out.yaml:1:1: {LINK_OUTSIDE}"
    assert [str(problem) for problem in found.links_outside] == [link]
    assert sorted(map(str, found.problems)) == [
        link,
        f"{root}/stray.yaml:1:1: unknown policy file; expected {EXPECTED}",
    ]
    assert f"{root}/partners/out.yaml" not in dict(found.files)


def test_a_second_keyed_type_needs_only_its_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rooms = ResourceType(
        name="room",
        graph_model=PARTNER.graph_model,
        path="/rooms/{key}",
        key_kind=TenantKey("tenantId"),
        folder="rooms",
    )
    monkeypatch.setattr(layout, "KEYED_FOLDERS", MappingProxyType({"partners": PARTNER, "rooms": rooms}))
    root = folder(tmp_path)
    (root / "rooms" / "nested").mkdir(parents=True)
    (root / "rooms" / "r.yaml").write_text("{}")
    (root / "halls").mkdir()
    (root / "hall.yaml").write_text("{}")
    found = read_layout(root)
    assert [(os.path.basename(path), rtype.name) for path, rtype in found.files][-1] == ("r.yaml", "room")
    assert sorted(str(problem).removeprefix(f"{root}/") for problem in found.problems) == [
        f"hall.yaml:1:1: unknown policy file; expected {EXPECTED} or a room file in rooms/",
        "halls:1:1: unknown folder; partner files go in partners/, room files go in rooms/",
        "rooms/nested:1:1: folders inside rooms/ are not read; put room files directly in it",
    ]


def test_no_folder_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        read_layout(tmp_path / "missing")
    assert [str(problem) for problem in raised.value.problems] == [
        f"{tmp_path}/missing:1:1: policies directory not found (use --policies DIR)"
    ]


def test_a_layout_is_handed_on_as_it_is(tmp_path: Path) -> None:
    found = read_layout(folder(tmp_path))
    assert as_layout(found) is found
    assert as_layout(found.root) == found

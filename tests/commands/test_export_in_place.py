"""`xtap export` over a folder a person wrote: a value the tenant changed is edited in place, a
new key lands right after the last key of its block (inside the block for a nested member),
never below the blank and comment lines that belong to the next block or the end of the file,
and a trust the tenant already has is marked in the file's `xtap:` block. Exact text, through
the CLI, against the emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.seeds import SEED_001_PATCH_BODIES, SEED_001_TENANT
from support.xtap import run_xtap

from reconciler.emulator import Emulator

TRUST_MARK = (
    "set by xtap export, as the tenant already trusts these inbound claims; review this: xtap check asks that "
    "trust be marked trusted"
)
RESTRICTIONS = SEED_001_PATCH_BODIES[2]["tenantRestrictions"]
EVERY_USER = {"users": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}}
EVERY_USER_TEXT = (
    "m365CollaborationInbound:\n"
    "  users:\n"
    "    accessType: allowed\n"
    "    targets:\n"
    "      - target: AllUsers\n"
    "        targetType: user\n"
)
RESTRICTIONS_TEXT = (
    "tenantRestrictions:\n"
    "  usersAndGroups:\n"
    "    accessType: allowed\n"
    "    targets:\n"
    "      - target: AllUsers\n"
    "        targetType: user\n"
    "  applications:\n"
    "    accessType: allowed\n"
    "    targets:\n"
    "      - target: Office365\n"
    "        targetType: application\n"
)


def exported_over(emulator: Emulator, folder: Path, text: str, **live: Any) -> str:
    """The partner file `text` in `folder`, the partner live with `live`, exported over: the
    file's text after."""
    emulator.put_partner({"tenantId": SEED_001_TENANT, **live})
    partner = folder / "partners" / "fabrikam.yaml"
    partner.parent.mkdir(parents=True)
    partner.write_text(text)
    done = run_xtap("export", "--out", str(folder), emulator=emulator)
    assert done.code == 0, done.stderr
    return partner.read_text()


def test_new_keys_land_inside_their_block_before_the_lines_that_follow_it(emulator: Emulator, tmp_path: Path) -> None:
    before = (
        f"tenantId: {SEED_001_TENANT}\n"
        "automaticUserConsentSettings:\n"
        "  inboundAllowed: true\n"
        "\n"
        "# Tenant restrictions v2: the pilot.\n"
        f"{RESTRICTIONS_TEXT}"
        "\n"
        "# Reviewed with Fabrikam in 2026.\n"
    )
    after = exported_over(
        emulator,
        tmp_path,
        before,
        automaticUserConsentSettings={"inboundAllowed": True, "outboundAllowed": True},
        tenantRestrictions=RESTRICTIONS,
        m365CollaborationInbound=EVERY_USER,
    )
    assert after == (
        f"tenantId: {SEED_001_TENANT}\n"
        "automaticUserConsentSettings:\n"
        "  inboundAllowed: true\n"
        "  outboundAllowed: true\n"  # in its block, above the blank line and the next block's comment
        "\n"
        "# Tenant restrictions v2: the pilot.\n"
        f"{RESTRICTIONS_TEXT}"
        f"{EVERY_USER_TEXT}"  # right after the last block, above the end of the file's comment
        "\n"
        "# Reviewed with Fabrikam in 2026.\n"
    )
    assert run_xtap("plan", "--policies", str(tmp_path), "--detailed-exitcode", emulator=emulator).code == 0


def test_a_replaced_list_and_a_removed_key_keep_the_comments_after_them(emulator: Emulator, tmp_path: Path) -> None:
    before = (
        f"tenantId: {SEED_001_TENANT}\n"
        f"{EVERY_USER_TEXT}"
        "\n"
        "# Consent: both ways, agreed in SEC-42.\n"
        "automaticUserConsentSettings:\n"
        "  inboundAllowed: true\n"
        "  outboundAllowed: true  # theirs too\n"
        "\n"
        "# The end.\n"
    )
    group = {
        "accessType": "allowed",
        "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
    }
    after = exported_over(
        emulator,
        tmp_path,
        before,
        m365CollaborationInbound={"users": group},
        automaticUserConsentSettings={"inboundAllowed": True},
    )
    assert after == (
        f"tenantId: {SEED_001_TENANT}\n"
        "m365CollaborationInbound:\n"
        "  users:\n"
        "    accessType: allowed\n"
        "    targets:\n"
        "      - target: 6f546279-4da5-4b53-a095-09ea0cef9971\n"
        "        targetType: group\n"
        "\n"
        "# Consent: both ways, agreed in SEC-42.\n"
        "automaticUserConsentSettings:\n"
        "  inboundAllowed: true\n"  # the removed key's own comment went with it; the lines after stay
        "\n"
        "# The end.\n"
    )


def test_a_trust_the_tenant_has_is_marked_in_the_file_s_xtap_block(emulator: Emulator, tmp_path: Path) -> None:
    before = (
        f"tenantId: {SEED_001_TENANT}\n"
        "xtap:\n"
        "  name: Fabrikam\n"
        "  notes: ours since 2019\n"
        "\n"
        "# Trust claims from Fabrikam's tenant.\n"
        "inboundTrust:\n"
        "  isMfaAccepted: false\n"
    )
    after = exported_over(emulator, tmp_path, before, inboundTrust={"isMfaAccepted": True})
    assert after == (
        f"tenantId: {SEED_001_TENANT}\n"
        "xtap:\n"
        "  name: Fabrikam\n"
        "  notes: ours since 2019\n"
        f"  trusted: true  # {TRUST_MARK}\n"
        "\n"
        "# Trust claims from Fabrikam's tenant.\n"
        "inboundTrust:\n"
        "  isMfaAccepted: true\n"
    )
    assert run_xtap("check", "--policies", str(tmp_path)).code == 0


def test_a_file_without_an_xtap_block_gets_one_after_its_key(emulator: Emulator, tmp_path: Path) -> None:
    before = f"# Ours.\ntenantId: {SEED_001_TENANT}\n\n# Trust claims.\ninboundTrust:\n  isMfaAccepted: false\n"
    after = exported_over(emulator, tmp_path, before, inboundTrust={"isCompliantDeviceAccepted": True})
    assert after == (
        f"# Ours.\ntenantId: {SEED_001_TENANT}\n"
        f"xtap:\n  trusted: true  # {TRUST_MARK}\n"
        "\n# Trust claims.\ninboundTrust:\n  isCompliantDeviceAccepted: true\n"
    )
    assert run_xtap("check", "--policies", str(tmp_path)).code == 0


def test_a_file_that_says_untrusted_is_not_overruled(emulator: Emulator, tmp_path: Path) -> None:
    """`trusted: false` is a person's decision: export leaves it, and the check says the tenant
    trusts what the file says it must not."""
    before = f"tenantId: {SEED_001_TENANT}\nxtap:\n  trusted: false\n"
    after = exported_over(emulator, tmp_path, before, inboundTrust={"isMfaAccepted": True})
    assert after == f"tenantId: {SEED_001_TENANT}\nxtap:\n  trusted: false\ninboundTrust:\n  isMfaAccepted: true\n"
    done = run_xtap("check", "--policies", str(tmp_path))
    assert done.code == 1 and "[inbound-trust-only-trusted]" in done.stdout

"""`xtap demo`: the whole loop against an in-process Graph emulator, nothing to configure.

It runs the same command functions a user runs, over real HTTP through
msgraph-sdk, against the emulator's `demo` seed, a sample tenant that differs from the
repository's policies/ (`xtap emulator --seed demo` serves the same one, to try by hand).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from reconciler.commands.apply import apply
from reconciler.commands.explain import asked_as, explain_command
from reconciler.commands.plan import plan
from reconciler.commands.run import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Options, say, use_color
from reconciler.commands.validate import validate
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.emulator.seeds import FABRIKAM, SEEDS

# The demo's identity: the partners, the default and the templates take the first permission;
# the Microsoft 365 capabilities in the example folder take the second, and only it
# (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities).
# Names beside GUIDs take the lookups' read permissions (docs/names.md).
DEMO_ROLES = (
    "Policy.ReadWrite.CrossTenantAccess",
    "Policy.ReadWrite.CrossTenantCapability",
    "CrossTenantInformation.ReadBasic.All",
    "Directory.Read.All",
)

# What the demo's last step asks of the repository's policies: may Contoso's users reach our
# Office 365 apps through B2B direct connect (Contoso's file opens the apps and leaves whose users
# to the default).
EXPLAINED_APP = "Office365"

# What a "portal admin" changes behind git's back.
PORTAL_EDIT = {
    "inboundTrust": {
        "isMfaAccepted": False,
        "isCompliantDeviceAccepted": True,
        "isHybridAzureADJoinedDeviceAccepted": True,
    }
}


def run_demo(policies: Path) -> int:
    if not policies.is_dir():
        say(
            f"The demo plans the example policies/ folder of the xtap repository; {policies} "
            "was not found. Run it from the repository root, or pass --policies DIR."
        )
        return EXIT_ERROR
    with Emulator(EmulatorConfig()) as emulator:
        emulator.plant(SEEDS["demo"])  # the tenant `xtap emulator --seed demo` serves too
        token = emulator.mint_token(roles=DEMO_ROLES, name="xtap demo")
        options = Options(policies, graph_url=emulator.base_url, access_token=token)
        _banner(
            f"A Graph emulator is serving a sample tenant at {emulator.base_url}\n"
            "(Fabrikam unconfigured, Woodgrove unmanaged, Contoso missing;\n"
            "the default settings and the MTO template as Graph ships them)."
        )
        steps: list[tuple[str, Callable[[], int], int]] = [
            ("xtap validate", lambda: validate(policies), EXIT_OK),
            ("xtap plan", lambda: plan(options), EXIT_OK),
            ("xtap apply --auto-approve", lambda: apply(options, auto_approve=True), EXIT_OK),
            (
                "xtap plan --detailed-exitcode    # converged: exit 0",
                lambda: plan(options, detailed_exitcode=True),
                EXIT_OK,
            ),
            (
                "# a portal admin edits Fabrikam's inbound trust in the Entra admin center",
                lambda: _portal_edit(emulator),
                EXIT_OK,
            ),
            (
                "xtap plan --detailed-exitcode    # drift: exit 2",
                lambda: plan(options, detailed_exitcode=True),
                EXIT_CHANGES,
            ),
            (
                f"xtap explain contoso --via b2bDirectConnect --app {EXPLAINED_APP}    # may they, and why",
                lambda: explain_command(
                    options,
                    [asked_as("contoso", "b2bDirectConnect", None, None, (), EXPLAINED_APP, "demo")],
                    False,
                    "text",
                ),
                EXIT_OK,
            ),
        ]
        for title, step, expected in steps:
            _banner(f"$ {title}")
            code = step()
            if code != expected:
                say(f"demo: '{title}' exited {code}, expected {expected}.")
                return EXIT_ERROR
    _banner(
        "Demo complete: created Contoso, Fabrikam's identity sync and Microsoft 365 capabilities\n"
        "for Fabrikam and the default, configured Fabrikam, the default settings and the MTO\n"
        "template with minimal writes, left Woodgrove alone, caught the out-of-band edit, and\n"
        "explained why Contoso's users cannot reach Office 365 through B2B direct connect yet."
    )
    return EXIT_OK


def _portal_edit(emulator: Emulator) -> int:
    """An out-of-band change through Graph itself, by another identity, as the portal does."""
    token = emulator.mint_token(roles=("Policy.ReadWrite.CrossTenantAccess",), name="Portal Admin")
    request = urllib.request.Request(
        f"{emulator.base_url}/policies/crossTenantAccessPolicy/partners/{FABRIKAM}",
        data=json.dumps(PORTAL_EDIT).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:  # loopback emulator only
        say(f"PATCH Fabrikam inboundTrust.isMfaAccepted = false -> HTTP {response.status}")
    return EXIT_OK


def _banner(text: str) -> None:
    """The demo's own headings: written directly, since `say` escapes the newlines and the bold
    that these (and only these) are meant to have."""
    sys.stdout.flush()
    bold = use_color(sys.stderr)
    print(f"\n\x1b[1m{text}\x1b[0m" if bold else f"\n{text}", file=sys.stderr, flush=True)

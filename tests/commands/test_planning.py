"""The plan as plan, apply and validate make it (reconciler/commands/planning.py): the files load
while the tenant is read, and a broken file stops the reading and every write."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.bad_files import BROKEN
from support.xtap import run_xtap

from reconciler.emulator import Emulator, EmulatorConfig

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
PAGES = 40


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_input_is_reported_and_nothing_is_sent(tmp_path: Path, case: str) -> None:
    """validate sends nothing. plan and apply read the tenant while the files load (they start
    loading once the first request is on the wire), so reads may have left; the bad file cancels the
    rest (the list has forty slow pages here, two seconds of them: it is never read to its end)
    and nothing is ever written."""
    text, position, message = BROKEN[case]
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "broken.yaml").write_text(text)
    with Emulator(EmulatorConfig(page_size=10, latency_s=0.05)) as emulator:
        for n in range(PAGES * 10):
            emulator.put_partner({"tenantId": f"0b4f0a2e-1111-4222-8333-{n:012x}"})
        for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
            emulator.clear_requests()
            result = run_xtap(*command, "--policies", str(tmp_path / "policies"), emulator=emulator)
            assert result.code == 1, (command, result.stderr)
            assert f"broken.yaml{position}" in result.stderr and message in result.stderr, result.stderr
            assert "Traceback" not in result.stderr
            if command == ("validate",):
                assert emulator.requests == []
            assert all(r.method == "GET" for r in emulator.requests), command
            assert len([r for r in emulator.requests if r.path.startswith(PARTNERS)]) < PAGES, command

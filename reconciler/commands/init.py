"""`xtap init [DIR] --xtap OWNER/REPO@SHA [--tenant ID]`: a new policy repository, with no xtap
source in it.

The workflows it writes call xtap's reusable workflows (`.github/workflows/reusable-*.yml` of
OWNER/REPO) at one commit and install xtap from that same commit, so an organization uses xtap
without forking it, and an upgrade is a reviewed change of one commit id. A branch or a tag is
refused: either can be moved to other code after the review. Nothing is written over an existing
file: the files in the way are listed, and nothing at all is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, say
from reconciler.core.wire import is_guid

# OWNER/REPO@SHA: GitHub's owner and repository names, and a full commit id.
XTAP_PIN = re.compile(r"^(?P<repo>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100})@(?P<ref>.+)$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Pin:
    """The xtap the workflows call and install: a repository and one of its commits."""

    repo: str
    ref: str


def parse_pin(text: str) -> Pin:
    """`OWNER/REPO@SHA`, or ValueError saying what to write instead."""
    found = XTAP_PIN.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not OWNER/REPO@SHA, e.g. contoso/xtap@{'0' * 40}")
    if not COMMIT.match(found["ref"]):
        raise ValueError(
            f"{found['ref']!r}: pin a commit, not a branch or tag: the 40 hex digits of a commit of "
            f"{found['repo']} (git rev-parse {found['ref']}^{{commit}}, in lower case)"
        )
    return Pin(found["repo"], found["ref"])


def init(directory: Path, pin: Pin, tenant: str | None) -> int:
    """Write the new repository's files into `directory`, or nothing when one is in the way."""
    if tenant is not None and not is_guid(tenant):
        say(f"Error: --tenant {tenant!r} is not a tenant id (a GUID); leave it out to bind the folder later")
        return EXIT_ERROR
    if directory.exists() and not directory.is_dir():
        say(f"Error: {directory} is a file, not a folder; nothing written")
        return EXIT_ERROR
    planned = scaffold(pin, tenant.lower() if tenant else None)
    taken = sorted(name for name in planned if (directory / name).exists() or (directory / name).is_symlink())
    if taken:
        say(f"Error: {len(taken)} file(s) already exist in {directory}; nothing written:")
        for name in taken:
            say(f"  {name}")
        return EXIT_ERROR
    for name, text in planned.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if name.endswith(".sh"):
            path.chmod(0o755)
    say(f"Wrote a policy repository in {directory}, calling {pin.repo} at {pin.ref[:12]}:")
    for name in planned:
        say(f"  {name}")
    say(f"Next: {directory / 'README.md'}")
    return EXIT_OK


def scaffold(pin: Pin, tenant: str | None) -> dict[str, str]:
    """Each file of a new policy repository, by its path inside it."""
    docs = f"https://github.com/{pin.repo}/blob/{pin.ref}/docs"
    setup = files("reconciler.commands").joinpath("github_setup.sh").read_text()
    return {
        "README.md": README.format(repo=pin.repo, ref=pin.ref, docs=docs),
        ".gitignore": GITIGNORE,
        "policies/xtap.yaml": xtap_yaml(tenant, docs),
        "policies/default.yaml": DEFAULT_YAML.format(docs=docs),
        "policies/partners/README.md": PARTNERS_README.format(docs=docs),
        ".github/setup.sh": setup,
        ".github/workflows/xtap-plan.yml": workflow(PLAN, pin, docs),
        ".github/workflows/xtap-apply.yml": workflow(APPLY, pin, docs),
        ".github/workflows/xtap-converge.yml": workflow(CONVERGE, pin, docs),
        ".github/workflows/xtap-drift.yml": workflow(DRIFT, pin, docs),
    }


def workflow(template: str, pin: Pin, docs: str) -> str:
    header = (
        f"# Calls xtap's reusable workflow at one commit of {pin.repo}, and installs xtap from that\n"
        "# same commit (xtap-ref): to upgrade, change both to a newer commit in all four xtap-*.yml,\n"
        f"# in a reviewed pull request. The workflows: {docs}/github.md\n"
    )
    return header + template.replace("{repo}", pin.repo).replace("{ref}", pin.ref).replace("{docs}", docs)


def xtap_yaml(tenant: str | None, docs: str) -> str:
    binding = (
        f"tenant: {tenant}\n"
        if tenant
        else "# tenant: 00000000-0000-0000-0000-000000000000   (your tenant id: bind it before the first plan)\n"
    )
    return (
        f"# xtap's own settings for this folder, never sent to Graph ({docs}/policies.md#xtapyaml).\n"
        "# The tenant these policies are for: a token for any other tenant is refused before any\n"
        "# request, so a mistyped variable never applies these policies to another tenant.\n"
        f"{binding}"
        "# Delete live partners that have no file here? Off until partners/ holds every partner to keep.\n"
        "prune: false\n"
    )


GITIGNORE = """\
# xtap's saved plans and reports: written by `xtap plan --out`, never committed.
*.plan.json
plan.json
plan.md
check.sarif
.venv/
__pycache__/
"""

DEFAULT_YAML = """\
# The tenant's default cross-tenant access settings: what every partner setting left out
# inherits. Nothing but comments here declares Microsoft's system default, so a plan would
# reset a tenant whose default differs: run `xtap export` first, which writes the tenant's
# current default into this file, or delete the file to leave the default unmanaged.
# The keys and their meaning: {docs}/policies.md
"""

PARTNERS_README = """\
# Partners

One YAML file per partner organization, named as you like (`contoso.yaml`), holding its
`tenantId` and only the settings that differ from `../default.yaml`. `xtap export` writes one
for each partner the tenant has; `xtap add-partner contoso.com` starts a new one.
Only `*.yaml` files here are read. The format: {docs}/policies.md
"""

README = """\
# Cross-tenant access policies

This repository holds a Microsoft Entra tenant's cross-tenant access settings as YAML in
`policies/`, and [xtap](https://github.com/{repo}/blob/{ref}/README.md) keeps the tenant
equal to them: every pull request is planned, and a merge to `main` applies exactly the
plan its pull request showed. The workflows in `.github/workflows/` call xtap's reusable workflows at commit `{ref}` of
`{repo}`; no xtap source lives here.

## What to do next

1. **Install xtap** at the same commit, to work here:
   `pip install "xtap @ git+https://github.com/{repo}@{ref}"`.
2. **Sign in and check**: `az login --tenant <tenant id> --allow-no-subscriptions`, then
   `xtap doctor` says whether xtap can read the tenant.
3. **Export the tenant**: `xtap export` writes its current settings into `policies/`, so the
   first plan shows only what you mean to change. `xtap validate && xtap plan` should then
   show no changes.
4. **Put this repository on GitHub** (`gh repo create OWNER/NAME --private --source . --push`),
   then create the two app registrations, their federated credentials and the repository's
   variables: [Setup, from zero]({docs}/github.md#setup-from-zero), steps 1, 2 and 4.
5. **Protect the apply identity**: `.github/setup.sh --reviewer <user or org/team>` creates
   the `tenant-apply` environment with required reviewers and `main` as its only branch. Then
   protect `main` (pull requests only, the `plan` checks required) and make the owners of the
   tenant the code owners of `.github/` ([step 5]({docs}/github.md#5-protect-main-and-github)).
6. **Open a pull request** with a change under `policies/`: its plan comment shows what the
   merge will apply. After the merge, `xtap-apply.yml` applies it; `xtap-converge.yml` (run by
   hand) converges a tenant the merge did not apply, and `xtap-drift.yml` reports changes made
   outside this repository every day.

## Workflows

- `xtap-plan.yml`, on a pull request that touches `policies/`, `tenants/` or an `xtap-*.yml`:
  validates, plans each tenant it changes with the read-only identity, posts the plan as a
  comment, and checks the guardrails.
- `xtap-apply.yml`, on a push to `main` that touches them: applies each changed tenant's
  reviewed plan in the `tenant-apply` environment, and nothing else.
- `xtap-converge.yml`, by hand with a tenant's name: plans from `main`, and applies that plan
  once a reviewer of `tenant-apply` approves.
- `xtap-drift.yml`, daily or by hand: reports drift in one issue per tenant.

To manage several tenants, give each a folder `tenants/<name>/policies/` with its own variables
([One tenant or several]({docs}/github.md#one-tenant-or-several)).
More than 256 tenants, or several tenants a job, sign in with one multi-tenant app: set
`tenants-per-job` in the four `xtap-*.yml` ([Many tenants]({docs}/github.md#many-tenants)).
"""

_PINNED = """\
    uses: {repo}/.github/workflows/reusable-{kind}.yml@{ref}
    with:
      policies: policies
      # Tenants per job: more than "1" signs in with one multi-tenant app ({docs}/github.md#many-tenants).
      tenants-per-job: "1"
      xtap-repository: {repo}
      xtap-ref: {ref}
"""

PLAN = """\
name: xtap plan

on:
  pull_request:
    # Every path of xtap-apply.yml's, so that each merge that applies had a plan to review.
    paths:
      - "policies/**"
      - "tenants/**"
      - ".github/workflows/xtap-*.yml"

permissions: {}

# A new push makes the running plan of the same pull request worthless.
concurrency:
  group: xtap-plan-${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  plan:
    name: plan
    # What the called workflow's jobs need; each of them takes only its own share.
    permissions:
      contents: read # to check out this repository and xtap
      id-token: write # for azure/login's OIDC federation (plan job only)
      security-events: write # to upload xtap check's SARIF to code scanning (plan job only)
      pull-requests: write # to post the plan comment (comment job only)
""" + _PINNED.replace("{kind}", "plan")

APPLY = (
    """\
name: xtap apply

# Only on a push to main: xtap-converge.yml is the manual path.
on:
  push:
    branches: [main]
    paths:
      - "policies/**"
      - "tenants/**"
      - ".github/workflows/xtap-*.yml"

permissions: {}

# No workflow-wide concurrency: the called apply job queues per tenant, so one tenant's apply
# never waits for another's and a running apply is never cancelled.
jobs:
  apply:
    name: apply
    # What the called workflow's jobs need; each of them takes only its own share.
    permissions:
      contents: read # to check out this repository and xtap
      id-token: write # for azure/login's OIDC federation (apply job only)
      actions: read # to find the reviewed plan run and download its saved plan
      pull-requests: write # to find the merged pull request and comment on it (report job only)
"""
    + _PINNED.replace("{kind}", "apply")
    + """\
      plan-workflow: xtap-plan.yml
      converge-workflow: xtap-converge.yml
"""
)

CONVERGE = (
    """\
name: xtap converge

on:
  workflow_dispatch:
    inputs:
      tenant:
        description: "The tenant to converge: default for policies/, or <name> for tenants/<name>/policies"
        required: true
        type: string

permissions: {}

# No workflow-wide concurrency: the called apply job queues per tenant with apply and drift.
jobs:
  converge:
    name: converge
    # What the called workflow's jobs need; each of them takes only its own share.
    permissions:
      contents: read # to check out this repository and xtap
      id-token: write # for azure/login's OIDC federation (plan and apply jobs only)
"""
    + _PINNED.replace("{kind}", "converge")
    + """\
      tenant: ${{ inputs.tenant }}
"""
)

DRIFT = """\
name: xtap drift

on:
  schedule:
    - cron: "23 5 * * *"
  workflow_dispatch:

permissions: {}

# No workflow-wide concurrency: the called drift job queues per tenant with apply and converge.
jobs:
  drift:
    name: drift
    # What the called workflow's jobs need; each of them takes only its own share.
    permissions:
      contents: read # to check out this repository and xtap
      id-token: write # for azure/login's OIDC federation (drift job only)
      issues: write # to open, edit and close the drift issue (issue job only)
""" + _PINNED.replace("{kind}", "drift")

#!/usr/bin/env bash
# Sets up the protected `tenant-apply` environment of a policy repository (`xtap init` writes
# this file into a new one as .github/setup.sh), through `gh api`
# (signed in with `gh auth login` as an administrator of the repository). Run it again at any
# time: it leaves the environment exactly as below.
#
#   .github/setup.sh [--repo OWNER/REPO] --reviewer USER|ORG/TEAM [--reviewer ...] [--allow-self-review]
#
# - creates or updates the environment with the required reviewers given (up to six users or
#   teams; each apply job waits for one of them to approve), and with `prevent_self_review`, so
#   the person who started a run cannot approve it (unless --allow-self-review; where GitHub
#   refuses it, the environment is set up without it, with a warning);
# - sets its deployment branches to "selected branches", and makes `main` the only one: a run
#   from any other branch cannot enter the environment, so it never gets the apply identity.
#   Other branch or tag rules found there are deleted.
# The repository is --repo, else $GH_REPO, else the one `gh repo view` names here.
# GitHub's docs: https://docs.github.com/en/rest/deployments/environments and
# https://docs.github.com/en/rest/deployments/branch-policies
set -euo pipefail

ENVIRONMENT=tenant-apply
BRANCH=main

usage() {
  sed -n '7p' "$0" | sed 's/^#   /usage: /' >&2
  exit 2
}
fail() {
  echo "setup.sh: $*" >&2
  exit 1
}

repo=${GH_REPO:-}
reviewers=()
prevent_self_review=true
while [ $# -gt 0 ]; do
  case $1 in
    --repo) [ $# -ge 2 ] || usage; repo=$2; shift 2 ;;
    --reviewer) [ $# -ge 2 ] || usage; reviewers+=("$2"); shift 2 ;;
    --allow-self-review) prevent_self_review=false; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done
[ -n "$repo" ] || repo=$(gh repo view --json nameWithOwner | jq -r .nameWithOwner)
[[ $repo =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || fail "'$repo' is not OWNER/REPO"
[ "${#reviewers[@]}" -gt 0 ] || fail "name at least one required reviewer: --reviewer USER or --reviewer ORG/TEAM"
[ "${#reviewers[@]}" -le 6 ] || fail "GitHub takes at most six required reviewers"

# Each reviewer as GitHub's environment API wants it: a type and a numeric id.
entries=()
for reviewer in "${reviewers[@]}"; do
  if [[ $reviewer =~ ^([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+)$ ]]; then
    id=$(gh api "orgs/${BASH_REMATCH[1]}/teams/${BASH_REMATCH[2]}" | jq -r .id) || fail "no team $reviewer"
    entries+=("$(jq -cn --argjson id "$id" '{type: "Team", id: $id}')")
  elif [[ $reviewer =~ ^[A-Za-z0-9-]+$ ]]; then
    id=$(gh api "users/$reviewer" | jq -r .id) || fail "no user $reviewer"
    entries+=("$(jq -cn --argjson id "$id" '{type: "User", id: $id}')")
  else
    fail "'$reviewer' is neither a user (LOGIN) nor a team (ORG/TEAM)"
  fi
done

# The environment: reviewers, self-review, and "selected branches" (custom branch policies).
environment() {
  printf '%s\n' "${entries[@]}" |
    jq -s --argjson prevent "$1" '{reviewers: ., prevent_self_review: $prevent,
      deployment_branch_policy: {protected_branches: false, custom_branch_policies: true}}' |
    gh api -X PUT "repos/$repo/environments/$ENVIRONMENT" --input - >/dev/null
}
if ! environment "$prevent_self_review"; then
  # Where GitHub does not offer prevent_self_review, the rest is still worth having: say so.
  if [ "$prevent_self_review" != true ] || ! environment false; then
    fail "could not set up the $ENVIRONMENT environment of $repo; required reviewers need a public repository, or a plan that has them for a private one"
  fi
  prevent_self_review="false (GitHub refused it here: whoever starts a run can approve it)"
  echo "setup.sh: warning: prevent_self_review was refused; the environment has its reviewers without it" >&2
fi
echo "environment $ENVIRONMENT: required reviewers ${reviewers[*]}, prevent self-review $prevent_self_review"

# main as the only deployment branch: add it when missing, delete every other rule.
policies=$(gh api "repos/$repo/environments/$ENVIRONMENT/deployment-branch-policies?per_page=100" | jq -c '.branch_policies // []')
if [ "$(jq --arg branch "$BRANCH" 'any(.[]; .name == $branch and (.type // "branch") == "branch")' <<<"$policies")" != true ]; then
  gh api -X POST "repos/$repo/environments/$ENVIRONMENT/deployment-branch-policies" -f name="$BRANCH" -f type=branch >/dev/null
fi
for id in $(jq -r --arg branch "$BRANCH" '.[] | select(.name != $branch or (.type // "branch") != "branch") | .id' <<<"$policies"); do
  gh api -X DELETE "repos/$repo/environments/$ENVIRONMENT/deployment-branch-policies/$id" >/dev/null
done
echo "environment $ENVIRONMENT: deployment branches: $BRANCH only"

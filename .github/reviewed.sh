#!/usr/bin/env bash
# Finds the reviewed plan of each tenant a push to main changed: the pull request merged by the
# push, its last commit, the plan workflow's run for that commit, and in it each tenant's plan job, its
# comment job and its `plan-<tenant>` artifact. Through `gh api`, with GH_TOKEN and GH_REPO.
#
#   SHA      the pushed commit (github.sha)
#   TENANTS  the tenants to apply: tenants.sh's JSON list
#   PLAN_WORKFLOW  the file name of the repository's plan workflow (default xtap-plan.yml)
#   GROUPED  `true` when tenants.sh groups the tenants (tenants-per-job), GROUPS its groups:
#            then a tenant's plan is in one of the run's `plans-<group>`
#            artifacts, under <tenant>/, made by a `plan group (...)` job; the apply job checks
#            that its reviewed.json is there (a tenant that could not be planned, or whose
#            files failed xtap check, has none), and every `comment group (...)` job of the run
#            must have succeeded, since which group showed which tenant is not in the jobs' names
#
# Writes to $GITHUB_OUTPUT:
#   pr       the merged pull request's number, or nothing after a direct push
#   ready    the tenants that have a reviewed plan, each with `run` (the plan run's id), `head`
#            (the commit it planned, which its reviewed.json must name) and `url` (the run's page)
#   refused  the other tenants, each with `reason`: nothing will be written to them
#   ready-groups  when GROUPED: the groups holding only the ready tenants, empty groups left out
# A reviewed plan is one that a plan comment showed: the plan job succeeded, so did the comment
# job that posted its markdown, and the artifact with the saved plan is still there. It exits 1
# only when GitHub cannot be asked.
set -euo pipefail
: "${GH_REPO:?}" "${SHA:?}" "${TENANTS:?}"
workflow=${PLAN_WORKFLOW:-xtap-plan.yml}
[[ $workflow =~ ^[A-Za-z0-9_.-]+\.ya?ml$ ]] || {
  echo "::error::PLAN_WORKFLOW is not a workflow's file name" >&2
  exit 1
}
[[ $SHA =~ ^[0-9a-f]{40}$ ]] || {
  echo "::error::SHA is not a commit id" >&2
  exit 1
}
# A JSON document from the REST API, every page of it.
api() { gh api -H "Accept: application/vnd.github+json" --paginate "$1" | jq -s "$2"; }

# The pull request this push merged: merging, squashing and rebasing all leave its
# merge_commit_sha at the pushed commit. A push of commits that no pull request merged has none.
pull=$(api "repos/$GH_REPO/commits/$SHA/pulls?per_page=100" \
  "[.[][] | select(.merged_at != null and .merge_commit_sha == \"$SHA\")] | first // {}")
pr=$(jq -r '.number // empty' <<<"$pull")
runs='[]'
run='{}'
jobs='[]'
artifacts='[]'
if [ -n "$pr" ]; then
  head=$(jq -r .head.sha <<<"$pull")
  [[ $head =~ ^[0-9a-f]{40}$ ]] || {
    echo "::error::pull request #$pr has no head commit id" >&2
    exit 1
  }
  # Runs of this repository's pull request for that commit only: a fork's run, or a run for
  # another branch that happens to hold the same commit, could carry files of its own making.
  runs=$(api "repos/$GH_REPO/actions/workflows/$workflow/runs?event=pull_request&head_sha=$head&per_page=100" '[.[].workflow_runs[]]')
  run=$(jq -c --arg head "$head" --arg repo "$GH_REPO" --argjson pull "$pull" '
    [.[] | select(.head_sha == $head and .event == "pull_request" and .status == "completed"
      and .head_repository.full_name == $repo and .head_branch == $pull.head.ref)]
    | sort_by(.created_at) | last // {}' <<<"$runs")
  id=$(jq -r '.id // empty' <<<"$run")
  if [ -n "$id" ]; then
    jobs=$(api "repos/$GH_REPO/actions/runs/$id/jobs?per_page=100" '[.[].jobs[]]')
    artifacts=$(api "repos/$GH_REPO/actions/runs/$id/artifacts?per_page=100" '[.[].artifacts[]]')
  fi
fi

# Each tenant, ready or refused, and why.
grouped=${GROUPED:-false}
verdicts=$(jq -c --arg sha "$SHA" --arg pr "$pr" --argjson pull "$pull" --argjson run "$run" \
  --argjson jobs "$jobs" --argjson artifacts "$artifacts" --argjson grouped "$([ "$grouped" = true ] && echo true || echo false)" '
  # A job of a called (reusable) workflow is named `<calling job> / <job>`.
  def job($name): [$jobs[] | select(.name == $name or (.name | endswith(" / " + $name)))] | last // {conclusion: "missing"};
  def grouped($prefix): [$jobs[] | select(.name | test("(^| / )" + $prefix + " \\("))];
  def short: .[0:12];
  map(. as $t | (
    if $pr == "" then "no pull request was merged by this push (\($sha | short)), so no plan was reviewed"
    elif $run == {} then "pull request #\($pr) has no completed plan run for its last commit \($pull.head.sha | short)"
    elif $grouped then
      if (grouped("comment group") | length) == 0 or any(grouped("comment group")[]; .conclusion != "success") then
        "not every plan comment of \($run.html_url) was posted (a comment group job did not succeed)"
      elif ([$artifacts[] | select((.name | startswith("plans-")) and .expired == false)] | length) == 0 then
        "the saved plans (artifacts plans-*) of \($run.html_url) are missing or expired"
      else null end
    elif job("plan (\($t.name))").conclusion != "success" then
      "its plan job in \($run.html_url) did not succeed (\(job("plan (\($t.name))").conclusion // "not finished"))"
    elif job("comment (\($t.name))").conclusion != "success" then
      "its plan comment was not posted by \($run.html_url) (comment job: \(job("comment (\($t.name))").conclusion // "not finished"))"
    elif ([$artifacts[] | select(.name == "plan-\($t.name)" and .expired == false)] | length) == 0 then
      "the saved plan (artifact plan-\($t.name)) of \($run.html_url) is missing or expired"
    else null end) as $reason
    | if $reason == null then $t + {run: ($run.id | tostring), head: $pull.head.sha, url: $run.html_url}
      else $t + {reason: $reason} end)' <<<"$TENANTS")

ready=$(jq -c 'map(select(has("reason") | not))' <<<"$verdicts")
refused=$(jq -c 'map(select(has("reason")))' <<<"$verdicts")
ready_groups='[]'
if [ "$grouped" = true ]; then
  ready_groups=$(jq -c --argjson ready "$ready" '
    map(.tenants |= [.[] as $t | $ready[] | select(.name == $t.name)]) | map(select(.tenants != []))' <<<"${GROUPS:?}")
fi
{
  echo "pr=$pr"
  echo "ready=$ready"
  echo "refused=$refused"
  echo "ready-groups=$ready_groups"
} >>"$GITHUB_OUTPUT"

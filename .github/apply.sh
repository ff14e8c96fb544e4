#!/usr/bin/env bash
# Applies one tenant's reviewed plan and nothing else, then checks with a closing plan that the
# tenant matches its files. Run by the apply and converge workflows (reusable-apply.yml,
# reusable-converge.yml) from xtap's checkout (.xtap/), in main's checkout of the policies.
#
#   $1             the folder with the plan job's artifact: plan.json, and reviewed.json naming
#                  the commit that was planned, the tenant and its policies folder
#   REVIEWED_SHA   the commit reviewed.json must name (the pull request's last commit, or the
#                  converge run's commit)
#   TENANT         the tenant's name; XTAP_POLICIES its policies folder
#   REASON         a file to write why the tenant was not (fully) applied, in one markdown line
#
# `xtap apply plan.json` plans again and refuses, with exit 1 and no write, a saved plan that
# differs from the plan made now: the tenant changed since (stale), or main's files or xtap make
# other writes. The job summary says what was applied, or why nothing was.
set -euo pipefail
reviewed=$1
: "${REVIEWED_SHA:?}" "${TENANT:?}" "${XTAP_POLICIES:?}" "${REASON:?}"

refuse() {
  echo "$1" >"$REASON"
  {
    echo "### xtap apply: $XTAP_POLICIES"
    echo "Not applied: $1"
  } >>"$GITHUB_STEP_SUMMARY"
  echo "::error::$XTAP_POLICIES: not applied: $1" >&2
  exit 1
}

if [ ! -f "$reviewed/reviewed.json" ] || [ ! -f "$reviewed/plan.json" ]; then
  refuse "the plan artifact holds no saved plan: the plan step did not finish"
fi
named=$(jq -r '[.headSha, .tenant, .policies] | map(tostring) | join(" ")' "$reviewed/reviewed.json" 2>/dev/null) ||
  refuse "the plan artifact's reviewed.json is not JSON"
[ "$named" = "$REVIEWED_SHA $TENANT $XTAP_POLICIES" ] ||
  refuse "the saved plan was not made for commit ${REVIEWED_SHA:0:12} and tenant $TENANT ($XTAP_POLICIES)"

status=0
xtap apply "$reviewed/plan.json" --auto-approve 2>&1 | tee "$reviewed/apply.log" || status=$?
{
  echo "### xtap apply: $XTAP_POLICIES"
  echo "The plan reviewed for commit \`$REVIEWED_SHA\`:"
  echo '```'
  # Graph's messages are outside text: a backtick in one must not close the fence.
  grep -E '^(applied|failed|skipped|interrupted): |^Apply |^Nothing to apply|^Error: ' "$reviewed/apply.log" | tr '`' "'" || true
  echo '```'
} >>"$GITHUB_STEP_SUMMARY"
if [ "$status" != 0 ]; then
  errors=$(grep -E '^Error: ' "$reviewed/apply.log" | sed 's/^Error: //' | tr '\n' ' ' || true)
  echo "${errors:-xtap apply failed (exit $status)}" >"$REASON"
  exit "$status"
fi

# What apply wrote must read back as the files say: anything left is a failure to look at.
status=0
xtap plan --format markdown --detailed-exitcode >"$reviewed/closing-plan.md" || status=$?
if [ "$status" = 0 ]; then
  echo "Closing plan: no changes." >>"$GITHUB_STEP_SUMMARY"
else
  { echo "Closing plan is not clean (exit $status):"; echo; cat "$reviewed/closing-plan.md"; } >>"$GITHUB_STEP_SUMMARY"
  echo "applied, but the closing plan is not clean (exit $status): the tenant still differs from its files" >"$REASON"
fi
exit "$status"

#!/usr/bin/env bash
# Writes `tenants=<JSON list>` to $GITHUB_OUTPUT: the matrix the plan, apply and drift jobs fan
# out over. Each entry is a policies folder ("policies", or "tenants/<name>/policies" for one of
# several tenants) and the suffix of its identity variables (XTAP_TENANT_ID<suffix>, ...).
# With XTAP_CHANGED_SINCE set (a commit), only the tenants whose folder changed are listed,
# unless a change outside every tenant's folder (code, workflows) may change every plan.
set -euo pipefail
entries=()
[ -d policies ] && entries+=("default policies")
for dir in tenants/*/policies; do
  [ -d "$dir" ] || continue
  name=${dir#tenants/}; name=${name%/policies}
  if [[ ! $name =~ ^[A-Za-z0-9_-]+$ || $name == default ]]; then
    echo "::error::tenants/${name//[^A-Za-z0-9_-]/?}: a tenant folder's name is letters, digits, '_' or '-', and not 'default'" >&2
    exit 1
  fi
  entries+=("$name $dir")
done
if [ -n "${XTAP_CHANGED_SINCE:-}" ]; then
  changed=$(git diff --name-only "$XTAP_CHANGED_SINCE" HEAD)
  if ! grep -qvE '^(policies|tenants/[^/]+)/' <<<"$changed"; then
    kept=()
    for entry in "${entries[@]}"; do
      folder=${entry#* }; folder=${folder%policies}
      grep -q "^${folder:-policies/}" <<<"$changed" && kept+=("$entry")
    done
    entries=("${kept[@]}")
  fi
fi
printf '%s\n' "${entries[@]}" | jq -Rnc '[inputs | select(. != "") | split(" ") | {name: .[0], policies: .[1],
  suffix: (if .[0] == "default" then "" else "_" + (.[0] | ascii_upcase | gsub("-"; "_")) end)}]' |
  sed 's/^/tenants=/' >>"$GITHUB_OUTPUT"

#!/usr/bin/env bash
# Writes `tenants=<JSON list>` to $GITHUB_OUTPUT: the matrix the plan, apply, converge and drift
# jobs fan out over. Each entry is a policies folder ("policies", or "tenants/<name>/policies" for
# one of several tenants) and the suffix of its identity variables (XTAP_TENANT_ID<suffix>, ...).
#
# One tenant, one folder. It refuses (exit 1, an ::error:: naming both folders):
# - a policies folder that is a symbolic link, or that resolves outside its tenant folder;
# - two folders whose variables have the same suffix (`fab-rikam` and `Fab_Rikam`);
# - two folders bound to the same tenant (`tenant:` in their xtap.yaml, any case);
# and, given the repository's variables as JSON in XTAP_VARS (`toJSON(vars)`):
# - two folders whose XTAP_TENANT_ID<suffix> is the same tenant;
# - a folder whose xtap.yaml binds another tenant than its XTAP_TENANT_ID<suffix>.
#
# XTAP_FOLDER (the reusable workflows' `policies` input, default `policies`) is where the
# tenants are: a folder that holds `<name>/policies/` folders is one tenant per such folder
# (`tenants`, say); any other folder is the one tenant `default`. The default `policies` also
# lists `tenants/<name>/policies/`, so the two layouts can live side by side.
#
# With XTAP_CHANGED_SINCE set (a commit), only the tenants that read a changed file are listed:
# a file under the tenant's folder, or a file that a link inside its policies folder leads to.
# A change outside every tenant's folder (code, workflows) may change every plan: all are listed.
# With XTAP_TENANT set (a name), only that tenant is listed, and a name that is not a tenant's
# is refused.
#
# It also writes `groups=<JSON list>`, the matrix of the jobs that take several tenants each
# (`{"name", "grouped", "tenants": [<entries as above>]}`), and `grouped=true|false`. GitHub
# runs at most 256 jobs of one matrix, so a group holds max(XTAP_TENANTS_PER_JOB (default 1),
# ceil(tenants / 256)) tenants, counting every tenant of the repository (not only the listed
# ones): a repository is grouped or not whatever a change touches, and a tenant is always in the
# same group (the same block of the sorted list), so the jobs of one group queue together. With
# groups of one, `grouped=false` and each group is named after its tenant; grouped, the groups
# are numbered from 1, their jobs sign in to every tenant with one multi-tenant app, and a
# folder whose xtap.yaml binds no tenant is refused: the binding is the tenant they sign in to.
set -euo pipefail
shopt -s nullglob

fail() {
  echo "::error::$*" >&2
  exit 1
}
guid='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
root=$(pwd -P)

# The tenant xtap.yaml binds the folder to, in lower case, or nothing. Read from the line of its
# own that xtap.yaml writes it on: `tenant: <GUID>`, quoted or not, with or without a comment.
# A form this cannot read (a flow mapping, a value that is not a GUID) is refused, so that a
# binding is never missed.
binding() {
  local file=$1/xtap.yaml line value=
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#.*)?$ || $line =~ ^(---|\.\.\.)([[:space:]].*)?$ ]] && continue
    [[ $line =~ ^[{] ]] && fail "$file: write xtap.yaml as one key a line (block style); tenants.sh reads 'tenant:' from its own line"
    [[ $line =~ ^[\"\']?tenant[\"\']?[[:space:]]*:(.*)$ ]] || continue
    value=${BASH_REMATCH[1]}
    if [[ $value =~ ^[[:space:]]*(\"([^\"]*)\"|\'([^\']*)\'|([^[:space:]#\"\']+))[[:space:]]*(#.*)?$ ]]; then
      value=${BASH_REMATCH[2]}${BASH_REMATCH[3]}${BASH_REMATCH[4]}
    fi
    value=${value,,}
    [[ $value =~ $guid ]] || fail "$file: its 'tenant:' is not a GUID that tenants.sh can read; write it as 'tenant: <GUID>'"
    echo "$value"
    return 0
  done <"$file"
}

# Where each tenant keeps its files: the repository root for `policies`, tenants/<name>/ else.
declare -A home_of=()
names=()
folders=()
add() {
  local name=$1 folder=$2 home=$3
  [ -L "$folder" ] && fail "$folder: a policies folder may not be a symbolic link"
  [ "$(realpath -e -- "$folder")" = "$root/$folder" ] || fail "$folder: resolves outside ${home:-the repository root}"
  names+=("$name")
  folders+=("$folder")
  home_of[$name]=$home
}
folder=${XTAP_FOLDER:-policies}
folder=${folder%/}
if [[ ! $folder =~ ^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$ || /$folder/ == */../* || /$folder/ == */./* ]]; then
  fail "the policies folder '${folder//[^A-Za-z0-9_.\/-]/?}' is not a relative path inside the repository"
fi
# The folders whose `<name>/policies/` are tenants: `tenants` next to the default `policies`.
roots=()
homes=()
tenant_folders=("$folder"/*/policies)
if [ "$folder" = policies ]; then
  roots=(tenants)
elif [ "${#tenant_folders[@]}" -gt 0 ]; then
  roots=("$folder")
fi
if [ "${#roots[@]}" = 0 ] || [ "$folder" = policies ]; then
  if [ -L "$folder" ] || [ -d "$folder" ]; then add default "$folder" ""; fi
  homes+=("$folder/")
fi
for tenants_root in "${roots[@]}"; do
  homes+=("$tenants_root/*/")
  for dir in "$tenants_root"/*/policies; do
    [ -L "$dir" ] || [ -d "$dir" ] || continue
    name=${dir#"$tenants_root"/}
    name=${name%/policies}
    if [[ ! $name =~ ^[A-Za-z0-9_-]+$ || $name == default ]]; then
      fail "$tenants_root/${name//[^A-Za-z0-9_-]/?}: a tenant folder's name is letters, digits, '_' or '-', and not 'default'"
    fi
    add "$name" "$dir" "$tenants_root/$name/"
  done
done

# Tenants per group, from the count of every tenant, and each tenant's group (its block).
per_job=${XTAP_TENANTS_PER_JOB:-1}
[[ $per_job =~ ^[1-9][0-9]{0,5}$ ]] || fail "tenants-per-job: write a whole number from 1, not '${per_job//[^A-Za-z0-9_.-]/?}'"
size=$(((${#names[@]} + 255) / 256))
[ "$size" -ge "$per_job" ] || size=$per_job
grouped=false
[ "$size" = 1 ] || grouped=true
declare -A block_of=()
for i in "${!names[@]}"; do block_of[${names[$i]}]=$((i / size + 1)); done

# The suffix of a tenant's variables: tenants/fab-rikam/ uses XTAP_TENANT_ID_FAB_RIKAM.
suffix() {
  if [ "$1" = default ]; then echo ""; else
    local upper=${1^^}
    echo "_${upper//-/_}"
  fi
}

# One folder per suffix, per bound tenant and per tenant id variable.
declare -A by_suffix=() by_binding=() by_variable=()
vars=${XTAP_VARS:-}
[[ $vars =~ ^[[:space:]]*(\{[[:space:]]*\}|null)?[[:space:]]*$ ]] && vars=""
for i in "${!names[@]}"; do
  name=${names[$i]} folder=${folders[$i]}
  sfx=$(suffix "$name")
  other=${by_suffix[x$sfx]:-} # x: the default tenant's suffix is empty, and a key may not be
  [ -z "$other" ] || fail "$other and $folder both use the variables XTAP_TENANT_ID$sfx, ...: rename one folder"
  by_suffix[x$sfx]=$folder
  bound=$(binding "$folder")
  [ -n "$bound" ] || [ "$grouped" = false ] ||
    fail "$folder/xtap.yaml: add 'tenant: <GUID>', the tenant these policies are for: with $size tenants a job (tenants-per-job), the jobs sign in to the tenant each folder binds"
  if [ -n "$bound" ]; then
    other=${by_binding[$bound]:-}
    [ -z "$other" ] || fail "$other and $folder are both bound to tenant $bound (xtap.yaml): one tenant, one folder"
    by_binding[$bound]=$folder
  fi
  [ -n "$vars" ] || continue
  id=$(jq -r --arg key "XTAP_TENANT_ID$sfx" '.[$key] // "" | ascii_downcase | gsub("^\\s+|\\s+$"; "")' <<<"$vars")
  if [ -z "$id" ]; then
    # Grouped, one app signs in to every bound tenant: no tenant needs variables of its own.
    [ "$grouped" = true ] && continue
    echo "::warning::$folder: the repository variable XTAP_TENANT_ID$sfx is not set, so its jobs cannot sign in" >&2
    continue
  fi
  [[ $id =~ $guid ]] || fail "$folder: the repository variable XTAP_TENANT_ID$sfx is not a GUID"
  other=${by_variable[$id]:-}
  [ -z "$other" ] || fail "$other and $folder are both for tenant $id (their XTAP_TENANT_ID variables): one tenant, one folder"
  by_variable[$id]=$folder
  [ -z "$bound" ] || [ "$bound" = "$id" ] ||
    fail "$folder is bound to tenant $bound (xtap.yaml), but XTAP_TENANT_ID$sfx is tenant $id"
done

# Does tenant $1 read a changed file? Its folder's own files, and where its links lead.
declare -A changed=()
reads_changed() {
  local name=$1 folder=$2 home=${home_of[$1]:-$2/} path
  for path in "${!changed[@]}"; do
    [[ $path == "$home"* ]] && return 0
  done
  # Without a link inside, every file it reads is under its folder, checked above.
  [ -n "$(find "$folder" -type l -print -quit)" ] || return 1
  local listed status=0
  listed=$(mktemp)
  # A link that loops or cannot be followed: count the tenant as changed rather than guess.
  find -L "$folder" \( -type f -o -type l \) -print0 >"$listed" || status=$?
  while [ "$status" = 0 ] && IFS= read -r -d '' path; do
    [ -n "${changed[${path#"$root"/}]:-}" ] && status=changed
  done < <(xargs -0r realpath -mz -- <"$listed")
  rm -f "$listed"
  [ "$status" != 0 ] && return 0
  return 1
}

since=${XTAP_CHANGED_SINCE:-}
if [ -n "$since" ]; then
  if [[ $since =~ ^0+$ ]] || ! git cat-file -e "$since^{commit}" 2>/dev/null; then
    echo "::notice::no earlier commit to compare with ($since): every tenant is listed" >&2
  else
    outside=false
    while IFS= read -r -d '' path; do
      changed[$path]=1
      inside=false
      for home in "${homes[@]}"; do
        # shellcheck disable=SC2053 # a pattern: `tenants/*/` matches each tenant's folder
        [[ $path == $home* ]] && inside=true
      done
      [ "$inside" = true ] || outside=true
    done < <(git -c core.quotePath=false diff --name-only --no-renames -z "$since" HEAD)
    if [ "$outside" = false ]; then
      kept_names=()
      kept_folders=()
      for i in "${!names[@]}"; do
        if reads_changed "${names[$i]}" "${folders[$i]}"; then
          kept_names+=("${names[$i]}")
          kept_folders+=("${folders[$i]}")
        fi
      done
      names=("${kept_names[@]}")
      folders=("${kept_folders[@]}")
    fi
  fi
fi

if [ -n "${XTAP_TENANT:-}" ]; then
  found=
  for i in "${!names[@]}"; do
    [ "${names[$i]}" = "$XTAP_TENANT" ] && found=$i
  done
  [ -n "$found" ] || fail "${XTAP_TENANT//[^A-Za-z0-9_-]/?} is not a tenant of this repository; tenants: ${names[*]:-none}"
  names=("${names[$found]}")
  folders=("${folders[$found]}")
fi

listed=$(
  for i in "${!names[@]}"; do
    printf '%s %s %s %s\n' "${names[$i]}" "${folders[$i]}" "$(suffix "${names[$i]}")" "${block_of[${names[$i]}]}"
  done | jq -Rnc '[inputs | split(" ") | {name: .[0], policies: .[1], suffix: .[2], block: (.[3] | tonumber)}]'
)
{
  jq -c 'map(del(.block))' <<<"$listed" | sed 's/^/tenants=/'
  jq -c --argjson grouped "$grouped" 'group_by(.block) | map({
    name: (if $grouped then .[0].block | tostring else .[0].name end), grouped: $grouped, tenants: map(del(.block))})' \
    <<<"$listed" | sed 's/^/groups=/'
  echo "grouped=$grouped"
} >>"$GITHUB_OUTPUT"

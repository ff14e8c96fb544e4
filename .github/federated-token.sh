#!/usr/bin/env bash
# Signs a grouped job (tenants-per-job, docs/github.md#many-tenants) in to every customer tenant
# with one multi-tenant app registration, in place of azure/login: it fetches the job's GitHub
# OIDC token for Entra ID's audience into a file under $RUNNER_TEMP, and points azure-identity's
# WorkloadIdentityCredential at it (through $GITHUB_ENV, for the job's later steps). xtap then
# asks for a token of the tenant each folder's xtap.yaml binds; AZURE_ADDITIONALLY_ALLOWED_TENANTS
# lets the credential get it from that tenant with the same app and federated credential.
#
#   CLIENT_ID       the app's client id (XTAP_PLAN_CLIENT_ID or XTAP_APPLY_CLIENT_ID)
#   HOME_TENANT_ID  the tenant the app is registered in (XTAP_HOME_TENANT_ID)
#
# GitHub's OIDC token is short-lived (5 minutes, as observed in
# https://github.com/Azure/login/issues/441; GitHub does not document its lifetime), and
# azure-identity reads the file again whenever it needs a new access token: a background loop
# writes a fresh token every 4 minutes until the job ends. The token is never printed.
set -euo pipefail
fail() {
  echo "::error::$*" >&2
  exit 1
}
guid='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
[[ ${CLIENT_ID:-} =~ $guid ]] || fail "set the repository variable with the multi-tenant app's client id (a GUID): docs/github.md#many-tenants"
[[ ${HOME_TENANT_ID:-} =~ $guid ]] || fail "set the repository variable XTAP_HOME_TENANT_ID to the tenant the app is registered in (a GUID): docs/github.md#many-tenants"
[ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] && [ -n "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ] ||
  fail "no GitHub OIDC token for this job: it needs the permission id-token: write"
file=$RUNNER_TEMP/azure-federated-token

fetch() {
  local token
  token=$(curl -fsS --retry 3 -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange" | jq -r '.value // empty') || return 1
  [[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || return 1
  # Written aside, then moved: a reader never sees half a token.
  (umask 077 && printf '%s' "$token" >"$file.new")
  mv -f "$file.new" "$file"
}
fetch || fail "could not get the job's OIDC token from GitHub"
# Detached from the step's output, so the step ends while the loop goes on; the runner ends it
# with the job (its process id is in $file.pid). A token endpoint that no longer answers means
# the job is over: the loop ends too.
(while sleep 240 && fetch; do :; done) </dev/null >/dev/null 2>&1 &
echo "$!" >"$file.pid"
disown

{
  echo "AZURE_CLIENT_ID=$CLIENT_ID"
  echo "AZURE_TENANT_ID=$HOME_TENANT_ID"
  echo "AZURE_FEDERATED_TOKEN_FILE=$file"
  echo "AZURE_ADDITIONALLY_ALLOWED_TENANTS=*"
} >>"$GITHUB_ENV"

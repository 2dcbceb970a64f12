#!/usr/bin/env bash
# `make run`'s GitHub source connection (issue 17): creates NAME (default demo-github, project
# demo) or, on later runs, gives it a new signing secret at once (--grace 0: the previous run's is
# gone with the paste lines that showed it); prints where GitHub takes the URL and the secret, then
# the lines that post a signed sample deployment_status (scripts/samples/) as GitHub would.
#   scripts/demo-github.sh LAKEHOOK_BINARY [NAME]
# Needs the database settings (DATABASE_URL or PG*) and LAKEHOOK_LISTEN / LAKEHOOK_PUBLIC_URL as
# `lakehook serve` will have them.
set -euo pipefail
bin="$1"
name="${2:-demo-github}"
root="$(cd "$(dirname "$0")/.." && pwd)"
sample="$root/scripts/samples/github-deployment_status.json"

if "$bin" connections list --json | grep -q "\"name\":\"$name\""; then
    made="$("$bin" connections rotate-secret "$name" --grace 0)"
else
    made="$("$bin" connections create "$name" --source github --project demo)"
fi
secret="$(sed -n 's/^Signing secret (shown this once; store it now): //p' <<<"$made")"
url="$(sed -n 's/^Webhook URL: //p' <<<"$made")"
[ -n "$secret" ] && [ -n "$url" ] || { echo "demo-github: unexpected output of lakehook:" >&2; echo "$made" >&2; exit 1; }

echo
echo "A GitHub connection, \"$name\" (a repository's Settings → Webhooks → Add webhook):"
echo "  Payload URL:   $url"
echo "  Content type:  application/json"
echo "  Secret:        $secret"
echo "  Events:        Deployments, Deployment statuses, Issues, Pull requests, Workflow runs"
echo "  (GitHub must reach that URL: a public LAKEHOOK_PUBLIC_URL, or a tunnel to this port.)"
echo
echo "Try GitHub: paste these lines; the curl posts a sample deployment_status signed as GitHub signs it and"
echo "answers {\"success\":true,...} with the deployment it wrote (it can be pasted again: the same deployment)."
command -v openssl >/dev/null 2>&1 || echo "  # (openssl is missing here: apt-get install openssl)"
printf '  SECRET=%q URL=%q FILE=%q\n' "$secret" "$url" "$sample"
echo '  sig=$(openssl dgst -sha256 -hmac "$SECRET" -hex < "$FILE" | sed '"'"'s/^.* //'"'"')'
echo '  curl -sS -X POST "$URL" -H "Content-Type: application/json" -H "X-GitHub-Event: deployment_status" -H "X-Hub-Signature-256: sha256=$sig" --data-binary @"$FILE"'

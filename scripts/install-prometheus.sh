#!/usr/bin/env bash
# Installs Debian's `prometheus` package (the server and promtool, for the tests) without letting
# it start as a service: its init script would run a Prometheus on :9090 (and its recommended
# node exporter another on :9100); the tests run their own, on free ports. Idempotent; as root
# (or through sudo: `sudo scripts/install-prometheus.sh`).
set -euo pipefail

command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && exit 0

# A policy-rc.d that refuses every start (exit 101), for the time of the install, unless one is
# already there (container images often ship it).
policy=/usr/sbin/policy-rc.d
added=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added=1
fi
trap '[ -z "$added" ] || rm -f "$policy"' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null

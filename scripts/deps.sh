#!/usr/bin/env bash
# Makes sure what Lakehook builds and runs with is installed: the Swift toolchain, pkg-config,
# libpq's headers, and a PostgreSQL server (for `make run` and `make test`). Installs what is
# missing with apt-get when it can (root, or sudo without a password); otherwise says exactly
# what to install.
set -euo pipefail

need_packages=()
command -v pkg-config >/dev/null 2>&1 || need_packages+=(pkg-config)
pkg-config --exists libpq 2>/dev/null || need_packages+=(libpq-dev)
if [ -z "${DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    need_packages+=(postgresql)
fi

# `make test` also runs a real nginx, curl, headless Chromium (the DORA page) and PyPI tools in a
# virtualenv (schemathesis, openapi-spec-validator, prometheus_client, hadolint,
# grafana-foundation-sdk), made below by scripts/python-tools.sh.
if [ "${1:-}" = "--test" ]; then
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_packages+=(nginx)
    command -v curl >/dev/null 2>&1 || need_packages+=(curl)
    command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
    command -v python3 >/dev/null 2>&1 || need_packages+=(python3)
    python3 -m venv --help >/dev/null 2>&1 || need_packages+=(python3-venv)
fi

# `make bench` drives load with wrk against pgbench (postgresql-contrib on some releases) and
# nginx, and builds bench/slowflush.c with cc.
if [ "${1:-}" = "--bench" ]; then
    command -v wrk >/dev/null 2>&1 || need_packages+=(wrk)
    command -v pgbench >/dev/null 2>&1 || need_packages+=(postgresql-contrib)
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_packages+=(nginx)
    command -v cc >/dev/null 2>&1 || need_packages+=(gcc)
    command -v curl >/dev/null 2>&1 || need_packages+=(curl)
fi

if [ ${#need_packages[@]} -gt 0 ]; then
    echo "lakehook: installing missing packages: ${need_packages[*]}" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
    else
        echo "lakehook: please install them first:  sudo apt-get install ${need_packages[*]}" >&2
        exit 1
    fi
fi

# `make test` also runs a real Prometheus and promtool (the DORA gauges and alert rules),
# installed so that the package starts no service of its own.
if [ "${1:-}" = "--test" ] && ! { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }; then
    echo "lakehook: installing prometheus (not started as a service)" >&2
    if [ "$(id -u)" = 0 ]; then
        "$(dirname "$0")/install-prometheus.sh"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$(dirname "$0")/install-prometheus.sh"
    else
        echo "lakehook: please install it first:  sudo $(dirname "$0")/install-prometheus.sh" >&2
        exit 1
    fi
fi

# The Python tools (scripts/python-tools.sh) come from PyPI: made now, so that an unreachable PyPI
# is said once, up front, rather than by every test that needs them.
if [ "${1:-}" = "--test" ]; then
    "$(dirname "${BASH_SOURCE[0]}")/python-tools.sh" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "lakehook: swift is not on PATH; run: export PATH=/opt/swift/usr/bin:\$PATH" >&2
    else
        echo "lakehook: the Swift 6 toolchain is needed (https://www.swift.org/install/linux/)" >&2
    fi
    exit 1
fi

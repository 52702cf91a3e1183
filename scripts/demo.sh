#!/usr/bin/env bash
# Installs what the demo needs (Debian packages), builds proxyarpd and proxyarpd-lab and runs
# `proxyarpd-lab demo` (which runs the proxyarpd built next to it) as root: a throwaway network-namespace lab, removed at the end (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-packages.sh

swift build 2>&1 | grep -E "error|Build complete" | tail -3
exec "$(swift build --show-bin-path)/proxyarpd-lab" demo "$@"

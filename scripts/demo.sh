#!/usr/bin/env bash
# Installs what the demo needs (Debian packages), builds proxyarpd and runs `proxyarpd demo`
# as root: a throwaway network-namespace lab, removed at the end (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpcap-dev libcap-dev iproute2 iputils-arping iputils-ping tcpdump)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
fi

swift build 2>&1 | grep -E "error|Build complete" | tail -3
exec "$(swift build --show-bin-path)/proxyarpd" demo "$@"

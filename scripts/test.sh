#!/usr/bin/env bash
# Installs what the tests need (Debian packages), builds without warnings, runs every test.
# Run as root: the end-to-end tests build network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpcap-dev libcap-dev iproute2 iputils-arping iputils-ping tcpdump curl)
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

# Our own sources must build without a single warning (dependencies are not ours to fix).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | tee "$log" | grep -E "error|Compiling|Build complete" | tail -3
if grep -E "^$PWD/(Sources|Tests)/.*warning:" "$log"; then
    echo "warnings in our sources: failing" >&2
    exit 1
fi

swift test --disable-xctest

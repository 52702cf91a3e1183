#!/usr/bin/env bash
# Installs the Debian packages proxyarpd's build, demo and tests need, if any is missing.
set -euo pipefail
packages=(libpcap-dev libcap-dev libbpf-dev iproute2 iputils-arping iputils-ping ndisc6 tcpdump curl valgrind jq etcd-server etcd-client openssl strace)
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

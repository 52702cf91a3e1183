#!/usr/bin/env bash
# Installs proxyarpd on this host: builds a release binary, installs it to
# /usr/local/bin, the systemd unit to /etc/systemd/system, the example configuration to
# /etc/proxyarpd/proxyarpd.yaml (only if absent), and creates the proxyarpd user/group.
# Run as root. Then: edit /etc/proxyarpd/proxyarpd.yaml, `systemctl enable --now proxyarpd`.
# Not run by the tests (it changes the machine's systemd).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 1; }

packages=(libpcap-dev libcap-dev)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

swift build -c release --product proxyarpd
install -m 0755 "$(swift build -c release --show-bin-path)/proxyarpd" /usr/local/bin/proxyarpd

getent group proxyarpd >/dev/null || groupadd --system proxyarpd
getent passwd proxyarpd >/dev/null || useradd --system --gid proxyarpd --home-dir /var/lib/proxyarpd \
    --no-create-home --shell /usr/sbin/nologin proxyarpd

install -d -m 0755 /etc/proxyarpd
if [[ ! -e /etc/proxyarpd/proxyarpd.yaml ]]; then
    install -m 0640 -g proxyarpd proxyarpd.example.yaml /etc/proxyarpd/proxyarpd.yaml
    echo "installed the example configuration: edit /etc/proxyarpd/proxyarpd.yaml"
fi
install -m 0644 dist/proxyarpd.service /etc/systemd/system/proxyarpd.service
systemctl daemon-reload 2>/dev/null || true
echo "installed; start with: systemctl enable --now proxyarpd"

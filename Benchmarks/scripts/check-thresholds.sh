#!/usr/bin/env bash
# Checks the stored per-toolchain thresholds (Thresholds/swift-X.Y/, X.Y from `swift
# --version`): every suite's malloc count at p90 (ordo-one/benchmark `thresholds check`),
# then instructions per frame under callgrind (scripts/check-instructions.sh).
# Exits non-zero if either fails, or if nothing is stored for this toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
path=Thresholds/swift-$version
if [[ ! -d $path ]]; then
    echo "check-thresholds: no thresholds stored for swift-$version ($path); see README, Performance" >&2
    exit 2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if swift package benchmark thresholds check --path "$path" >"$log" 2>&1; then
    grep -a -E "^Checking \[|EQUAL to the defined thresholds" "$log"
else
    status=$?
    grep -a -v "ETA: " "$log"
    echo "malloc counts over the thresholds in $path (or the run failed)" >&2
    exit "$status"
fi
scripts/check-instructions.sh --path "$path"

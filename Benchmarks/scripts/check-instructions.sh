#!/usr/bin/env bash
# Instructions per frame of the answer path (Core's AnswerKernel, run by answerBatch), counted
# by callgrind (no perf counters needed), checked against the value stored for this
# toolchain and architecture in Thresholds/swift-X.Y/instructions-per-frame.json.
#
#     scripts/check-instructions.sh            # measure and check; exit 1 if over threshold
#     scripts/check-instructions.sh --update   # measure and store as the new threshold
#     scripts/check-instructions.sh --path Thresholds/swift-6.3
#
# The method is the README's: FastPathCount builds its view and batch (and gives the per-VIP
# reply table the capacity the daemon keeps from earlier batches), then runs answerBatch
# BATCHES times; `--toggle-collect='*answerBatch*'` makes callgrind count only
# the instructions executed inside answerBatch (and what it calls), so the set-up is not
# counted at all. Ir collected / (BATCHES × 256) = instructions per frame.
# SWIFT_DETERMINISTIC_HASHING=1 fixes the hash seed, so the count is the same on every
# run (with a random seed it varies by about 0.5 %).
set -euo pipefail
cd "$(dirname "$0")/.."

update=false
path=""
while (($#)); do
    case "$1" in
    --update) update=true ;;
    --path) path=$2; shift ;;
    *) echo "usage: $0 [--update] [--path Thresholds/swift-X.Y]" >&2; exit 64 ;;
    esac
    shift
done
if [[ -z $path ]]; then
    version=$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
    path=Thresholds/swift-$version
fi
file=$path/instructions-per-frame.json
arch=$(uname -m)
batches=100
vip_counts=(1 100000)
tolerance_percent=5

for tool in valgrind jq; do
    command -v "$tool" >/dev/null || { echo "check-instructions: $tool is not installed" >&2; exit 2; }
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build -c release --product FastPathCount >"$log" 2>&1; then
    cat "$log" >&2
    exit 2
fi
binary="$(swift build -c release --show-bin-path)/FastPathCount"

# Prints instructions per frame (one decimal) for $1 VIPs.
measure() {
    local vips=$1 replies collected
    replies=$(SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --toggle-collect='*answerBatch*' \
        --callgrind-out-file=/dev/null "$binary" "$vips" "$batches" 2>"$log")
    collected=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$log")
    # Every request of the batch is for a VIP of the view: each frame must be answered.
    if [[ $replies != "$((batches * 256)) replies to $batches batches of 256 at $vips VIPs" || -z $collected ]]; then
        echo "check-instructions: unexpected run of FastPathCount at $vips VIPs: $replies" >&2
        cat "$log" >&2
        exit 2
    fi
    awk -v ir="$collected" -v frames="$((batches * 256))" 'BEGIN { printf "%.1f\n", ir / frames }'
}

declare -A measured
for vips in "${vip_counts[@]}"; do
    measured[$vips]=$(measure "$vips")
done

if $update; then
    mkdir -p "$path"
    {
        printf '{\n'
        printf '  "arch" : "%s",\n' "$arch"
        printf '  "batches" : %d,\n' "$batches"
        printf '  "instructionsPerFrame" : {\n'
        for index in "${!vip_counts[@]}"; do
            vips=${vip_counts[$index]}
            separator=$([[ $index -lt $((${#vip_counts[@]} - 1)) ]] && echo , || true)
            printf '    "%s" : %s%s\n' "$vips" "${measured[$vips]}" "$separator"
        done
        printf '  },\n'
        printf '  "tolerancePercent" : %d\n' "$tolerance_percent"
        printf '}\n'
    } >"$file"
    for vips in "${vip_counts[@]}"; do
        echo "answerBatch at $vips VIPs: ${measured[$vips]} instructions/frame (stored in $file)"
    done
    exit 0
fi

if [[ ! -f $file ]]; then
    echo "check-instructions: no stored threshold at $file (run with --update to store one)" >&2
    exit 2
fi
stored_arch=$(jq -r '.arch' "$file")
if [[ $stored_arch != "$arch" ]]; then
    echo "check-instructions: $file is for $stored_arch, this machine is $arch: nothing to compare with" >&2
    exit 2
fi
tolerance=$(jq -r '.tolerancePercent' "$file")
failed=0
for vips in "${vip_counts[@]}"; do
    threshold=$(jq -r --arg vips "$vips" '.instructionsPerFrame[$vips] // empty' "$file")
    if [[ -z $threshold ]]; then
        echo "check-instructions: no threshold for $vips VIPs in $file" >&2
        exit 2
    fi
    verdict=$(awk -v m="${measured[$vips]}" -v t="$threshold" -v p="$tolerance" 'BEGIN {
        limit = t * (1 + p / 100)
        if (m > limit) printf "EXCEEDED (limit %.1f)\n", limit
        else if (m < t * (1 - p / 100)) printf "ok, more than %s %% below: consider --update\n", p
        else printf "ok (limit %.1f)\n", limit
    }')
    echo "answerBatch at $vips VIPs: measured ${measured[$vips]} instructions/frame, threshold $threshold +$tolerance %: $verdict"
    [[ $verdict == EXCEEDED* ]] && failed=1
done
if ((failed)); then
    echo "instructions per frame over the threshold in $file" >&2
fi
exit "$failed"

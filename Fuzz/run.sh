#!/usr/bin/env bash
# Builds the libFuzzer targets (-sanitize=fuzzer,address) and runs each over its seed corpus.
#
#   Fuzz/run.sh --smoke                  # each target 20 s (scripts/test.sh runs this)
#   Fuzz/run.sh --minutes 10 [TARGET...]  # long runs; TARGET: frames config control trace
#
# Per target it prints executions, exec/s, coverage (cov: edges, ft: features), corpus
# entries, and crashes; it exits non-zero when any target crashed (or leaked, or hung), the
# input saved under Fuzz/.build/artifacts/TARGET/. New inputs found go to
# Fuzz/.build/corpus/TARGET (the committed Fuzz/Corpus/TARGET is only read), so a run never
# changes the repository; `--keep-corpus` merges them into Fuzz/Corpus/TARGET afterwards.
# Replay one input: Fuzz/.build/release/fuzz-TARGET FILE.
set -euo pipefail
cd "$(dirname "$0")"

seconds=20
keep=0
targets=()
while (($#)); do
    case "$1" in
        --smoke) seconds=20 ;;
        --minutes) seconds=$(($2 * 60)); shift ;;
        --seconds) seconds=$2; shift ;;
        --keep-corpus) keep=1 ;;
        frames | config | control | trace) targets+=("$1") ;;
        *) echo "usage: $0 [--smoke | --minutes N | --seconds N] [--keep-corpus] [frames config control trace]" >&2; exit 64 ;;
    esac
    shift
done
((${#targets[@]})) || targets=(frames config control trace)

# The Swift runtime's backtracer would trace a crash before (and over) ASan's report.
export SWIFT_BACKTRACE=enable=no

start=$(date +%s)
nice swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 \
    | grep -E "error|warning: .*/Fuzz/Sources/|Build complete" | tail -5
bin=$(swift build -c release --show-bin-path)
echo "fuzz build: $(($(date +%s) - start)) s"

failed=0
for target in "${targets[@]}"; do
    work=.build/corpus/$target artifacts=.build/artifacts/$target log=.build/logs/$target.log
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    status=0
    # -timeout: an input taking 20 s is a hang; -rss_limit_mb: the machine is shared.
    nice "$bin/fuzz-$target" "$work" "Corpus/$target" -dict="Dictionaries/$target.dict" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
    crashes=$(find "$artifacts" -type f | wc -l)
    printf '%-8s %12s runs  %7s exec/s  cov %6s  ft %6s  corpus %-12s  crashes %s\n' \
        "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
    if ((status != 0 || crashes != 0)); then
        failed=1
        grep -E "ERROR: |Fatal error|Precondition failed|SUMMARY|Test unit written" "$log" | head -6 >&2 || true
        echo "  log: Fuzz/$log" >&2
    fi
    if ((keep)); then
        "$bin/fuzz-$target" -merge=1 "Corpus/$target" "$work" >/dev/null 2>&1
    fi
done
exit "$failed"

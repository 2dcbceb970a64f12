#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time. See fuzz/README.md.
#
#   FUZZ_SECONDS   how long each target runs (default 60)
#   FUZZ_TARGETS   which targets, in order (default "request-parser payload")
#   FUZZ_FRESH=1   start from the committed seeds only, dropping what earlier runs found
#   FUZZ_ARGS      extra libFuzzer flags for every target (e.g. "-seed=1 -jobs=2")
#
# The package is built into .build-fuzz (git-ignored), so `swift build` and `swift test` are
# untouched. Each target fuzzes a working corpus in .build-fuzz/corpus/<target>, into which the
# committed seeds of fuzz/corpus/ are copied first. Crash inputs go to fuzz-artifacts/<target>/.
# Exits non-zero when a target found a crash or failed to build.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"request-parser payload"}
scratch=.build-fuzz

echo "==> building the package with -sanitize=fuzzer,address into $scratch"
# One -sanitize flag with both values: `--sanitize fuzzer --sanitize address` passes two, and
# the Swift driver keeps only the last, silently dropping the coverage instrumentation.
swift build --scratch-path "$scratch" -c release --target Webhooks \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
bin=$(swift build --scratch-path "$scratch" -c release --show-bin-path)

# The object files of the modules a target links, as the build's output file maps list them.
objects() {
    for module in "$@"; do
        sed -n 's/.*"object": "\([^"]*\.swift\.o\)".*/\1/p' "$bin/$module.build/output-file-map.json"
    done
}

linker=()
if [[ -x "$(dirname "$(command -v swiftc)")/ld.lld" ]]; then linker=(-use-ld=lld); fi

# link <target> <source> <module>...: one fuzzer executable from a fuzz/ source and the modules' objects.
link() {
    local target=$1 source=$2
    shift 2
    # Every module here imports HTTP, which needs the CEpoll headers' module map.
    local extra=(-I Sources/CEpoll)
    if [[ " $* " == *" Postgres "* ]]; then
        extra+=(-I Sources/CLibPQ $(pkg-config --cflags-only-I libpq | sed 's/-I/-Xcc -I/g') -lpq)
    fi
    echo "==> linking $scratch/$target-fuzzer"
    # shellcheck disable=SC2046
    swiftc -swift-version 6 -sanitize=fuzzer,address -parse-as-library -O "${linker[@]}" -module-name "${source%.swift}" \
        -I "$bin/Modules" "${extra[@]}" "fuzz/$source" $(objects "$@") -o "$scratch/$target-fuzzer"
}

# Final numbers of a libFuzzer log: executions, exec/s, and the last status line.
summarize() {
    local target=$1 log=$2
    local runs rate status
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    status=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    # Fork mode (-fork=N) prints no stat:: lines; its status lines read "#N: cov: … exec/s: R …".
    runs=${runs:-$(sed -n 's/^#\([0-9]*\).*/\1/p' <<< "$status")}
    rate=${rate:-$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<< "$status")}
    printf '%-15s executions %s, %s exec/s\n%-15s %s\n' "$target" "${runs:-?}" "${rate:-?}" "" "${status:-no status line}"
}

failed=0
summaries=()
for target in $targets; do
    case $target in
        request-parser) link "$target" RequestParserFuzzer.swift HTTP; seeds=http; max_len=8192 ;;
        payload) link "$target" PayloadFuzzer.swift HTTP Postgres Migrations Webhooks; seeds=payload; max_len=4096 ;;
        *) echo "unknown fuzz target '$target' (known: request-parser payload)" >&2; exit 2 ;;
    esac
    corpus=$scratch/corpus/$target
    artifacts=fuzz-artifacts/$target
    log=$scratch/logs/$target.log
    if [[ ${FUZZ_FRESH:-0} == 1 ]]; then rm -rf "$corpus"; fi
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    cp fuzz/corpus/$seeds/* "$corpus/"

    echo "==> fuzzing $target for ${seconds}s (log: $log)"
    status=0
    # shellcheck disable=SC2086
    SWIFT_BACKTRACE=enable=no ASAN_SYMBOLIZER_PATH=$(dirname "$(command -v swiftc)")/llvm-symbolizer \
        "$scratch/$target-fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=30 \
        -dict="fuzz/$seeds.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_ARGS:-} \
        "$corpus" > "$log" 2>&1 || status=$?
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|INFO: seed corpus)' "$log" || true
    summaries+=("$(summarize "$target" "$log")")
    summaries+=("$(printf '%-15s corpus %s files in %s\n' "" "$(find "$corpus" -type f | wc -l)" "$corpus")")
    if [[ $status != 0 ]]; then
        failed=1
        summaries+=("$(printf '%-15s FAILED (exit %s): %s\n' "" "$status" \
            "$(grep -m1 -E 'Fatal error|ERROR: (AddressSanitizer|libFuzzer)|deadly signal' "$log" || echo 'see the log')")")
        summaries+=("$(printf '%-15s reproduce: SWIFT_BACKTRACE=enable=no %s %s\n' "" "$scratch/$target-fuzzer" \
            "$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)")")
    fi
done

echo
echo "==> results (${seconds}s per target)"
printf '%s\n' "${summaries[@]}"
exit $failed

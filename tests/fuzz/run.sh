#!/usr/bin/env bash
# Run every built libFuzzer target for a bounded time and fail on any finding (crash,
# leak, ASan/UBSan report, timeout, out-of-memory). Builds nothing: configure and build
# the targets first (see README, "Fuzzing"):
#   CC=clang-14 cmake -S . -B build-fuzz -DCHAOSGD_FUZZ=ON && cmake --build build-fuzz --target fuzzers -j2
#   tests/fuzz/run.sh 60               # 60 s per target (CI uses a short bound)
#   tests/fuzz/run.sh 3600 expr        # one target, long
# Targets are DIR/fuzz_<name> (DIR: $CGD_FUZZ_DIR, default build-fuzz/fuzz); seeds are in
# tests/fuzz/<name>/ and are only read: new inputs go to a temporary corpus, findings to
# $CGD_FUZZ_ARTIFACTS (default a temporary directory, printed on failure).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:?usage: tests/fuzz/run.sh SECONDS [target...]}"
shift
case "$secs" in '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;; esac
dir="${CGD_FUZZ_DIR:-$root/build-fuzz/fuzz}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for s in "$here"/fuzz_*.c; do n="$(basename "$s" .c)"; targets+=("${n#fuzz_}"); done
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/cgd_fuzz.XXXXXX")"
arts="${CGD_FUZZ_ARTIFACTS:-$work/artifacts}"
mkdir -p "$arts"
fail=0
for t in "${targets[@]}"; do
  exe="$dir/fuzz_$t"
  if [ ! -x "$exe" ]; then
    echo "FAIL fuzz_$t: $exe not built (cmake --build build-fuzz --target fuzzers)"
    fail=1
    continue
  fi
  mkdir -p "$work/corpus_$t"
  log="$work/$t.log"
  # -timeout: one input taking 10 s is a finding (a hang); -rss_limit_mb bounds memory;
  # leaks are detected at exit of each input (LeakSanitizer, on by default with ASan).
  "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$arts/${t}-" "$work/corpus_$t" "$here/$t" >"$log" 2>&1
  rc=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
  if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log"; then
    echo "FAIL fuzz_$t: exit $rc after ${runs:-?} executions; log $log, inputs in $arts"
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20
    fail=1
  else
    echo "ok   fuzz_$t: ${runs:-?} executions in ${secs} s, corpus $(ls "$work/corpus_$t" | wc -l) new inputs"
  fi
done
if [ $fail -eq 0 ]; then rm -rf "$work"; else echo "work directory kept: $work"; fi
exit $fail

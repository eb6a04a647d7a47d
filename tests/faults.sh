#!/usr/bin/env bash
# Faults: SIGINT, SIGTERM and SIGKILL mid-run for the MLP, an orbit, an ensemble and a
# comparison — files complete or absent (never half-written under their final name),
# status interrupted, and `train --resume` continuing to byte-identical trace.csv,
# hist.csv and summary.json; a full disk (a small tmpfs, when this runs as root) and a
# read-only output directory give exit 4 with the OS's reason.
set -u
T="${CGD_BUILD_DIR:?run through ctest}/train"
. "$(dirname "$0")/lib/harness.sh"
need_data
mounts=()
unmount_all() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; }
cgd_cleanup_hooks+=(unmount_all) # before the work folder is removed
skip=0

# wait_for FILE: up to 60 s
wait_for() { for _ in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

no_half_files() { # dir: every final-named file parses or is a CSV with a header; no stray .tmp after a clean stop
  local d=$1
  for j in "$d"/*.json; do [ -e "$j" ] || continue; jq -e . "$j" >/dev/null 2>&1 || bad "$j is not complete JSON"; done
}

same_as() { # full other label
  for f in trace.csv hist.csv summary.json; do
    cmp -s "$1/$f" "$2/$f" && ok || bad "$3: resumed $f differs from the uninterrupted run's"
  done
}

cases=(
  "mlp|--data $DATA --iters 12000 --lr 0.02 --checkpoint-every 500"
  "orbit|--f0 quartic --f1 sin --eps 1e-4 --lr 0.01 --x0 0.37 --iters 1000000 --checkpoint-every 20000"
  "ensemble|--f0 doublewell --k 0.02 --eps 1e-4 --lr 0.05 --ensemble 2000 --x0 uniform:0.9,1.1 --iters 20000 --hist-at 100,10000 --checkpoint-every 200"
)
for c in "${cases[@]}"; do
  name=${c%%|*}
  read -r -a a <<<"${c#*|}"
  "$T" "${a[@]}" --no-plots --quiet --out "$W/$name-full" >/dev/null 2>&1 || bad "$name: uninterrupted run"
  for sig in INT TERM KILL; do
    d="$W/$name-$sig"
    "$T" "${a[@]}" --no-plots --quiet --out "$d" >/dev/null 2>&1 &
    pid=$!
    # a checkpoint on disk first, so a SIGKILL has something to resume from
    wait_for "$d/checkpoint.bin" || bad "$name: no checkpoint written"
    kill -$sig $pid 2>/dev/null
    wait $pid 2>/dev/null; code=$?
    if [ $sig = KILL ]; then
      [ ! -e "$d/summary.json" ] && ok || bad "$name: a killed run has a summary"
      [ -e "$d/config.json" ] && ok || bad "$name: a killed run lost config.json"
    else
      [ "$code" = 6 ] && ok || bad "$name SIG$sig: exit $code, expected 6"
      jq -e '.status == "interrupted" and .interrupted == true' "$d/summary.json" >/dev/null && ok || bad "$name SIG$sig: summary does not say interrupted"
      ls "$d" | grep -q '\.tmp$' && bad "$name SIG$sig: temporary files left" || ok
    fi
    no_half_files "$d"
    "$T" --resume "$d" --quiet >/dev/null 2>"$W/err"; code=$?
    [ "$code" = 0 ] && ok || bad "$name SIG$sig: --resume exit $code ($(cat "$W/err"))"
    same_as "$W/$name-full" "$d" "$name SIG$sig"
    [ ! -e "$d/checkpoint.bin" ] && ok || bad "$name SIG$sig: a finished run keeps its checkpoint"
    jq -e '.resumed_from_step | numbers' "$d/timing.json" >/dev/null && ok || bad "$name SIG$sig: timing.json lacks resumed_from_step"
  done
done

# a resumed run keeps its options; a directory without a checkpoint is explained
expect() { # code words command...
  local want=$1 words=$2; shift 2
  "$@" >/dev/null 2>"$W/err"; local got=$?
  [ "$got" = "$want" ] && grep -q -- "$words" "$W/err" && ok || bad "$*: exit $got (want $want), message: $(head -c 200 "$W/err")"
}
expect 2 "keeps its own options" "$T" --resume "$W/mlp-INT" --lr 0.1
expect 3 "checkpoint.bin" "$T" --resume "$W/mlp-full"
expect 3 "config.json" "$T" --resume "$W/nowhere"
printf 'CGDCKPT1garbage' > "$W/mlp-full/checkpoint.bin"
expect 3 "checkpoint" "$T" --resume "$W/mlp-full"

# a comparison interrupted mid-way: the runs that ran are complete, the table covers them
"$T" --data "$DATA" --no-plots --quiet --lyapunov=off --lr 0.001,0.02,0.01 --iters 50000 --out "$W/cmp" >/dev/null 2>&1 &
pid=$!
wait_for "$W/cmp/lr-0.001/config.json" || bad "comparison did not start"
sleep 0.5; kill -INT $pid; wait $pid; code=$?
[ "$code" = 6 ] && ok || bad "comparison SIGINT: exit $code"
[ -s "$W/cmp/comparison.csv" ] && [ "$(wc -l < "$W/cmp/comparison.csv")" -ge 2 ] && ok || bad "interrupted comparison lacks its table"
[ ! -e "$W/cmp/lr-0.02" ] && ok || bad "comparison went on after the interruption"
jq -e '.status == "interrupted"' "$W/cmp/lr-0.001/summary.json" >/dev/null && ok || bad "interrupted comparison run"
"$T" --resume "$W/cmp/lr-0.001" --quiet >/dev/null 2>&1 && ok || bad "resume of a comparison's run"

# a comparison under SIGTERM and SIGKILL: the rates that finished are complete, and
# --resume of the comparison's directory continues the rate that was running from its
# checkpoint, reads the finished one back and writes the table: the same files as an
# uninterrupted comparison
CA=(--data "$DATA" --no-plots --quiet --lyapunov=off --lr 0.001,0.02 --iters 6000 --checkpoint-every 500)
"$T" "${CA[@]}" --out "$W/cfull" >/dev/null 2>&1 || bad "uninterrupted comparison"
for sig in TERM KILL; do
  d="$W/c$sig"
  "$T" "${CA[@]}" --out "$d" >/dev/null 2>&1 &
  pid=$!
  wait_for "$d/lr-0.02/checkpoint.bin" || bad "comparison SIG$sig: the second rate never checkpointed"
  kill -$sig $pid 2>/dev/null
  wait $pid 2>/dev/null; code=$?
  [ $sig = KILL ] || [ "$code" = 6 ] && ok || bad "comparison SIG$sig: exit $code"
  cmp -s "$W/cfull/lr-0.001/trace.csv" "$d/lr-0.001/trace.csv" && ok || bad "comparison SIG$sig: the finished rate differs"
  no_half_files "$d/lr-0.02"
  "$T" --resume "$d" --quiet >/dev/null 2>"$W/err" && ok || bad "comparison SIG$sig: resume ($(cat "$W/err"))"
  same_as "$W/cfull/lr-0.02" "$d/lr-0.02" "comparison SIG$sig"
  for f in comparison.csv comparison.json comparison_hist.csv; do
    cmp -s "$W/cfull/$f" "$d/$f" && ok || bad "comparison SIG$sig: resumed $f differs"
  done
done

# a comparison stopped by a signal exits 6 even when an earlier rate diverged (it exited
# 5: the first rate's status won), so that --resume is what the code says
DW=(--f0 doublewell --eps 1e-3 --x0 0.3 --no-plots --quiet)
"$T" "${DW[@]}" --lr 0.5,0.1 --iters 3000000 --out "$W/divint" >/dev/null 2>&1 &
pid=$!
wait_for "$W/divint/lr-0.1/config.json" || bad "diverged-then-interrupted comparison did not reach its second rate"
sleep 0.3; kill -INT $pid; wait $pid; code=$?
[ "$code" = 6 ] && ok || bad "comparison interrupted after a diverged rate: exit $code (want 6)"
# --resume reads a rate that diverged back as diverged (it was refused: the status codes
# are negative and the reader took them for "not found"): the same table, exit 5
"$T" "${DW[@]}" --lr 0.5,0.1 --iters 200000 --checkpoint-every 50000 --out "$W/divres" >/dev/null 2>&1
cp "$W/divres/comparison.csv" "$W/divres.csv"
rm "$W/divres/lr-0.1/summary.json" "$W/divres/comparison.csv"
"$T" --resume "$W/divres" --quiet >/dev/null 2>"$W/err"; code=$?
[ "$code" = 5 ] && cmp -s "$W/divres.csv" "$W/divres/comparison.csv" && ok ||
  bad "resume of a comparison with a diverged rate: exit $code, $(head -c 200 "$W/err")"
# --force over a former comparison empties its rate directories first: a --resume of the new
# one, stopped before a rate, runs that rate instead of reading the old one back as finished
"$T" "${DW[@]}" --lr 0.1,0.2 --iters 1000 --out "$W/forced" >/dev/null 2>&1
"$T" "${DW[@]}" --lr 0.1,0.2 --iters 3000000 --force --out "$W/forced" >/dev/null 2>&1 &
pid=$!
wait_for "$W/forced/lr-0.1/config.json" || bad "forced comparison did not start"
sleep 0.3; kill -INT $pid; wait $pid
[ ! -e "$W/forced/lr-0.2/summary.json" ] && ok || bad "--force kept the former comparison's lr-0.2/summary.json"
# a finished rate's summary.json edited by hand is refused naming the file and key
"$T" "${DW[@]}" --lr 0.1,0.2 --iters 500 --out "$W/edited" >/dev/null 2>&1
jq '.steps_completed = -5' "$W/edited/lr-0.1/summary.json" > "$W/s.json" && mv "$W/s.json" "$W/edited/lr-0.1/summary.json"
expect 3 'lr-0.1/summary.json: "steps_completed" should be a whole number' "$T" --resume "$W/edited"

# a read-only output directory and a full disk (mounts need root)
if [ "$(id -u)" = 0 ] && mkdir -p "$W/ro" "$W/full" && mount -t tmpfs -o ro,size=1m tmpfs "$W/ro" 2>/dev/null; then
  mounts+=("$W/ro")
  expect 4 "Read-only file system" "$T" --data "$DATA" --no-plots --iters 10 --out "$W/ro/run"
  if mount -t tmpfs -o size=64k tmpfs "$W/full" 2>/dev/null; then
    mounts+=("$W/full")
    "$T" --data "$DATA" --no-plots --quiet --iters 5000 --out "$W/full/run" >/dev/null 2>"$W/err"; code=$?
    [ "$code" = 4 ] && grep -q "No space left on device" "$W/err" && ok || bad "full disk: exit $code, $(head -c 200 "$W/err")"
    [ -s "$W/full/run/config.json" ] && jq -e . "$W/full/run/config.json" >/dev/null && ok || bad "full disk: config.json not complete"
    ls "$W/full/run" | grep -q '\.tmp$' && bad "full disk: temporary files left" || ok
  else
    skip=$((skip + 1)); echo "skipped: full-disk test (cannot mount a tmpfs)"
  fi
else
  skip=$((skip + 2)); echo "skipped: read-only and full-disk tests (need root to mount a tmpfs)"
fi

finish faults "$skip skipped"

#!/usr/bin/env bash
# End-to-end checks of the sweep and table tools: sweep.csv byte-identical for 1 and 2
# workers (and 2 MPI ranks when sweep-mpi is built), a point equals the same run through
# train, failing points are rows, a sweep killed with SIGKILL and started again gives the
# uninterrupted sweep.csv, SIGTERM stops cleanly (exit 6), another sweep in the directory
# is refused, table merges runs.
set -u
B="${CGD_BUILD_DIR:?run through ctest}"
S="$B/sweep"
. "$(dirname "$0")/lib/harness.sh"
need_data
# the MLP sweep of these tests: 2 rates x 3 seeds, short runs
MLP=(--data "$DATA" --lr 0.001,0.05 --seed 0:2:3 --iters 1500 --no-plots)

expect_exit 0 "--help" "$S" --help
grep -q -- "--workers" "$W/out" && ok || bad "--help does not mention --workers"

# 1 vs 2 workers: byte-identical sweep.csv; every point a complete run directory
expect_exit 0 "sweep, 1 worker" "$S" --out "$W/w1" --workers 1 --quiet "${MLP[@]}"
expect_exit 0 "sweep, 2 workers" "$S" --out "$W/w2" --workers 2 --quiet "${MLP[@]}"
cmp -s "$W/w1/sweep.csv" "$W/w2/sweep.csv" && ok || bad "sweep.csv differs between 1 and 2 workers"
[ "$(wc -l <"$W/w1/sweep.csv")" = 7 ] && ok || bad "sweep.csv should have 6 rows: $(cat "$W/w1/sweep.csv")"
head -1 "$W/w1/sweep.csv" | grep -q '^lr,seed,status,verdict,period,steps,diverged_step,' && ok \
  || bad "sweep.csv header: $(head -1 "$W/w1/sweep.csv")"
[ "$(grep -c ',ok,' "$W/w1/sweep.csv")" = 6 ] && ok || bad "not every point ok: $(cat "$W/w1/sweep.csv")"
P=$W/w2/p0004-lr0.05-seed1
for f in config.json trace.csv hist.csv summary.json params_final.txt; do
  [ -s "$P/$f" ] || bad "point directory lacks $f"
done
jq -e '.definition.options | length == 5' "$W/w2/sweep.json" >/dev/null && ok || bad "sweep.json definition"
# a point is an ordinary run: the same options through train give the same bytes
"$B/train" --data "$DATA" --lr 0.05 --seed 1 --iters 1500 --no-plots --quiet --out "$W/t" >/dev/null \
  || bad "train run"
cmp -s "$P/trace.csv" "$W/t/trace.csv" && ok || bad "point trace.csv differs from train's"
cmp -s "$P/params_final.txt" "$W/t/params_final.txt" && ok || bad "point parameters differ from train's"

# started again: nothing to run, same sweep.csv; another definition is refused, --force replaces
expect_exit 0 "resume of a complete sweep" "$S" --out "$W/w1" --workers 2 "${MLP[@]}"
grep -q "6 complete, 0 to run" "$W/err" && ok || bad "complete sweep not skipped: $(cat "$W/err")"
cmp -s "$W/w1/sweep.csv" "$W/w2/sweep.csv" && ok || bad "sweep.csv changed on resume"
expect_exit 4 "different sweep in the directory" "$S" --out "$W/w1" --data "$DATA" --lr 0.001 --iters 10 --no-plots
grep -q "different sweep" "$W/err" && ok || bad "message: $(cat "$W/err")"
expect_exit 4 "a run directory is not a sweep" "$S" --out "$W/t" --data "$DATA" --lr 0.001 --iters 10 --no-plots
expect_exit 0 "--force replaces" "$S" --out "$W/w1" --force --quiet --data "$DATA" --lr 0.001 --iters 10 --no-plots
[ ! -e "$W/w1/p0004-lr0.05-seed1" ] && ok || bad "--force left the other sweep's points"

# usage errors of the sweep itself
expect_exit 2 "whole-number grid with a fraction" "$S" --out "$W/x" --hidden 1:2:3
expect_exit 2 "unknown option" "$S" --out "$W/x" --nosuch 1
expect_exit 2 "bad --workers" "$S" --out "$W/x" --workers 0
expect_exit 2 "every point fails the kind check" "$S" --out "$W/x" --f0 quartic --hidden 8,16

# failing and diverging points are rows, never an abort (NAG-SC with mu*lr >= 1; lr 5)
expect_exit 0 "sweep with failing points" "$S" --out "$W/f" --quiet --no-plots --f0 quadratic \
  --x0 0.3 --iters 200 --map nag-sc --mu 1,20 --lr 0.01,0.1
grep -q '^20,0.1,usage,none,.*mu\*lr < 1' "$W/f/sweep.csv" && ok || bad "NAG-SC failure row: $(cat "$W/f/sweep.csv")"
[ "$(grep -c ',ok,' "$W/f/sweep.csv")" = 3 ] && ok || bad "other NAG-SC points: $(cat "$W/f/sweep.csv")"
expect_exit 0 "sweep with a diverging point" "$S" --out "$W/d" --quiet --no-plots --data "$DATA" --lr 0.01,5 --iters 300
grep -q '^5,diverged,diverged,,[0-9]*,[0-9]' "$W/d/sweep.csv" && ok || bad "diverged row: $(cat "$W/d/sweep.csv")"

# SIGKILL mid-sweep, then the same command again: the uninterrupted sweep.csv
K=(--data "$DATA" --lr 0.002:0.05:log:3 --seed 0:3:4 --iters 4000 --no-plots --workers 2 --quiet)
expect_exit 0 "reference sweep" "$S" --out "$W/ref" "${K[@]}"
"$S" --out "$W/k" "${K[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do # until 3 points are done (at most 60 s)
  [ "$(ls "$W"/k/p*/summary.json 2>/dev/null | wc -l)" -ge 3 ] && break
  sleep 0.1
done
kill -KILL $pid
wait $pid 2>/dev/null
# its running points get SIGTERM from the kernel when the sweep dies; wait for them
flock "$W/k/.sweep.lock" true
n=$(ls "$W"/k/p*/summary.json 2>/dev/null | wc -l)
[ "$n" -lt 12 ] && ok || bad "the sweep finished before it was killed ($n points)"
[ ! -e "$W/k/sweep.csv" ] && ok || bad "a killed sweep wrote sweep.csv"
expect_exit 0 "resume after SIGKILL" "$S" --out "$W/k" "${K[@]/--quiet/--no-progress}"
done_before=$(grep -o '([0-9]* complete' "$W/err" | tr -dc 0-9)
[ "${done_before:-0}" -ge 3 ] && [ "$done_before" -lt 12 ] && ok \
  || bad "resume should skip the completed points: $(cat "$W/err")"
cmp -s "$W/ref/sweep.csv" "$W/k/sweep.csv" && ok || bad "sweep.csv after kill + resume differs: $(diff "$W/ref/sweep.csv" "$W/k/sweep.csv" | head -5)"

# SIGTERM: stop launching, running points stop cleanly, sweep.csv of what exists, exit 6
"$S" --out "$W/s" "${K[@]}" >/dev/null 2>"$W/serr" &
pid=$!
for _ in $(seq 600); do
  [ "$(ls "$W"/s/p*/summary.json 2>/dev/null | wc -l)" -ge 2 ] && break
  sleep 0.1
done
kill -TERM $pid
wait $pid
rc=$?
[ "$rc" = 6 ] && ok || bad "SIGTERM: exit $rc, expected 6 ($(cat "$W/serr"))"
[ -s "$W/s/sweep.csv" ] && ok || bad "no sweep.csv after SIGTERM"
[ "$(wc -l <"$W/s/sweep.csv")" = 13 ] && ok || bad "sweep.csv after SIGTERM should list every point"
grep -q ',pending,\|,interrupted,' "$W/s/sweep.csv" && ok || bad "no pending/interrupted row after SIGTERM"
for f in "$W"/s/p*/summary.json; do
  jq -e '.status == "ok" or .status == "interrupted"' "$f" >/dev/null || bad "$f: $(jq -c .status "$f")"
done
expect_exit 0 "resume after SIGTERM" "$S" --out "$W/s" "${K[@]}"
cmp -s "$W/ref/sweep.csv" "$W/s/sweep.csv" && ok || bad "sweep.csv after SIGTERM + resume differs"

# MPI: 2 ranks give the same sweep.csv (when built with -DCHAOSGD_MPI=ON)
if [ -x "$B/sweep-mpi" ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  expect_exit 0 "mpirun -n 2 sweep-mpi" mpirun -n 2 --oversubscribe "$B/sweep-mpi" --out "$W/mpi" --quiet "${MLP[@]}"
  "$S" --out "$W/w3" --workers 1 --quiet "${MLP[@]}" >/dev/null 2>&1
  cmp -s "$W/w3/sweep.csv" "$W/mpi/sweep.csv" && ok || bad "MPI sweep.csv differs from the single-process one"
else
  echo "note: sweep-mpi not built (configure with -DCHAOSGD_MPI=ON to test MPI)"
fi

# phase diagram of an analytic sweep (gnuplot is optional: then the plots are skipped)
expect_exit 0 "analytic sweep with plots" "$S" --out "$W/a" --f0 quartic --f1 sin --x0 0.37 \
  --iters 2000 --lr 1e-4:1e-2:log:4 --eps 1e-5:1e-3:log:3 --workers 2
if command -v gnuplot >/dev/null; then
  [ -s "$W/a/phase.png" ] && ok || bad "no phase.png: $(cat "$W/err")"
  grep -q "x - log10(2)" "$W/a/sweep.gp" && ok || bad "no theory line in sweep.gp"
fi

# table: runs, a sweep directory (its points), errors
"$B/table" "$W/w1" "$W/t" >"$W/tab.csv" 2>"$W/err" && ok || bad "table: $(cat "$W/err")"
[ "$(wc -l <"$W/tab.csv")" = 3 ] && ok || bad "table rows: $(cat "$W/tab.csv")"
head -1 "$W/tab.csv" | grep -q '^run_dir,kind,lr,seed,.*verdict,status,.*tail.loss_mean' && ok \
  || bad "table header: $(head -1 "$W/tab.csv")"
"$B/table" --out "$W/tab2.csv" "$W/w2" 2>"$W/err" && [ "$(wc -l <"$W/tab2.csv")" = 7 ] && ok \
  || bad "table --out of a sweep: $(cat "$W/err")"
expect_exit 3 "table of a directory without runs" "$B/table" "$W"/nonexistent
expect_exit 2 "table without paths" "$B/table"

finish sweep.sh

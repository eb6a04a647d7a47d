#!/usr/bin/env bash
# Scale-out of the sweep tool (issue 9's target): the same 60-rate x 5-seed sweep of the
# Airfoil MLP (20 000 steps per point) run three times -- 1 worker, 2 workers, 2 MPI ranks --
# back to back; prints wall, CPU, speed-up and efficiency against the 1-worker run measured
# in the same invocation, and checks the three sweep.csv files are byte-identical.
# Run it on a quiet machine: the figure is the parallel machinery's, not the neighbours'.
#   usage: experiments/sweep_scaleout.sh [OUT]    env: RATES (60), SEEDS (5), ITERS (20000),
#          LYAPUNOV (off: the tangent map would only make every point 3x longer),
#          CGD_BUILD_DIR (build; sweep-mpi needs -DCHAOSGD_MPI=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CGD_BUILD_DIR:-build}
OUT=${1:-experiments/out/scaleout}
RATES=${RATES:-60} SEEDS=${SEEDS:-5} ITERS=${ITERS:-20000} LYAPUNOV=${LYAPUNOV:-off}
rm -rf "$OUT" && mkdir -p "$OUT"
ARGS=(--no-plots --no-progress --data datasets/airfoil_self_noise.dat
  --seed "0:$((SEEDS - 1)):$SEEDS" --lr "1e-4:0.1:log:$RATES" --iters "$ITERS"
  --log-every 10 --lyapunov="$LYAPUNOV")

# wall and CPU (user + sys of the children) of one command, in seconds
measure() { # name cmd...
  local name=$1; shift
  local t0 c0 t1 c1
  t0=$(date +%s.%N); c0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  "$@" >"$OUT/$name.log" 2>&1
  t1=$(date +%s.%N); c1=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  echo "$name $(echo "$t1 - $t0" | bc -l) $(echo "($c1 - $c0) / $(getconf CLK_TCK)" | bc -l) $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/times"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)   $(nproc) cores"
measure w1 "$B/sweep" --out "$OUT/w1" --workers 1 "${ARGS[@]}"
measure w2 "$B/sweep" --out "$OUT/w2" --workers 2 "${ARGS[@]}"
if [ -x "$B/sweep-mpi" ]; then
  measure mpi2 mpirun -n 2 --oversubscribe --allow-run-as-root "$B/sweep-mpi" --out "$OUT/mpi2" "${ARGS[@]}"
fi

awk -v points=$((RATES * SEEDS)) '
  { wall[$1] = $2; cpu[$1] = $3; load[$1] = $4; order[NR] = $1 }
  END {
    printf "%d points, %s\n\n", points, "times in seconds"
    printf "| variant | wall | CPU | load avg (1 min, at end) | speed-up vs 1 worker | of perfect (2x) |\n|---|---|---|---|---|---|\n"
    for (i = 1; i <= NR; i++) { n = order[i]; s = wall["w1"] / wall[n]; k = (n == "w1") ? 1 : 2
      printf "| %s | %.1f | %.1f | %.2f | %.2fx | %.3f |\n", n, wall[n], cpu[n], load[n], s, k / s } }' "$OUT/times"
for v in w2 mpi2; do
  [ -f "$OUT/$v/sweep.csv" ] || continue
  if cmp -s "$OUT/w1/sweep.csv" "$OUT/$v/sweep.csv"; then echo "sweep.csv $v = w1 (byte-identical)"
  else echo "sweep.csv $v DIFFERS from w1"; exit 1; fi
done

#!/usr/bin/env bash
# Phase diagrams through the sweep tool, and the numbers of the README's "Sweeps" section:
#   1. analytic: x^4/4 + eps sin(x/eps), one orbit from x0 = 0.37 per point, eta in
#      [1e-5, 1e-1] x eps in [1e-6, 1e-2] (log grids, N x N), verdict and tail statistics
#      against the theory line eta = 2 eps (lambda = m + ln(eta/eps), m = -ln 2);
#   2. Airfoil MLP: 60 rates in [1e-4, 0.1] (log) x 5 seeds, 20 000 steps each.
# Writes OUT/analytic, OUT/airfoil (sweep directories, resumable: run it again after an
# interruption) and OUT/REPORT.md. trace.csv keeps every 100th (orbits) or 10th (MLP) step
# to keep the sweep small on disk; verdicts and tail statistics use every step.
#   usage: experiments/phase_diagram.sh [OUT]     env: N (40), RATES (60), SEEDS (5),
#          ITERS (20000), ORBIT_ITERS (20000), WORKERS (all cores), CGD_BUILD_DIR (build),
#          REPORT_ONLY (1: only the report of the sweeps as they are)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CGD_BUILD_DIR:-build}
OUT=${1:-experiments/out/sweeps}
N=${N:-40} RATES=${RATES:-60} SEEDS=${SEEDS:-5} ITERS=${ITERS:-20000} ORBIT_ITERS=${ORBIT_ITERS:-20000}
W=()
[ -n "${WORKERS:-}" ] && W=(--workers "$WORKERS")
mkdir -p "$OUT"

t0=$(date +%s) t1=$(date +%s)
if [ -z "${REPORT_ONLY:-}" ]; then # REPORT_ONLY=1: the report of the sweeps as they are
"$B/sweep" --out "$OUT/analytic" "${W[@]}" --f0 quartic --f1 sin --x0 0.37 --iters "$ORBIT_ITERS" \
  --log-every 100 \
  --lr "1e-5:1e-1:log:$N" --eps "1e-6:1e-2:log:$N" --plot-x lr --plot-y eps
  t1=$(date +%s)
  # seeds outermost: an interrupted sweep has whole eta sweeps for its first seeds
"$B/sweep" --out "$OUT/airfoil" "${W[@]}" --data datasets/airfoil_self_noise.dat \
  --seed "0:$((SEEDS - 1)):$SEEDS" --lr "1e-4:0.1:log:$RATES" --iters "$ITERS" --log-every 10 --plot-x lr
fi
t2=$(date +%s)

# ---- analytic: verdicts on either side of eta/eps = 2 (columns: lr eps status verdict period ...)
A=$OUT/analytic/sweep.csv
analytic=$(awk -F, 'NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k; next }
  { $1 = $c["lr"]; $2 = $c["eps"]; $4 = $c["verdict"]; $5 = $c["period"]
    r = $1 / $2; side = (r > 2) ? "above" : "below"; n[side]++; v[side, $4]++
    if ($4 == "periodic") { p = $5; if (!(p in pmin) || r < pmin[p]) pmin[p] = r; if (r > pmax[p]) pmax[p] = r; np[p]++ }
    if ($4 == "chaotic" && (!have || r < cmin)) { cmin = r; have = 1 }
    if ($4 == "converged" && r > convmax) convmax = r
  }
  END {
    printf "| eta/eps | points | converged | periodic | chaotic | other |\n|---|---|---|---|---|---|\n"
    split("below above", sides, " ")
    for (k = 1; k <= 2; k++) { s = sides[k]
      printf "| %s 2 | %d | %d | %d | %d | %d |\n", s == "above" ? "> " : "<=", n[s], v[s, "converged"], v[s, "periodic"], v[s, "chaotic"], n[s] - v[s, "converged"] - v[s, "periodic"] - v[s, "chaotic"] }
    printf "\nlargest eta/eps that converged: %.3g; smallest eta/eps that is chaotic: %.3g\n\n", convmax, cmin
    for (p in np) printf "period %s: %d points, eta/eps in [%.3g, %.3g]\n\n", p, np[p], pmin[p], pmax[p]
  }' "$A")

# ---- Airfoil: per rate over the seeds (columns, lr and seed swapped into this order: lr
#      seed status verdict period steps diverged_step final_value tail_mean tail_std
#      tail_rel_std tail_frac_increase first_increase_step)
M=$OUT/airfoil/sweep.csv
airfoil=$(awk -F, 'NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k; next }
  $c["status"] != "ok" && $c["status"] != "diverged" { skipped++; next } # not run (yet)
  { if (c["seed"] == 1) { t = $1; $1 = $2; $2 = t } # seeds first in the file
    lr = $1; if (!(lr in seen)) { seen[lr] = 1; order[++nl] = lr }
    n[lr]++; v[lr, $4]++
    if ($13 != "") { rise[lr]++; if (!(lr in fmin) || $13 + 0 < fmin[lr]) fmin[lr] = $13 + 0; if ($13 + 0 > fmax[lr]) fmax[lr] = $13 + 0 }
    if ($12 != "" && $12 + 0 > 0) nonmono[lr]++
    if ($4 == "diverged") { div[lr]++; if (!(lr in dmin) || $7 + 0 < dmin[lr]) dmin[lr] = $7 + 0 }
    if ($9 != "") { if (!(lr in tmin) || $9 + 0 < tmin[lr]) tmin[lr] = $9 + 0; if ($9 + 0 > tmax[lr]) tmax[lr] = $9 + 0 }
    if ($12 != "") { if (!(lr in qmin) || $12 + 0 < qmin[lr]) qmin[lr] = $12 + 0; if ($12 + 0 > qmax[lr]) qmax[lr] = $12 + 0 }
  }
  END {
    if (skipped) printf "%d points not run (an interrupted sweep: run the script again to finish it)\n\n", skipped
    printf "| lr | verdicts (seeds) | first rising step (min-max) | tail: share of rising steps | tail mean loss | diverged (first step) |\n|---|---|---|---|---|---|\n"
    for (k = 1; k <= nl; k++) { lr = order[k]; vs = ""
      split("descending chaotic periodic converged diverged none", names, " ")
      for (j = 1; j <= 6; j++) if (v[lr, names[j]]) vs = vs (vs ? " " : "") names[j] "x" v[lr, names[j]]
      printf "| %.4g | %s | %s | %s | %s | %s |\n", lr, vs,
        rise[lr] ? sprintf("%d of %d: %d-%d", rise[lr], n[lr], fmin[lr], fmax[lr]) : "never",
        (lr in qmin) ? sprintf("%.3g-%.3g", qmin[lr], qmax[lr]) : "",
        (lr in tmin) ? sprintf("%.4g-%.4g", tmin[lr], tmax[lr]) : "",
        div[lr] ? sprintf("%d (from %d)", div[lr], dmin[lr]) : "0" }
  }' "$M")

ta="$((t1 - t0)) s" tm="$((t2 - t1)) s"
[ -n "${REPORT_ONLY:-}" ] && ta="not timed" tm="not timed"
cat >"$OUT/REPORT.md" <<EOF
# Sweeps and phase diagrams (experiments/phase_diagram.sh)

Generated $(date -u +%Y-%m-%dT%H:%MZ) by chaosgd $(git describe --always --dirty 2>/dev/null || echo unknown).

## Analytic: x^4/4 + eps sin(x/eps), ${N} x ${N}, one orbit of ${ORBIT_ITERS} steps from x0 = 0.37 ($ta)

Theory (Kong & Tao): lambda = m + ln(eta/eps) with m = E ln|sin| = -ln 2, so chaos for eta/eps > 2.

$analytic

![phase](analytic/phase.png)

## Airfoil MLP: ${RATES} rates in [1e-4, 0.1] (log) x ${SEEDS} seeds, ${ITERS} steps ($tm)

$airfoil

![bands](airfoil/bands.png)
EOF
echo "$OUT/REPORT.md"

#!/usr/bin/env bash
# End-to-end checks of the train tool: determinism (also across BLAS thread counts), exit
# codes for every kind of bad input, atomic outputs, --init/--save-params, comparison.
set -u
T="${CGD_BUILD_DIR:?run through ctest}/train"
. "$(dirname "$0")/lib/harness.sh"
need_data
run() { "$T" --data "$DATA" --no-plots --quiet "$@"; }

# --help lists every option with its default
expect_exit 0 "--help" "$T" --help
for o in --data --target-col --no-standardize --holdout --hidden --leak --init --save-params \
         --lr --map --gamma --mu --iters --seed --loss-limit --out --log-every --hist-every \
         --hist-bins --tail --no-plots --no-progress --blas-threads --quiet; do
  grep -q -- "$o" "$W/out" || bad "--help does not mention $o"
done
ok

# determinism: same seed twice, and 1 vs 2 BLAS threads, give byte-identical traces
run --iters 3000 --seed 5 --out "$W/a" >/dev/null || bad "run a"
run --iters 3000 --seed 5 --out "$W/b" >/dev/null || bad "run b"
cmp -s "$W/a/trace.csv" "$W/b/trace.csv" && ok || bad "same seed gives different trace.csv"
cmp -s "$W/a/hist.csv" "$W/b/hist.csv" && ok || bad "same seed gives different hist.csv"
OPENBLAS_NUM_THREADS=1 run --iters 3000 --seed 5 --blas-threads 0 --out "$W/t1" >/dev/null
OPENBLAS_NUM_THREADS=2 run --iters 3000 --seed 5 --blas-threads 0 --out "$W/t2" >/dev/null
cmp -s "$W/t1/trace.csv" "$W/t2/trace.csv" && ok || bad "OPENBLAS_NUM_THREADS=1 vs 2 differ"
cmp -s "$W/a/trace.csv" "$W/t2/trace.csv" && ok || bad "--blas-threads 1 vs 2 differ"
grep -q '"blas_threads": 2' "$W/t2/config.json" && ok || bad "config.json does not record 2 BLAS threads"
run --iters 3000 --seed 6 --out "$W/c" >/dev/null
cmp -s "$W/a/trace.csv" "$W/c/trace.csv" && bad "different seeds give the same trace" || ok

# the run directory: every file, complete, nothing temporary left
for f in config.json trace.csv hist.csv summary.json params_init.txt params_final.txt; do
  [ -s "$W/a/$f" ] && ok || bad "run directory lacks $f"
done
ls "$W/a" | grep -q '\.tmp$' && bad "temporary files left behind" || ok
[ "$(head -1 "$W/a/trace.csv")" = "step,loss,grad_norm,param_norm" ] && ok || bad "trace header"
[ "$(wc -l < "$W/a/trace.csv")" = 3002 ] && ok || bad "trace.csv should have 3001 rows + header"
for k in '"sha256": "' '"git_revision"' '"x_mean"' '"y_std"' '"nparams": 113' '"seed": "5"' '"command_line"'; do
  grep -q "$k" "$W/a/config.json" && ok || bad "config.json lacks $k"
done
for k in '"verdict"' '"frac_increase"' '"lag1_autocorr_increments"' '"theta_path_length"' '"grad_norm_mean"'; do
  grep -q "$k" "$W/a/summary.json" && ok || bad "summary.json lacks $k"
done

# --save-params / --init: 100 + 100 steps from the saved parameters reproduce 200 steps
run --iters 200 --seed 1 --out "$W/full" >/dev/null
run --iters 100 --seed 1 --out "$W/half" --save-params "$W/p100.txt" >/dev/null
run --iters 100 --init "$W/p100.txt" --out "$W/rest" >/dev/null
cmp -s "$W/p100.txt" "$W/half/params_final.txt" && ok || bad "--save-params differs from params_final.txt"
tail -n 101 "$W/full/trace.csv" | cut -d, -f2 > "$W/x1"
tail -n +2 "$W/rest/trace.csv" | cut -d, -f2 > "$W/x2"
cmp -s "$W/x1" "$W/x2" && ok || bad "--init from saved parameters does not continue the run exactly"

# a reused run directory keeps no stale output of an earlier run
"$T" --no-plots --quiet --f0 quartic --ensemble 100 --iters 20 --compare-map stochastic --out "$W/reuse" >/dev/null
"$T" --no-plots --quiet --f0 quartic --ensemble 100 --iters 20 --out "$W/reuse" --force >/dev/null
[ ! -e "$W/reuse/compare.csv" ] && ok || bad "stale compare.csv left in a reused directory"

# --config repeats a run exactly (MLP and analytic), later options override it
run --iters 500 --seed 4 --hidden 8 --holdout 0.1 --lr 0.01 --out "$W/rc1" >/dev/null
"$T" --config "$W/rc1/config.json" --out "$W/rc2" --quiet >/dev/null || bad "--config run"
cmp -s "$W/rc1/trace.csv" "$W/rc2/trace.csv" && ok || bad "--config does not repeat the MLP run"
"$T" --no-plots --quiet --f0 'x^4/4' --f1 'eps*sin(x/eps)+a*x' --param a=0.01 --eps 1e-5 --lr 0.05 \
  --ensemble 3000 --x0 normal:0.1,0.3 --iters 300 --hist-at 50 --compare-map gaussian --out "$W/ra1" >/dev/null
"$T" --config "$W/ra1/config.json" --out "$W/ra2" --quiet >/dev/null || bad "--config analytic run"
cmp -s "$W/ra1/hist.csv" "$W/ra2/hist.csv" && cmp -s "$W/ra1/compare.csv" "$W/ra2/compare.csv" && ok || bad "--config does not repeat the analytic run"
"$T" --config "$W/ra1/config.json" --lr 0.02 --iters 10 --out "$W/ra3" --quiet >/dev/null
grep -q '"lr": 0.02,' "$W/ra3/config.json" && ok || bad "--lr after --config does not override"
expect_exit 2 "--config not first" "$T" --lr 0.1 --config "$W/ra1/config.json"
# a flag before --config=FILE puts --config= at argv[2] (it once passed as first)
expect_exit 2 "--config= not first" "$T" --quiet --config="$W/ra1/config.json"
expect_exit 2 "--resume= not first" "$T" --quiet --resume="$W/ra1"
echo '{"objective": "mlp", "lr": "fast"}' > "$W/badcfg.json"
expect_exit 3 "malformed config.json" "$T" --config "$W/badcfg.json"
grep -q '"lr"' "$W/err" && ok || bad "config error does not name the key"

# without gnuplot on PATH a run writes all its data and says the plots were skipped
env PATH=/nonexistent "$T" --data "$DATA" --iters 20 --out "$W/nognu" >/dev/null 2>"$W/err" || bad "run without gnuplot"
grep -q 'plots skipped' "$W/err" && grep -q '"plots": "skipped (no gnuplot)"' "$W/nognu/summary.json" && [ -s "$W/nognu/trace.csv" ] && ok || bad "missing gnuplot not reported"

# holdout: a deterministic share of rows is kept out and its loss logged
run --iters 50 --holdout 0.2 --seed 3 --out "$W/ho" >/dev/null || bad "holdout run"
[ "$(head -1 "$W/ho/trace.csv")" = "step,loss,grad_norm,param_norm,holdout_loss" ] && ok || bad "holdout trace header"
tr=$(grep -o '"train_rows": [0-9]*' "$W/ho/config.json" | grep -o '[0-9]*$')
ho=$(grep -o '"holdout_rows": [0-9]*' "$W/ho/config.json" | grep -o '[0-9]*$')
[ $((tr + ho)) = 1503 ] && [ "$ho" -gt 250 ] && [ "$ho" -lt 360 ] && ok || bad "holdout split $tr + $ho rows"
grep -q '"final_holdout_loss": [0-9]' "$W/ho/summary.json" && ok || bad "summary lacks final_holdout_loss"

# exit codes
expect_exit 2 "unknown option" "$T" --bogus
expect_exit 2 "non-numeric lr" "$T" --lr abc
expect_exit 2 "negative lr" "$T" --lr -0.1
expect_exit 2 "lr with trailing junk" "$T" --lr 0.1x
expect_exit 2 "zero log-every" "$T" --log-every 0
expect_exit 2 "stray argument" "$T" extra
expect_exit 3 "missing data file" run --data "$W/nope.dat" --iters 10 --out "$W/e3"
printf '1 2 3\n4 5\n' > "$W/ragged.dat"
expect_exit 3 "ragged data" run --data "$W/ragged.dat" --iters 10 --out "$W/e3b"
grep -q 'line 2' "$W/err" && ok || bad "ragged-data message does not name the line"
echo "layers 5 16 1" > "$W/badinit.txt"
expect_exit 3 "truncated --init file" run --init "$W/badinit.txt" --iters 10 --out "$W/e3c"
touch "$W/afile"
expect_exit 4 "output under a regular file" run --iters 10 --out "$W/afile/sub"
expect_exit 5 "divergence" run --lr 10 --iters 1000 --out "$W/div"
grep -q '"verdict": "diverged"' "$W/div/summary.json" && ok || bad "diverged run lacks the verdict"
grep -q '"diverged_step": [0-9]' "$W/div/summary.json" && ok || bad "diverged run lacks the step"
[ -s "$W/div/trace.csv" ] && ok || bad "diverged run lacks its trace"

# interruption: SIGINT mid-run stops cleanly with every file complete, exit 6
# (started directly, not through run(): the signal must reach train, not a subshell)
"$T" --data "$DATA" --no-plots --quiet --iters 10000000 --out "$W/int" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [ -f "$W/int/config.json" ] && break; sleep 0.1; done
sleep 0.5
kill -INT $pid
wait $pid; code=$?
[ "$code" = 6 ] && ok || bad "SIGINT: exit $code, expected 6"
grep -q '"interrupted": true' "$W/int/summary.json" && ok || bad "interrupted run: summary does not say so"
[ -s "$W/int/trace.csv" ] && ok || bad "interrupted run lacks trace.csv"
ls "$W/int" | grep -q '\.tmp$' && bad "interrupted run left temporary files" || ok

# comparison: two rates from the same initial parameters, one directory
run --lr 0.0005,0.02 --iters 2000 --out "$W/cmp" >/dev/null || bad "comparison run"
[ "$(wc -l < "$W/cmp/comparison.csv")" = 3 ] && ok || bad "comparison.csv should have 2 rows"
cmp -s "$W/cmp/lr-0.0005/params_init.txt" "$W/cmp/lr-0.02/params_init.txt" && ok || bad "comparison runs start from different parameters"
[ -s "$W/cmp/comparison.json" ] && ok || bad "comparison.json missing"

# analytic objectives through the same tool
A=(--no-plots --quiet --f0 quartic --f1 sin --eps 1e-6 --lr 0.1)
OMP_NUM_THREADS=1 "$T" "${A[@]}" --ensemble 5000 --iters 300 --hist-at 100 --out "$W/o1" >/dev/null || bad "analytic run"
OMP_NUM_THREADS=2 "$T" "${A[@]}" --ensemble 5000 --iters 300 --hist-at 100 --out "$W/o2" >/dev/null || bad "analytic run (2 threads)"
cmp -s "$W/o1/trace.csv" "$W/o2/trace.csv" && cmp -s "$W/o1/hist.csv" "$W/o2/hist.csv" && ok || bad "ensemble differs between 1 and 2 threads"
grep -q '"tv": 0\.0' "$W/o1/summary.json" && ok || bad "ensemble summary lacks a small TV to Gibbs"
[ "$(head -1 "$W/o1/trace.csv")" = "step,f_mean,x_mean,x_std,frac_x_neg" ] && ok || bad "ensemble trace header"
"$T" --no-plots --quiet --f0 'x^4/4' --f1 'eps*sin(x/eps)' --eps 1e-6 --lr 0.1 --ensemble 20000 --iters 300 --out "$W/ex" >/dev/null || bad "expression run"
grep -q '"tv": 0\.0[0-4]' "$W/ex/summary.json" && ok || bad "expression objective: TV to Gibbs not below 0.05"
"$T" --no-plots --quiet --f0 matyas --f1 sincos2d --eps 1e-7 --lr 0.01 --x0 0.3,-0.2 --iters 100 --out "$W/m2" >/dev/null || bad "2-D orbit"
[ "$(head -1 "$W/m2/trace.csv")" = "step,x,y,f,grad_x,grad_y" ] && ok || bad "2-D orbit trace header"
[ "$("$T" --critical-k)" = "0.649519052838329" ] && ok || bad "--critical-k"
[ "$("$T" --critical-k --f1 quasi)" = "1.56807770638202" ] && ok || bad "--critical-k for quasi: (1+sqrt 2)*3*sqrt(3)/8"
"$T" --no-plots --quiet --f0 matyas --f1 sincos2d --eps 1e-7 --lr 0.01 --ensemble 2000 --iters 100 --gibbs-form gaussian --out "$W/gf" >/dev/null || bad "gaussian form run"
grep -q '"form": "gaussian"' "$W/gf/summary.json" && ok || bad "summary lacks the Gibbs form"
expect_exit 2 "expression syntax error" "$T" --f0 'x^' --iters 10 --out "$W/e" --no-plots
grep -q 'column' "$W/err" && ok || bad "expression error does not name the column"
expect_exit 2 "unknown name in expression" "$T" --f0 'x^2 + foo' --iters 10 --out "$W/e" --no-plots
expect_exit 2 "stochastic map on the MLP" "$T" --map stochastic
expect_exit 2 "--compare-map on a single orbit" "$T" --f0 quartic --compare-map stochastic --iters 10
expect_exit 2 "bad --x0" "$T" --f0 quartic --x0 uniform:1 --iters 10 --out "$W/e" --no-plots
expect_exit 2 "2-D point for a 1-D objective" "$T" --f0 quartic --x0 0.1,0.2 --iters 10 --out "$W/e" --no-plots
expect_exit 2 "bad --hist-at" "$T" --f0 quartic --ensemble 10 --hist-at 10,x --iters 10 --out "$W/e" --no-plots
# The initial states: an error of the objective anywhere in the ensemble (here a state
# beyond the sin/cos range, 1 in 2200, that ran away) comes before a value that is not
# defined (log of a negative number: nearly every particle), as when all were evaluated at
# once; not only when it falls in the first cache-sized chunk. Before any step a run-away
# state is a point the user chose: exit 2 (no run directory), not a divergence (exit 5)
expect_exit 2 "initial states: the objective's error first" "$T" --f0 'log(1000-x)' --f1 sin \
  --ensemble 20000 --x0 uniform:-2,1100000.5 --hist-range -1,1 --iters 10 --out "$W/e" --no-plots
grep -q "^train: --x0 .*initial states: .*the state ran away" "$W/err" && ok || bad "initial states: message ($(head -c 300 "$W/err"))"
[ ! -e "$W/e" ] && ok || bad "initial states: a usage error left a run directory"
expect_exit 5 "analytic divergence" "$T" --f0 quartic --f1 sin --lr 10 --x0 3 --iters 100 --out "$W/e5" --no-plots
# the state ran away, met at an observed step (an orbit observes every one): the summary
# says where all the same
grep -q '"diverged_step": [0-9]' "$W/e5/summary.json" && ok || bad "analytic divergence: summary lacks the step"
# the same run written as an expression: its sin argument leaves 2^40 at a state that ran
# away, which is divergence as for the built-in, not a domain error
expect_exit 5 "expression divergence" "$T" --f0 'x^4/4' --f1 'eps*sin(x/eps)' --eps 1e-6 --lr 10 --x0 3 --iters 100 --out "$W/e5x" --no-plots
grep -q "argument of sin at column 5 .*2^40.*the state ran away" "$W/err" && ok || bad "expression divergence: message lacks the sin argument and the run-away state ($(head -c 300 "$W/err"))"
grep -q '"diverged_step": [0-9]' "$W/e5x/summary.json" && ok || bad "expression divergence: summary lacks the step"
# Blocks failing two ways at one step (128 blocks of 2048 on 64 slots): from x0 ~ 1e-90,
# one step at lr 1e280 takes most particles to |x| ~ 1e10 (their next step overflows to
# -inf: the map's own check), the tail beyond 2^40 (the gaussian map's evaluation of f0's
# sin fails: ran away). A block whose evaluation failed has not stepped even when the
# block before it on its slot left -inf in the shared second buffer: it once got that
# block's states, and the crossings of x = 0 then evaluated f0 at its run-away states
# (exit 1, "out of memory tracking crossings", no summary).
expect_exit 5 "divergence of two kinds in one step" "$T" --f0 'x^4/4+1e-300*sin(x)' --f1 none \
  --map gaussian --ensemble 262144 --lr 1e280 --x0 normal:0,1.27e-90 --iters 20 --out "$W/e5b" --no-plots
jq -e '.status == "diverged" and .diverged_step == 2' "$W/e5b/summary.json" >/dev/null && ok || bad "divergence of two kinds: summary ($(head -c 300 "$W/err"))"


# ---- the one pipeline: plots last and never fatal, every kind compares, option kinds
# divergence with plots on: exit 5, every file, and a figure of what happened
"$T" --data "$DATA" --quiet --lr 5 --iters 1000 --out "$W/div5" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && ok || bad "--lr 5 with plots: exit $code, expected 5"
for f in config.json trace.csv hist.csv summary.json params_final.txt; do
  [ -s "$W/div5/$f" ] && ok || bad "diverged run with plots lacks $f"
done
if command -v gnuplot >/dev/null; then
  [ -s "$W/div5/loss.png" ] && [ -s "$W/div5/hist.png" ] && ok || bad "diverged run has no figure"
  jq -e '.plots == "loss.png hist.png"' "$W/div5/summary.json" >/dev/null && ok || bad "diverged run: plots field $(jq .plots "$W/div5/summary.json")"
fi
# parameters of order 1e299 after one step: their one-value histogram ranges (a fixed ±0.5
# vanished into them) still make hist.csv, the summary's fields and params_final.txt
"$T" --data "$DATA" --quiet --no-plots --lr 1e300 --iters 20 --out "$W/div300" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && ok || bad "--lr 1e300: exit $code, expected 5"
for f in hist.csv params_final.txt; do [ -s "$W/div300/$f" ] && ok || bad "--lr 1e300 lacks $f"; done
jq -e '(has("analysis_error") | not) and .initial_loss > 0 and .diverged_step == 1' "$W/div300/summary.json" >/dev/null &&
  ok || bad "--lr 1e300 summary: $(head -c 300 "$W/div300/summary.json")"
# sharpness sampled on the diverging step: the divergence is reported (exit 5, every file),
# not the eigen-solver's failure on a NaN state (exit 1, no summary before)
"$T" --data "$DATA" --quiet --no-plots --lr 1e300 --iters 20 --sharpness-every 1 --out "$W/divsh" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && [ -s "$W/divsh/summary.json" ] && [ -s "$W/divsh/sharpness.csv" ] && ok ||
  bad "--lr 1e300 --sharpness-every 1: exit $code, files $(ls "$W/divsh" | tr '\n' ' ')"
# the twin of --lyap-twin-every never sees the diverging step either: the divergence and its
# step are what is reported (before: "mlp_lyap: twin separation inf", diverged_step null)
"$T" --data "$DATA" --quiet --no-plots --lr 1e300 --iters 20 --lyap-twin-every 1 --out "$W/divtw" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && jq -e '.diverged_step == 1 and (.message | startswith("diverged at step 1"))' "$W/divtw/summary.json" >/dev/null && ok ||
  bad "--lr 1e300 --lyap-twin-every 1: exit $code, $(jq -c '[.diverged_step, .message]' "$W/divtw/summary.json")"
# an ensemble's divergence is reported at the same step whatever --log-every groups
# (the objective refusing state u at an unobserved step was counted as u + 1, and the
# steps completed only at the start of the group)
for le in 1 auto; do
  "$T" --f0 quartic --f1 sin --eps 1e-3 --lr 0.3 --map heavyball --ensemble 100 --iters 200 \
    --log-every $le --quiet --no-plots --out "$W/ensdiv$le" >/dev/null 2>&1
done
[ "$(jq -c '[.diverged_step, .steps_completed]' "$W/ensdiv1/summary.json")" = "$(jq -c '[.diverged_step, .steps_completed]' "$W/ensdivauto/summary.json")" ] &&
  ok || bad "ensemble divergence step depends on --log-every: $(jq -c '[.diverged_step, .steps_completed]' "$W/ensdiv1/summary.json" "$W/ensdivauto/summary.json" | tr '\n' ' ')"
# the step a run diverges on ends trace.csv off the --log-every grid too, and is not in the
# series: final_loss and the tail are those of the steps before it (all null before)
"$T" --data "$DATA" --lr 3 --loss-limit 1e308 --iters 50 --log-every 5 --quiet --no-plots --out "$W/mlpdiv7" >/dev/null 2>&1
[ "$(tail -1 "$W/mlpdiv7/trace.csv" | cut -d, -f1)" = 7 ] &&
  jq -e '.diverged_step == 7 and (.final_loss | numbers) and .tail.steps > 0 and (.tail.loss_mean | numbers)' "$W/mlpdiv7/summary.json" >/dev/null && ok ||
  bad "diverged MLP series: $(tail -1 "$W/mlpdiv7/trace.csv" | cut -c1-40) $(jq -c '[.diverged_step, .final_loss, .tail.steps]' "$W/mlpdiv7/summary.json")"
# a twin whose separation underflows to 0 (params ~1e200, delta 1e-8) ends, with the step
# and why; the run goes on to its own divergence (it stopped as "diverged" at step 6 with
# "mlp_lyap: twin separation 0" and no diverged_step)
"$T" --data "$DATA" --lr 3 --loss-limit 1e308 --iters 50 --lyapunov --lyap-twin-every 1 --lyap-burn-in 0 \
  --quiet --no-plots --out "$W/twin0" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && jq -e '.diverged_step == 7 and .lyapunov.twin.ended_at_step == 6 and (.lyapunov.twin.ended_because | startswith("separation 0"))' "$W/twin0/summary.json" >/dev/null && ok ||
  bad "twin separation 0: exit $code $(jq -c '[.diverged_step, .message, .lyapunov.twin.ended_at_step]' "$W/twin0/summary.json")"
# a run whose first rise is the step it diverges on (f finite above the loss limit) still
# has first_increase_step (null before: that step is not in the series)
"$T" --data "$DATA" --lr 200 --loss-limit 1e3 --iters 50 --quiet --no-plots --out "$W/firstinc" >/dev/null 2>&1
jq -e '.diverged_step == 1 and .first_increase_step == 0' "$W/firstinc/summary.json" >/dev/null && ok ||
  bad "first_increase_step at the diverging step: $(jq -c '[.diverged_step, .first_increase_step]' "$W/firstinc/summary.json")"
# a comparison refused before any rate ran leaves no comparison behind (a corrected rerun
# into the same --out was refused: "already holds a run")
expect_exit 3 "comparison with missing data" "$T" --data "$W/nonexist" --lr 0.1,0.2 --out "$W/nodatacmp"
"$T" --data "$DATA" --lr 0.1,0.2 --iters 5 --quiet --no-plots --out "$W/nodatacmp" >/dev/null 2>&1 && ok || bad "rerun after a refused comparison"
# a diverged ensemble keeps the law of its last good step (hist.csv had only its header):
# the same rows as --hist-at that step gives
"$T" --f0 quartic --f1 sin --eps 1e-3 --lr 0.3 --map heavyball --ensemble 100 --iters 200 --hist-at 32 \
  --quiet --no-plots --out "$W/ensdiv32" >/dev/null 2>&1
[ "$(jq -c '.last_good_hist.step' "$W/ensdiv1/summary.json")" = 32 ] &&
  [ "$(grep -c '^32,last_good,' "$W/ensdiv1/hist.csv")" -gt 0 ] &&
  diff <(grep '^32,last_good,' "$W/ensdiv1/hist.csv" | cut -d, -f3-) <(grep '^32,ensemble,' "$W/ensdiv32/hist.csv" | cut -d, -f3-) >/dev/null && ok ||
  bad "diverged ensemble: last good histogram $(jq -c .last_good_hist "$W/ensdiv1/summary.json")"
# a single orbit's statistics stop before the state the run diverged on (x4 = 1e23 here,
# refused by the objective, was counted before): x1..x3 of the trace
"$T" --f0 quartic --f1 sin --eps 1e-3 --lr 0.5 --x0 3 --iters 100 --burn-in 0 --quiet --no-plots \
  --out "$W/orbdiv" >/dev/null 2>&1
want=$(awk -F, 'NR >= 3 && NR <= 5 { s += $2 } END { printf "%.6e", s / 3 }' "$W/orbdiv/trace.csv")
[ "$(jq -r '"\(.diverged_step) \(.orbit.samples) \(.orbit.mean[0])"' "$W/orbdiv/summary.json" | awk '{ printf "%s %s %.6e", $1, $2, $3 }')" = "4 3 $want" ] && ok ||
  bad "diverged orbit statistics: $(jq -c '[.diverged_step, .orbit]' "$W/orbdiv/summary.json"), want mean $want"
# ... and draws it: hist.png of the last good law (no hist.png before)
"$T" --f0 quartic --f1 sin --eps 1e-3 --lr 0.3 --map heavyball --ensemble 100 --iters 200 --quiet \
  --out "$W/ensdivplot" >/dev/null 2>&1
grep -q "eq 'last_good'" "$W/ensdivplot/plot.gp" && ok || bad "diverged ensemble: plot.gp does not draw the last good law"
if command -v gnuplot >/dev/null; then [ -s "$W/ensdivplot/hist.png" ] && ok || bad "diverged ensemble: no hist.png"; fi
# the Gaussian map meets f1's range only at logged steps: the last good law falls back to
# the last logged step before the divergence (no rows before: step bad - 1 was out of range)
"$T" --f0 'x^2' --ensemble 3000 --lr 1.002 --iters 6000 --map gaussian --hist-range -2e6,2e6 --log-every 100 \
  --quiet --no-plots --out "$W/gaussdiv" >/dev/null 2>&1
jq -e '.diverged_step == 2700 and .last_good_hist.step == 2600 and (.last_good_hist.tv | numbers)' "$W/gaussdiv/summary.json" >/dev/null &&
  [ "$(grep -c '^2600,last_good,' "$W/gaussdiv/hist.csv")" -gt 0 ] && ok ||
  bad "gaussian last good law: $(jq -c '[.diverged_step, .last_good_hist]' "$W/gaussdiv/summary.json")"
# f undefined where the dynamics go (log of a negative x) with a finite 1/x there: the same
# exit code and step for any --log-every (exit 0 before when no logged step fell on it)
for le in 1 auto; do
  "$T" --f0 'log(x)+x^2' --f1 none --ensemble 50 --x0 uniform:0.5,1.5 --lr 1 --iters 100 \
    --log-every $le --quiet --no-plots --out "$W/logneg$le" >/dev/null 2>&1; echo $? > "$W/logneg$le.code"
done
[ "$(cat "$W/logneg1.code") $(jq -c '[.diverged_step, .steps_completed]' "$W/logneg1/summary.json")" = "5 [1,1]" ] &&
  [ "$(cat "$W/lognegauto.code") $(jq -c '[.diverged_step, .steps_completed]' "$W/lognegauto/summary.json")" = "5 [1,1]" ] && ok ||
  bad "log of a negative state depends on --log-every: $(cat "$W"/logneg*.code | tr '\n' ' ') $(jq -c '[.diverged_step, .message]' "$W"/logneg*/summary.json | tr '\n' ' ')"
# --compare-map whose map diverges while the first does not: the message names the map, the
# "compare" section has its diverged_step, and compare.csv holds the steps both reached (the
# message did not say which map, diverged_step was nowhere and compare.csv was not written)
"$T" --f0 quartic --f1 sin --eps 1e-3 --lr 0.3 --ensemble 100 --iters 200 --compare-map heavyball \
  --hist-at 0,10,20,30,40,200 --quiet --no-plots --out "$W/cmpdiv" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && jq -e '(.message | startswith("compare map heavyball: ")) and .steps_completed == 200 and .compare.diverged_step == 33 and .compare.steps_completed == 33 and (.compare.steps | length) == 4' "$W/cmpdiv/summary.json" >/dev/null &&
  [ "$(cut -d, -f1 "$W/cmpdiv/compare.csv" | tr '\n' ' ')" = "step 0 10 20 30 " ] && ok ||
  bad "diverging --compare-map: exit $code, $(jq -c '[.message, .compare.diverged_step]' "$W/cmpdiv/summary.json"), $(ls "$W/cmpdiv" | tr '\n' ' ')"
# an objective refusing a state the dynamics reached (ε too small for it: a phase beyond
# 2^40 while |x| < 2^20) stops the run with exit 2 and every file it had; in a list of
# rates it is a row, the other rates run and the table is written (all lost before)
"$T" --f0 quadratic --f1 sin --eps 1e-7 --lr 2.5 --x0 1 --iters 200 --quiet --no-plots --out "$W/dom" >/dev/null 2>&1; code=$?
[ "$code" = 2 ] && [ -s "$W/dom/trace.csv" ] && [ -s "$W/dom/hist.csv" ] && ok || bad "mid-run domain error: exit $code, files $(ls "$W/dom" | tr '\n' ' ')"
jq -e '.status == "domain" and .verdict == "none" and .steps_completed > 0 and (.message | contains("eps is too small"))' "$W/dom/summary.json" >/dev/null &&
  ok || bad "mid-run domain error summary: $(head -c 300 "$W/dom/summary.json")"
"$T" --f0 quadratic --f1 sin --eps 1e-7 --lr 0.5,2.5 --x0 1 --iters 200 --quiet --no-plots --out "$W/domcmp" >/dev/null 2>"$W/domcmp.err"; code=$?
[ "$code" = 2 ] && [ -s "$W/domcmp/comparison.csv" ] && grep -q "^train: lr 2.5: f1: the phase" "$W/domcmp.err" && ok ||
  bad "comparison with a domain error: exit $code, $(ls "$W/domcmp" | tr '\n' ' '), $(head -c 200 "$W/domcmp.err")"
# zero steps, plots on
"$T" --data "$DATA" --quiet --iters 0 --out "$W/zero" >/dev/null 2>&1 && ok || bad "zero-step run failed"
jq -e '.steps_completed == 0 and (.plots | type == "string")' "$W/zero/summary.json" >/dev/null && ok || bad "zero-step summary"
# a failing gnuplot is recorded, not fatal
mkdir -p "$W/fakebin"; printf '#!/bin/sh\necho "gnuplot: simulated error" >&2\nexit 1\n' > "$W/fakebin/gnuplot"; chmod +x "$W/fakebin/gnuplot"
PATH="$W/fakebin:$PATH" "$T" --data "$DATA" --quiet --iters 20 --out "$W/gpfail" >/dev/null 2>&1; code=$?
[ "$code" = 0 ] && ok || bad "a gnuplot failure changed the exit code to $code"
jq -e '.plots | startswith("failed: gnuplot failed")' "$W/gpfail/summary.json" >/dev/null && ok || bad "gnuplot failure not recorded: $(jq .plots "$W/gpfail/summary.json")"
# SIGINT with plots on still leaves the summary
"$T" --data "$DATA" --quiet --iters 10000000 --out "$W/intp" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [ -f "$W/intp/config.json" ] && break; sleep 0.1; done
sleep 0.3; kill -INT $pid; wait $pid; code=$?
[ "$code" = 6 ] && jq -e '.status == "interrupted"' "$W/intp/summary.json" >/dev/null && ok || bad "SIGINT with plots: exit $code"
# config.json records the directory used and only the options of the run's kind and map
jq -e --arg d "$W/a" '.out == $d and (has("gamma") | not) and (has("f0") | not) and .kind == "mlp"' "$W/a/config.json" >/dev/null && ok || bad "config.json out/kind/options"
jq -e '.lr == 0.02' "$W/a/config.json" >/dev/null && grep -q '"holdout": 0.0,' "$W/a/config.json" && ok || bad "config.json numbers not in shortest form"
# a directory that holds a run is not reused without --force
expect_exit 4 "reuse without --force" run --iters 10 --out "$W/a"
grep -q 'already holds a run' "$W/err" && ok || bad "reuse message"
# --save-params into a missing directory fails before step 0
expect_exit 4 "bad --save-params" run --iters 100000000 --save-params "$W/nodir/p.txt" --out "$W/sp"
[ ! -e "$W/sp/trace.csv" ] && ok || bad "bad --save-params found only after the run"
# --config takes a run directory, or a comparison's, which repeats all its rates; one
# without a config.json (written before comparisons recorded theirs) is explained
"$T" --config "$W/rc1" --out "$W/rc3" --quiet >/dev/null && cmp -s "$W/rc1/trace.csv" "$W/rc3/trace.csv" && ok || bad "--config RUNDIR"
"$T" --config "$W/cmp" --out "$W/cmp2" --quiet >/dev/null && cmp -s "$W/cmp/comparison.csv" "$W/cmp2/comparison.csv" && ok || bad "--config CMPDIR"
mkdir -p "$W/oldcmp" && cp "$W/cmp/comparison.json" "$W/oldcmp/"
expect_exit 3 "--config on an old comparison directory" "$T" --config "$W/oldcmp"
grep -q 'comparison directory' "$W/err" && ok || bad "--config comparison-directory message"
# options for another kind or map are errors
expect_exit 2 "--gamma under gd" "$T" --gamma 0.5
expect_exit 2 "--hidden with --f0" "$T" --f0 quartic --hidden 4
expect_exit 2 "duplicate rate" "$T" --lr 0.1,0.1
# rates that print alike get their own directories
"$T" --no-plots --quiet --f0 quartic --ensemble 100 --iters 10 --lr 0.1,0.10000000001 --out "$W/uniq" >/dev/null || bad "close rates"
[ -d "$W/uniq/lr-0.1" ] && [ -d "$W/uniq/lr-0.10000000001" ] && ok || bad "close rates share a directory"
# an analytic comparison: per rate, the distance to its own Gibbs law
"$T" --quiet --f0 quartic --eps 1e-6 --ensemble 5000 --iters 300 --lr 0.05,0.1 --out "$W/acmp" >/dev/null || bad "analytic comparison"
head -1 "$W/acmp/comparison.csv" | grep -q 'gibbs_tv' && ok || bad "analytic comparison.csv lacks gibbs_tv"
jq -e '.kind == "ensemble" and ([.runs[].gibbs.tv | numbers] | length) == 2 and ([.runs[].gibbs.tv] | max) < 0.1' "$W/acmp/comparison.json" >/dev/null && ok || bad "analytic comparison.json distances"
grep -q nan "$W/acmp/comparison.csv" && bad "nan in an analytic comparison" || ok
if command -v gnuplot >/dev/null; then [ -s "$W/acmp/comparison.png" ] && ok || bad "analytic comparison.png"; fi
# a comparison with a diverging rate keeps every file
"$T" --data "$DATA" --quiet --lr 0.02,10 --iters 200 --hist-every 1 --out "$W/cdiv" >/dev/null 2>&1; code=$?
[ "$code" = 5 ] && [ -s "$W/cdiv/comparison.csv" ] && [ -s "$W/cdiv/comparison_hist.csv" ] && [ -s "$W/cdiv/lr-10/summary.json" ] && ok || bad "comparison with a diverging rate: exit $code"
# the fused MLP kernel: recorded in config.json, the same losses to 1e-12 relative
run --iters 300 --seed 3 --kernel fused --out "$W/fused" >/dev/null || bad "--kernel fused"
run --iters 300 --seed 3 --out "$W/blas" >/dev/null
jq -e '.kernel == "fused"' "$W/fused/config.json" >/dev/null && ok || bad "config.json lacks the kernel"
paste -d, <(cut -d, -f2 "$W/blas/trace.csv") <(cut -d, -f2 "$W/fused/trace.csv") | tail -n +2 |
  awk -F, '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-12 * $1) bad = 1 } END { exit bad }' && ok || bad "fused and BLAS losses differ by more than 1e-12"
expect_exit 2 "bad --kernel" "$T" --kernel fast

# chaos diagnostics from the command line (their numbers are checked in test_chaos_paper)
"$T" --no-plots --quiet --f0 doublewell --eps 1e-4 --lr 0.02 --x0 1 --iters 20000 --lyapunov \
  --sharpness-every 100 --li-yorke --horizon --out "$W/chaos1" >/dev/null || bad "orbit with chaos diagnostics"
[ "$(head -1 "$W/chaos1/trace.csv")" = "step,x,f,grad_x,lambda,lambda_stderr" ] && ok || bad "--lyapunov trace columns"
jq -e '.verdict == "chaotic" and .lyapunov.lambda > 4 and (.lyapunov.lambda_theory | numbers) and .li_yorke.found and (.horizon.horizon_step | numbers) and .sharpness.samples == 201' "$W/chaos1/summary.json" >/dev/null && ok || bad "chaos diagnostics in summary.json"
[ "$(wc -l < "$W/chaos1/sharpness.csv")" = 202 ] && ok || bad "sharpness.csv rows"
"$T" --data "$DATA" --no-plots --quiet --iters 600 --sharpness-every 200 --lyap-twin-every 10 --watch 'W1[0,1],b2' --out "$W/chaos2" >/dev/null || bad "MLP with chaos diagnostics"
jq -e '(.lyapunov.lambda | numbers) and (.lyapunov.twin.lambda | numbers) and .sharpness.samples == 4 and (.time_histograms.series | length) == 3' "$W/chaos2/summary.json" >/dev/null && ok || bad "MLP lyapunov/sharpness/watch in summary.json"
"$T" --no-plots --quiet --f0 quartic --ensemble 500 --iters 200 --lyapunov --out "$W/chaos3" >/dev/null || bad "ensemble --lyapunov"
jq -e '.lyapunov.particles.count == 500 and (.lyapunov.particles.frac_positive | numbers)' "$W/chaos3/summary.json" >/dev/null && ok || bad "ensemble exponents"
"$T" --quiet --f0 quartic --f1 negcos --eps 1e-3 --lr 2e-3:5e-3:40 --x0 0.01 --iters 2000 --bifurcation --out "$W/bif" >/dev/null || bad "--bifurcation"
[ "$(wc -l < "$W/bif/bifurcation.csv")" = 41 ] && jq -e '(.period_doublings | length) > 0 and (.chaos_onset.eta_over_eps | numbers)' "$W/bif/summary.json" >/dev/null && ok || bad "bifurcation outputs"
"$T" --config "$W/bif/config.json" --out "$W/bif2" --quiet --no-plots >/dev/null && cmp -s "$W/bif/bifurcation.csv" "$W/bif2/bifurcation.csv" && ok || bad "--config does not repeat an orbit diagram"
expect_exit 2 "--li-yorke on an ensemble" "$T" --f0 quartic --ensemble 10 --li-yorke
expect_exit 2 "--lyapunov on the MLP with heavy ball" "$T" --lyapunov --map heavyball --iters 10
expect_exit 2 "--bifurcation without a grid" "$T" --f0 quartic --bifurcation --iters 10
expect_exit 2 "bad --watch" run --watch 'W9[1]' --iters 10 --out "$W/badw"

# histograms over a range that misses most particles say so
"$T" --no-plots --f0 quartic --ensemble 20000 --hist-range 0,0.2 --iters 100 --out "$W/hr" >/dev/null 2>"$W/err"
grep -q 'lies outside --hist-range' "$W/err" && jq -e '.gibbs.in_range_fraction < 0.5 and (.warning | contains("outside"))' "$W/hr/summary.json" >/dev/null && ok || bad "outside fraction not reported"

finish cli

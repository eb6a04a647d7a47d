#!/usr/bin/env bash
# Bad-input matrix for the input layers below the run driver: data files, MLP parameter
# files and expressions, each driven through build/train and asserting the exit code and
# key words of the message (README: 2 = bad option or value, including expressions;
# 3 = bad data or input file, message naming file, line and column).
# Then options, config.json files and output paths: every input path, one `case_` line
# each (the option table's own unit tests are in test_options.c).
set -u
T="${CGD_BUILD_DIR:?run through ctest}/train"
DATA="${CGD_AIRFOIL:?run through ctest}"
[ -r "$DATA" ] || { echo "FAIL: Airfoil data missing at $DATA (run datasets/fetch.sh)"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0 n=0

# case CODE "description" "word1|word2|..." train-arguments...
# Every word (fixed strings, '|'-separated) must occur in stderr.
case_() {
  local want=$1 what=$2 words=$3
  shift 3
  n=$((n + 1))
  if [ "$1" = --config ]; then # --config must come first; the rest overrides it
    "$T" "$@" --no-plots --quiet --out "$W/run$n" >"$W/out" 2>"$W/err"
  else
    "$T" --no-plots --quiet --iters 5 --out "$W/run$n" "$@" >"$W/out" 2>"$W/err"
  fi
  local got=$? msg
  msg=$(head -c 600 "$W/err")
  if [ "$got" != "$want" ]; then
    fail=$((fail + 1)); echo "FAIL [$n] $what: exit $got, expected $want: $msg"; return
  fi
  local IFS='|' w
  for w in $words; do
    if ! grep -qF -- "$w" "$W/err"; then
      fail=$((fail + 1)); echo "FAIL [$n] $what: message lacks '$w': $msg"; return
    fi
  done
  pass=$((pass + 1))
}
put() { printf "$2" >"$W/$1"; } # put NAME FORMAT: a fixture from printf escapes

# ---------------------------------------------------------------- data files (exit 3)
put ragged.dat '1,2,3\n4,5\n'
put text.dat '1,2\n3,abc\n'
put nan.dat '1,2\n3,nan\n5,6\n'
put inf.dat '1,2\n-inf,4\n5,6\n'
put big.dat '1,2\n3,1e999\n'
put tiny.dat '1,2\n1e-400,3\n'
put hex.dat '1,2\n0x10,3\n'
put glued.dat '1,2\n0.1-0.2,3\n'
put emptyf.dat '1,2,3\n4,,6\n'
put blank.dat '1,2\n\n3,4\n'
put onecol.dat '1\n2\n3\n'
put onerow.dat '1,2\n'
put hdronly.dat 'a,b,c\n'
put nul.dat '1,2\n3,4\0x\n5,6\n'
put consty.dat '1,3\n2,3\n5,3\n'
put overflow.dat '1e308,2\n-1e308,3\n1e308,4\n'
put crcr.dat '1,2\n3\r4,5\n'
: >"$W/empty.dat"
mkdir -p "$W/adir"
case_ 3 "missing data file" "nope.dat|cannot open data file" --data "$W/nope.dat"
case_ 3 "empty data file" "empty.dat|empty file" --data "$W/empty.dat"
case_ 3 "directory as data" "adir|is a directory" --data "$W/adir"
case_ 3 "ragged row" "ragged.dat|line 2: 2 fields, expected 3" --data "$W/ragged.dat"
case_ 3 "text field" "text.dat|line 2, column 2|non-numeric|\"abc\"" --data "$W/text.dat"
case_ 3 "nan" "line 2, column 2|non-finite" --data "$W/nan.dat"
case_ 3 "-inf" "line 2, column 1|non-finite" --data "$W/inf.dat"
case_ 3 "overflowing value" "line 2, column 2|overflows a double" --data "$W/big.dat"
case_ 3 "underflowing value" "line 2, column 1|underflows" --data "$W/tiny.dat"
case_ 3 "hex value" "line 2, column 1|non-numeric|\"0x10\"" --data "$W/hex.dat"
case_ 3 "two numbers glued" "line 2, column 1|\"0.1-0.2\"" --data "$W/glued.dat"
case_ 3 "empty field" "line 2, column 2|empty field" --data "$W/emptyf.dat"
case_ 3 "blank line inside" "line 2|blank line inside the data" --data "$W/blank.dat"
case_ 3 "one column" "line 1|need at least 2" --data "$W/onecol.dat"
case_ 3 "one data row" "1 data row|need at least 2" --data "$W/onerow.dat"
case_ 3 "header only" "0 data rows" --data "$W/hdronly.dat"
case_ 3 "NUL byte in data" "nul.dat|line 2, column 2|NUL byte" --data "$W/nul.dat"
case_ 3 "stray CR" "line 2, column 1|\\x0d" --data "$W/crcr.dat"
case_ 3 "constant target (defect 5)" "consty.dat|target column 2 is constant|nothing to fit" --data "$W/consty.dat"
case_ 3 "std overflow (defect 6)" "overflow.dat|column 1|too large to standardize" --data "$W/overflow.dat"
case_ 3 "/dev/zero as data (defect 7)" "/dev/zero|NUL byte" --data /dev/zero
mkfifo "$W/fifo"
case_ 3 "FIFO without a writer as data" "fifo|empty file" --data "$W/fifo"
case_ 3 "target column out of range" "target column 9 out of range|6 columns" --data "$DATA" --target-col 9

# ---------------------------------------------------------------- parameter files (exit 3)
H='# chaosgd mlp parameters v1\nlayers 5 16 1\nW1 16 5\n'
row='0.1 -0.2 0.03 0.04 -0.05\n'
w1=''
for _ in $(seq 16); do w1="$w1$row"; done
v16='0.01 -0.02 0.03 -0.04 0.05 -0.06 0.07 -0.08 0.09 -0.1 0.11 -0.12 0.13 -0.14 0.15 -0.16\n'
tail_="b1 16\n${v16}W2 1 16\n${v16}b2 1\n0.5\n"
put p_good.txt "$H$w1$tail_"
put p_glued.txt "${H}0.1 0.2-0.3 0.4 0.5 0.6\n"
put p_nul.txt "$H$w1$tail_\0trailing text"
put p_trunc.txt "$H$row$row"
put p_shape.txt '# x\nlayers 5 8 1\n'
put p_transposed.txt "$H$v16$v16$v16$v16$v16"
put p_after.txt "$H$w1${tail_}0.7\n"
put p_nan.txt "${H}nan 0 0 0 0\n"
put p_plus.txt 'layers 5 +16 1\n'
case_ 0 "good parameter file" "" --data "$DATA" --init "$W/p_good.txt"
case_ 3 "value 0.2-0.3 (defect 5)" "p_glued.txt line 4|'0.2-0.3' is not a number" --data "$DATA" --init "$W/p_glued.txt"
case_ 3 "text after NUL (defect 5)" "p_nul.txt line 26|NUL byte" --data "$DATA" --init "$W/p_nul.txt"
case_ 3 "truncated W1" "p_trunc.txt line 5|W1 row 3 of 16|file ends" --data "$DATA" --init "$W/p_trunc.txt"
case_ 3 "wrong hidden size" "p_shape.txt line 2|hidden layer has size 8 in the file but 16" --data "$DATA" --init "$W/p_shape.txt"
case_ 3 "transposed W1" "line 4|W1 row 1 of 16 has 16 values, expected 5" --data "$DATA" --init "$W/p_transposed.txt"
case_ 3 "text after b2" "line 26|unexpected text after b2" --data "$DATA" --init "$W/p_after.txt"
case_ 3 "nan parameter" "line 4|'nan' is not a number" --data "$DATA" --init "$W/p_nan.txt"
case_ 3 "signed size" "line 1|not a whole number" --data "$DATA" --init "$W/p_plus.txt"
case_ 3 "missing parameter file" "nope.txt|cannot open" --data "$DATA" --init "$W/nope.txt"
case_ 3 "directory as parameter file" "is a directory" --data "$DATA" --init "$W/adir"
case_ 3 "FIFO without a writer as parameter file" "fifo line 0|file ends" --data "$DATA" --init "$W/fifo"
case_ 3 "/dev/zero as parameter file" "/dev/zero line 1|NUL byte" --data "$DATA" --init /dev/zero

# ---------------------------------------------------------------- expressions (exit 2)
case_ 2 "syntax: dangling ^" "expression 'x^' column 3|expected a number" --f0 'x^'
case_ 2 "number glued to a name" "column 2|expected an operator between the number '2' and 'x'" --f0 '2x'
case_ 2 "hex literal" "expected an operator between the number '0' and 'x'" --f0 '0x1p3*x'
case_ 2 "literal underflows" "column 1|number out of range" --f0 '1e-400*x^2'
case_ 2 "literal overflows" "number out of range" --f0 'x^2' --f1 '1e999*sin(x)'
case_ 2 "unknown function" "unknown function 'foo'" --f0 'foo(x)'
case_ 2 "unknown name" "unknown name 'epsilon'" --f0 'x^2' --f1 'epsilon*sin(x/eps)'
case_ 2 "nested too deeply" "nested too deeply" --f0 "$(printf '(%.0s' $(seq 300))x$(printf ')%.0s' $(seq 300))"
case_ 2 "log undefined on the range (defect 8)" "f0 is NaN at x = -1.4|must be defined on the whole range" --f0 'log(x)'
case_ 2 "sqrt undefined on the range" "f0 is NaN at x = -1.4" --f0 'sqrt(x)' --hist-range -1.5,1.5
case_ 2 "2-D f0 with 1-D built-in f1" "is 2-D but" --f0 'x^2+y^2' --f1 sin

# sin/cos go through the deterministic kernel: an argument beyond 2^40 is CGD_EDOMAIN
# (exit 2, like a built-in's eps too small for the state), never a silent NaN
case_ 2 "sin argument beyond 2^40 at the initial state" "f1: expression '1e-13*sin(x/1e-13)' at x = 0.5|argument of sin at column 7 is 5e+12|domain |x| <= 2^40 (1.1e+12)" --f0 'x^4/4' --f1 '1e-13*sin(x/1e-13)' --x0 0.5
case_ 2 "constant cos argument beyond 2^40" "f1: expression 'cos(1e13)*x': argument of cos at column 1 is 1e+13|2^40" --f0 'x^2' --f1 'cos(1e13)*x'
case_ 2 "sin argument leaving 2^40 during an ensemble run" "f1: expression '1e-12*sin(x/1e-12)' at x = 1.1|argument of sin at column 7 is 1.1|2^40" --f0 '-3*x' --f1 '1e-12*sin(x/1e-12)' --x0 uniform:0.9,1 --lr 0.05 --ensemble 1000 --hist-range 0,2

case_ 2 "undefined at the initial state (defect 8)" "not defined at the initial state x = 0.29999999999999999" --f0 'x^2' --f1 '1/(x-x)' --x0 0.3

# ---------------------------------------------------------------- options (exit 2)
case_ 2 "empty rate" "--lr: empty value" --lr ''
case_ 2 "empty list element" "--lr: empty element" --lr ,
case_ 2 "rate given twice" "--lr: rate 0.1 is given twice" --lr 0.1,0.1
case_ 2 "empty f0" "--f0: empty value" --f0 ''
case_ 2 "empty f1" "--f1: empty value" --f0 quartic --f1 ''
case_ 2 "seed with a space" "--seed: ' -1' has leading or trailing white space" --seed ' -1'
case_ 2 "negative step in --hist-at" "white space" --f0 quartic --ensemble 10 --hist-at '10, -5'
case_ 2 "--hidden with --f0" "--hidden applies to MLP runs" --f0 quartic --hidden 4
case_ 2 "--data with --f0" "--data applies to MLP runs" --f0 quartic --data "$DATA"
case_ 2 "--gamma under gd" "--gamma applies to --map heavyball only" --gamma 0.5
case_ 2 "missing value" "option --iters needs a value" --iters
case_ 2 "subnormal eps" "--eps: must be >= 1e-300" --f0 quartic --eps 1e-320
case_ 2 "huge hidden" "--hidden: must be between 1 and" --hidden 2305843009213693952
case_ 2 "memory refused before allocating" "needs|more than the memory limit" --hidden 1000000
case_ 2 "ensemble over the memory limit" "needs|--max-memory" --f0 quartic --ensemble 100000000 --max-memory 1G
case_ 2 "bad --max-memory" "--max-memory: expected auto or bytes" --max-memory lots
case_ 2 "bad kernel" "--kernel: 'blas' or 'fused'" --kernel fast
case_ 2 "nag-sc with mu*lr >= 1" "--map nag-sc needs --mu > 0 and mu*lr < 1 (got mu 1, lr 5)" --map nag-sc --lr 5
case_ 2 "nag-sc, one rate of a list" "mu*lr < 1 (got mu 1, lr 5)" --f0 quartic --map nag-sc --lr 0.1,5
case_ 2 "nag-sc as the compare map" "mu*lr < 1 (got mu 2, lr 0.5)" --f0 quartic --ensemble 10 --compare-map nag-sc --mu 2 --lr 0.5
# ... refused before a run directory exists (it was created first, then refused a re-run)
"$T" --no-plots --quiet --map nag-sc --lr 5 --out "$W/nagsc" >/dev/null 2>&1
n=$((n + 1))
if [ -e "$W/nagsc" ]; then fail=$((fail + 1)); echo "FAIL [$n] nag-sc refusal left $W/nagsc"; else pass=$((pass + 1)); fi

# ---------------------------------------------------------------- config.json (exit 3)
put big_hidden.json '{"objective":"mlp","hidden":2305843009213693952,"iters":5}'
put big_ensemble.json '{"objective":"multiscale","f0":"quartic","ensemble":1000000000000}'
put big_iters.json '{"objective":"multiscale","f0":"quartic","iters":1000000000000000}'
put big_bins.json '{"hist_bins":1099511627776}'
put big_col.json '{"target_col":4294967297}'
put unknown.json '{"lr":0.1,"learning_rate":0.2}'
put wrongtype.json '{"lr":"fast"}'
case_ 3 "config: huge hidden (defect 1)" 'big_hidden.json: "hidden": must be between' --config "$W/big_hidden.json"
case_ 3 "config: huge ensemble" '"ensemble": must be between' --config "$W/big_ensemble.json"
case_ 3 "config: huge iters" '"iters": must be between' --config "$W/big_iters.json"
case_ 3 "config: huge hist_bins" '"hist_bins": must be between' --config "$W/big_bins.json"
case_ 3 "config: target_col beyond 2^32" '"target_col": must be between' --config "$W/big_col.json"
case_ 3 "config: unknown key" 'unknown key "learning_rate"' --config "$W/unknown.json"
case_ 3 "config: wrong type" '"lr" should be a number' --config "$W/wrongtype.json"
case_ 3 "config: a directory without config.json" "is a directory without a config.json" --config "$W"

# ---------------------------------------------------------------- outputs (exit 4)
touch "$W/afile"
case_ 4 "output under a regular file" "cannot create directory|Not a directory" --data "$DATA" --out "$W/afile/sub"
mkdir -p "$W/held"; echo '{}' > "$W/held/summary.json"
case_ 4 "a directory holding a run" "already holds a run|--force" --data "$DATA" --out "$W/held"
case_ 4 "--save-params into a missing folder" "--save-params|does not exist" --data "$DATA" --save-params "$W/nodir/p.txt"

echo "bad_inputs: $pass of $n cases passed"
[ "$fail" = 0 ]

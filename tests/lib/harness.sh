# Shared by the end-to-end test scripts (sourced, not run): a work folder removed at exit,
# pass/fail counters, and the checks every script makes the same way.
#   . "$(dirname "$0")/lib/harness.sh"
#   need_data          DATA := the Airfoil file ctest passes in CGD_AIRFOIL (fails if absent)
#   ok / bad MSG       count a passed / failed check (bad prints FAIL: MSG)
#   expect_exit CODE WHAT CMD...   run CMD (stdout, stderr into $W/out, $W/err), check its exit code
#   finish NAME        print the counts; the script's status is 0 only without failures
W=$(mktemp -d)
cgd_cleanup_hooks=()
cgd_cleanup() { for h in "${cgd_cleanup_hooks[@]}"; do "$h"; done; rm -rf "$W"; }
trap cgd_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
need_data() {
  DATA="${CGD_AIRFOIL:?run through ctest}"
  [ -r "$DATA" ] || { echo "FAIL: Airfoil data missing at $DATA (run datasets/fetch.sh)"; exit 1; }
}
expect_exit() { # expected-code description command...
  local want=$1 what=$2; shift 2
  "$@" >"$W/out" 2>"$W/err"; local got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, expected $want ($(head -c 300 "$W/err"))"; fi
}
finish() { # name [extra text]
  echo "$1: $pass passed, $fail failed${2:+, $2}"
  [ "$fail" = 0 ]
}

#!/usr/bin/env bash
# report_shape: the committed full-size report (docs/report/REPORT.md and its figures) has the
# shape of what `experiments/paper_figures.sh --quick` produces now: the same checks (row
# names, in order) and the same figure files. Values are not compared (quick mode runs 10x
# smaller). Prints "report_shape: N passed, M failed" and exits non-zero on any mismatch.
#
# Environment (set by ctest): CGD_SOURCE_DIR (repo root), CGD_BUILD_DIR (holds train).
set -euo pipefail

src=${CGD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
bld=${CGD_BUILD_DIR:-$src/build}
committed=$src/docs/report
tmp=$(mktemp -d "${TMPDIR:-/tmp}/report_shape.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

npass=0
nfail=0
ok() { npass=$((npass + 1)); }
bad() { nfail=$((nfail + 1)); echo "report_shape: FAIL: $*" >&2; }

# rows REPORT: the first cell of each row of the "## Checks" table, without a run's
# "(train exit N)" note
rows() {
  awk '/^## Checks/ { s = 1; next } s && /^## / { exit }
       s && /^\| Check \|/ { t = 1; next } t && /^\|---/ { next }
       t && /^\|/ { sub(/^\| /, ""); sub(/ \|.*$/, ""); sub(/ \(train exit [0-9]+\)$/, ""); print; next }
       t && !/^\|/ { exit }' "$1"
}
# links REPORT: figure files the report embeds, in order of appearance
links() { grep -o '](figures/[^)]*\.png)' "$1" | sed 's/^](figures\///; s/)$//' || true; }

rc=0
"$src/experiments/paper_figures.sh" --quick --build "$bld" --out "$tmp/quick" > "$tmp/quick.log" 2>&1 || rc=$?
# 0: all checks pass; 1: a check FAILed (a value, not the shape); anything else: broken
if [ "$rc" -le 1 ] && [ -f "$tmp/quick/REPORT.md" ]; then ok; else
  bad "paper_figures.sh --quick exited $rc without a report"; tail -n 20 "$tmp/quick.log" >&2
  echo "report_shape: $npass passed, $nfail failed"; exit 1
fi
[ "$rc" = 0 ] || echo "report_shape: note: a quick-mode check FAILed (values are not compared here)"

if [ -f "$committed/REPORT.md" ]; then ok; else
  bad "no committed report $committed/REPORT.md"
  echo "report_shape: $npass passed, $nfail failed"; exit 1
fi
if grep -q '^- mode: \*\*full\*\*' "$committed/REPORT.md"; then ok; else bad "the committed report is not a full-size run"; fi

rows "$committed/REPORT.md" > "$tmp/rows.committed"
rows "$tmp/quick/REPORT.md" > "$tmp/rows.quick"
if [ -s "$tmp/rows.quick" ]; then ok; else bad "no checks table in the quick report"; fi
if diff -u "$tmp/rows.committed" "$tmp/rows.quick" > "$tmp/rows.diff"; then ok; else
  bad "check rows differ (committed -, quick +):"; sed -n '3,$p' "$tmp/rows.diff" >&2
fi

links "$committed/REPORT.md" > "$tmp/links.committed"
links "$tmp/quick/REPORT.md" > "$tmp/links.quick"
if diff -u "$tmp/links.committed" "$tmp/links.quick" > "$tmp/links.diff"; then ok; else
  bad "embedded figures differ (committed -, quick +):"; sed -n '3,$p' "$tmp/links.diff" >&2
fi
(cd "$committed/figures" 2>/dev/null && ls -1 -- *.png 2>/dev/null || true) | sort > "$tmp/files.committed"
(cd "$tmp/quick/figures" && ls -1 -- *.png 2>/dev/null || true) | sort > "$tmp/files.quick"
if diff -u "$tmp/files.committed" "$tmp/files.quick" > "$tmp/files.diff"; then ok; else
  bad "figure files differ (docs/report/figures -, quick +):"; sed -n '3,$p' "$tmp/files.diff" >&2
  command -v gnuplot > /dev/null 2>&1 || echo "report_shape: gnuplot is not installed: the quick run drew no figures" >&2
fi
missing=0
while read -r f; do [ -f "$committed/figures/$f" ] || { missing=1; bad "linked figure $f not committed"; }; done < "$tmp/links.committed"
[ "$missing" = 1 ] || ok
# "a few hundred KB": the committed figures stay below 1 MB in all
kb=$(du -sk "$committed" | cut -f1)
if [ "$kb" -le 1024 ]; then ok; else bad "docs/report takes $kb KB (> 1024)"; fi

echo "report_shape: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]

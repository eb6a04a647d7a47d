#!/usr/bin/env bash
# Install datasets/airfoil_self_noise.dat (next to this script) from a local directory or
# from UCI, validated by parsed content against MANIFEST.md before it is put in place.
# Content, not a byte hash, is checked because mirrors differ in line ends and blanks
# while holding the same numbers; see MANIFEST.md.
set -euo pipefail

readonly URL="https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat"
readonly NAME="airfoil_self_noise.dat"
readonly NCOLS=6

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
manifest="$here/MANIFEST.md"
target="$here/$NAME"

usage() {
  cat <<USAGE
usage: datasets/fetch.sh [--from DIR] [--force] [--help]

Installs $target.
  --from DIR  copy DIR/$NAME instead of downloading it from
              $URL
              (download uses curl, or wget when curl is missing)
              Without --from, a non-empty CGD_DATASETS environment variable names
              that directory (for offline machines and local mirrors).
  --force     re-install even when a valid file is already present
  --help      print this message

The file is validated against the content table in MANIFEST.md (row count, $NCOLS numeric
fields per line, per-column sum, min and max) before it is moved into place; on a
mismatch nothing is installed.

Exit codes: 0 installed, or already present and valid; 2 usage error;
            3 source missing or unavailable, or validation failed; 1 other errors.
USAGE
}

die() {
  local code=$1
  shift
  printf 'fetch.sh: %s\n' "$*" >&2
  exit "$code"
}

from=""
from_given=0
force=0
while [ $# -gt 0 ]; do
  case $1 in
    --from)
      [ $# -ge 2 ] || { usage >&2; die 2 "--from needs a directory"; }
      from=$2; from_given=1; shift 2 ;;
    --from=*) from=${1#--from=}; from_given=1; shift ;;
    --force) force=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument: $1" ;;
  esac
done
if [ "$from_given" = 1 ] && [ -z "$from" ]; then
  die 2 "--from needs a non-empty directory"
fi
if [ "$from_given" = 0 ] && [ -n "${CGD_DATASETS:-}" ]; then
  from=$CGD_DATASETS
  from_given=1
fi
[ -r "$manifest" ] || die 3 "manifest not found: $manifest"

# validate FILE: prints what differs to stderr and returns non-zero on any mismatch.
# The expected numbers come from MANIFEST.md (the "rows:" line and the content table
# after it) so that the manifest is the single place they are written down.
validate() {
  awk -v ncols="$NCOLS" -v manifest="$manifest" -v file="$1" '
    function abs(x) { return x < 0 ? -x : x }
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    function bad(msg) {
      nbad++
      if (nbad <= 10) print "  " msg > "/dev/stderr"
      else if (nbad == 11) print "  ... (further problems not shown)" > "/dev/stderr"
    }
    BEGIN { numre = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$" }

    FNR == NR {                      # MANIFEST.md
      line = $0
      sub(/\r$/, "", line)
      if (line ~ /^rows:[ \t]*[0-9]+[ \t]*$/) {
        sub(/^rows:[ \t]*/, "", line)
        want_rows = line + 0
        in_table = 1
        next
      }
      if (in_table && line ~ /^\|[ \t]*[0-9]+[ \t]*\|/) {
        if (split(line, f, "|") == 6) {
          c = trim(f[2]) + 0; s = trim(f[3]); lo = trim(f[4]); hi = trim(f[5])
          if (s ~ numre && lo ~ numre && hi ~ numre && c >= 1 && c <= ncols && !(c in ref_sum)) {
            ref_sum[c] = s + 0; ref_min[c] = lo + 0; ref_max[c] = hi + 0; nref++
          }
        }
      }
      next
    }

    {                                # the data file
      sub(/\r$/, "")                 # CRLF; assigning $0 re-splits the fields
      if (NF == 0) { if (rows > 0 && !blank) blank = FNR; next }
      if (blank) { bad("line " blank ": blank line inside the data"); blank = 0 }
      rows++
      if (NF != ncols) { bad("line " FNR ": " NF " fields, expected " ncols); next }
      for (i = 1; i <= NF; i++) {
        if ($i !~ numre) { bad("line " FNR ", column " i ": not a number: \"" $i "\""); continue }
        v = $i + 0
        sum[i] += v
        if (!(i in mn) || v < mn[i]) mn[i] = v
        if (!(i in mx) || v > mx[i]) mx[i] = v
      }
    }

    END {
      if (want_rows <= 0 || nref != ncols) {
        print "  cannot read the rows line and the " ncols "-row content table from " manifest > "/dev/stderr"
        exit 2
      }
      if (rows != want_rows) bad("rows: " rows + 0 ", expected " want_rows)
      for (i = 1; i <= ncols; i++) {
        if (!(i in mn)) { bad("column " i ": no numeric values"); continue }
        if (abs(sum[i] - ref_sum[i]) > 1e-6 * abs(ref_sum[i]))
          bad(sprintf("column %d: sum %.10g, expected %.10g (tolerance 1e-6 relative)", i, sum[i], ref_sum[i]))
        if (abs(mn[i] - ref_min[i]) > 1e-9 * abs(ref_min[i]))
          bad(sprintf("column %d: min %.10g, expected %.10g", i, mn[i], ref_min[i]))
        if (abs(mx[i] - ref_max[i]) > 1e-9 * abs(ref_max[i]))
          bad(sprintf("column %d: max %.10g, expected %.10g", i, mx[i], ref_max[i]))
      }
      if (nbad) exit 1
      printf "%s: %d rows x %d columns match %s\n", file, rows, ncols, manifest
    }
  ' "$manifest" "$1"
}

if [ -e "$target" ] && [ "$force" = 0 ]; then
  if validate "$target" 2>/dev/null >/dev/null; then
    echo "$target is already present and valid; nothing to do (use --force to re-install)"
    exit 0
  fi
  echo "$target is present but does not match the manifest:" >&2
  validate "$target" >/dev/null || true
  # Removed now rather than after a successful fetch, so that a failed run never leaves
  # an invalid file where the tests and tools look for the data.
  rm -f -- "$target"
  echo "removed it; fetching a fresh copy" >&2
fi

# The temporary file sits in the target directory so that the final mv is an atomic
# rename: a reader never sees a half-written or unvalidated file.
tmp=$(mktemp "$here/.$NAME.XXXXXX") || die 1 "cannot create a temporary file in $here"
trap 'rm -f -- "$tmp"' EXIT

if [ "$from_given" = 1 ]; then
  src="$from/$NAME"
  [ -f "$src" ] || die 3 "source not found: $src"
  cp -- "$src" "$tmp" || die 3 "cannot copy $src"
  origin=$src
else
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 --connect-timeout 30 -o "$tmp" "$URL" || die 3 "download failed (curl): $URL (offline? install from a local copy: $0 --from DIR)"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=3 --timeout=30 -O "$tmp" "$URL" || die 3 "download failed (wget): $URL (offline? install from a local copy: $0 --from DIR)"
  else
    die 3 "neither curl nor wget is installed (apt-get install curl), or use --from DIR"
  fi
  origin=$URL
fi

if ! validate "$tmp" >/dev/null; then
  die 3 "$origin does not match $manifest (differences above); nothing installed"
fi

chmod 0644 "$tmp"
mv -f -- "$tmp" "$target"
trap - EXIT
echo "installed $target from $origin (content matches the manifest)"
if command -v sha256sum >/dev/null 2>&1; then
  echo "sha256 $(sha256sum -- "$target" | cut -d' ' -f1)"
fi

#!/usr/bin/env bash
# The installed library: `cmake --install` into a temporary prefix, then the example
# program examples/orbit_lyapunov.c built against the *installed* tree twice — with
# pkg-config (chaosgd.pc) and with CMake (find_package(chaosgd)) — and run; its run
# directory must hold the fields its own observer adds to summary.json.
set -u
B="${CGD_BUILD_DIR:?run through ctest}"
S="${CGD_SOURCE_DIR:?run through ctest}"
. "$(dirname "$0")/lib/harness.sh"

cmake --install "$B" --prefix "$W/prefix" >"$W/install.log" 2>&1 && ok || { bad "cmake --install"; cat "$W/install.log"; }
for f in include/chaosgd/run.h include/chaosgd/options.h include/chaosgd/observer.h include/chaosgd/sweep.h bin/train bin/sweep bin/table; do
  [ -e "$W/prefix/$f" ] && ok || bad "not installed: $f"
done
PC=$(dirname "$(find "$W/prefix" -name chaosgd.pc | head -1)")
[ -n "$PC" ] && ok || bad "chaosgd.pc not installed"
LIBDIR=$(dirname "$(find "$W/prefix" -name 'libchaosgd.so.0' | head -1)")
[ -n "$LIBDIR" ] && ok || bad "libchaosgd.so.0 (SOVERSION 0) not installed"
[ -e "$LIBDIR/libchaosgd.a" ] && ok || bad "libchaosgd.a not installed"
# no public header may need jansson
grep -l 'jansson' "$W/prefix/include/chaosgd/"*.h && bad "a public header includes jansson" || ok

# a sanitized build installs a sanitized library: the example must carry the same runtime
SAN=""
grep -q '^CHAOSGD_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null && SAN="-fsanitize=address,undefined"

check_run() { # label outdir
  local sum="$2/summary.json"
  [ -s "$sum" ] && ok || { bad "$1: no summary.json"; return; }
  jq -e '.example_lyapunov.lambda | numbers' "$sum" >/dev/null && ok || bad "$1: observer fields missing in summary.json"
  jq -e '.verdict | strings' "$sum" >/dev/null && ok || bad "$1: no verdict"
}

# pkg-config
if cc -std=c11 -Wall -Werror $SAN "$S/examples/orbit_lyapunov.c" \
     $(PKG_CONFIG_PATH="$PC" pkg-config --cflags --libs chaosgd) -lm -o "$W/ex-pc" 2>"$W/pc.log"; then
  ok
  LD_LIBRARY_PATH="$LIBDIR" "$W/ex-pc" "$W/out-pc" >"$W/pc.out" 2>&1 && ok || { bad "pkg-config example run"; cat "$W/pc.out"; }
  check_run pkg-config "$W/out-pc"
else
  bad "build with pkg-config"; cat "$W/pc.log"
fi

# CMake package
if cmake -S "$S/examples" -B "$W/ex-cmake" -DCMAKE_PREFIX_PATH="$W/prefix" ${SAN:+-DCMAKE_C_FLAGS="$SAN"} >"$W/cm.log" 2>&1 &&
   cmake --build "$W/ex-cmake" >>"$W/cm.log" 2>&1; then
  ok
  LD_LIBRARY_PATH="$LIBDIR" "$W/ex-cmake/orbit_lyapunov" "$W/out-cmake" >"$W/cm.out" 2>&1 && ok || { bad "CMake example run"; cat "$W/cm.out"; }
  check_run cmake "$W/out-cmake"
else
  bad "build with find_package(chaosgd)"; cat "$W/cm.log"
fi
finish install

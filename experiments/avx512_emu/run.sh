#!/usr/bin/env bash
# Runs test_vmath, test_multiscale and test_mlp with the AVX-512 code paths compiled against
# a software emulation of the AVX-512F intrinsics (emu512.h), for CPUs without AVX-512 (the
# real paths are selected only where the CPU has them, so they are otherwise untested
# there). It copies the committed tree to a temporary folder, retargets the three kernel
# files' AVX-512 functions to AVX2 (the emulation is plain C), makes those files and the
# tests treat AVX-512 as present, builds and runs the three suites.
#   usage: experiments/avx512_emu/run.sh [DATA_FILE]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$src/datasets/airfoil_self_noise.dat}
data=$(realpath "$data") # the suites run from a temporary copy of the tree
work=$(mktemp -d /tmp/chaosgd-avx512emu.XXXXXX)
trap 'rm -rf "$work"' EXIT
git -C "$src" archive HEAD | tar -x -C "$work"
cd "$work"
files="src/core/vmath_kernel.h src/core/vmath.c src/objectives/multiscale.c src/objectives/mlp_fused.c"
sed -i 's/target("avx512f")/target("avx2,fma")/g' $files
sed -i 's/cgd_simd_level()/3/' src/core/vmath.c src/objectives/multiscale.c src/objectives/mlp_fused.c
sed -i 's/__builtin_cpu_supports("avx512f")/1/' tests/test_vmath.c tests/test_multiscale.c tests/test_mlp.c
cat >> CMakeLists.txt <<CM
set_source_files_properties(src/core/vmath.c src/objectives/multiscale.c src/objectives/mlp_fused.c
  PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;-include;$src/experiments/avx512_emu/emu512.h")
CM
cmake -S . -B build >/dev/null
cmake --build build -j2 --target test_vmath test_multiscale test_mlp >/dev/null
export CGD_AIRFOIL=$data
rc=0
for t in test_vmath test_multiscale test_mlp; do build/tests/$t || rc=1; done
exit $rc

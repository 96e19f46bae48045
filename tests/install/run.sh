#!/bin/sh
# Install the build into a temporary prefix and use it as a consumer would:
#   - the tree has the binary, libxbar.so with its SONAME, the header,
#     presets, docs, man page, pkg-config and CMake package files, completion;
#   - libxbar.so exports only xbar_* symbols;
#   - a C program built with `pkg-config --cflags --libs xbar` runs LeNet-5 on
#     the MNIST sample through the API and prints the accuracy `xbar run`
#     prints (and the same energy);
#   - the same program builds through find_package(xbar);
#   - the installed xbar finds a preset that only the installed tree has.
# Usage: tests/install/run.sh SOURCE_DIR BUILD_DIR [EXTRA_CFLAGS]  (ctest "install")
set -eu
src=$1 build=$2 extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
fail() { echo "install test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$stage" >/dev/null
ver=$("$build/xbar" --version | awk '{print $2}')
so=${ver%.*}   # SONAME version MAJOR.MINOR while MAJOR is 0
case $ver in 0.*) ;; *) so=${ver%%.*} ;; esac
libdir=$(dirname "$(find "$stage" -name "libxbar.so.$ver" | head -1)")
[ -n "$libdir" ] && [ -d "$libdir" ] || fail "no libxbar.so.$ver installed"
for f in bin/xbar include/xbar.h share/xbar/arch/isaac.json share/xbar/arch/ideal.json \
         share/man/man1/xbar.1 share/doc/xbar/API.md share/doc/xbar/README.md \
         share/bash-completion/completions/xbar share/xbar/python/xbar/__init__.py; do
    [ -e "$stage/$f" ] || fail "$f not installed"
done
for f in libxbar.so "libxbar.so.$so" pkgconfig/xbar.pc cmake/xbar/xbarConfig.cmake \
         cmake/xbar/xbarConfigVersion.cmake cmake/xbar/xbarTargets.cmake; do
    [ -e "$libdir/$f" ] || fail "$libdir/$f not installed"
done
readelf -d "$libdir/libxbar.so" | grep -q "SONAME.*\[libxbar.so.$so\]" || fail "SONAME is not libxbar.so.$so"
others=$(nm -D --defined-only "$libdir/libxbar.so" | awk '$3 !~ /^xbar_/ && $3 != "" {print $3}' | grep -v '^XBAR_\|^_init$\|^_fini$' || true)
[ -z "$others" ] || fail "libxbar.so exports internal symbols: $(echo $others | head -c 300)"
grep -q '^\.TH' "$stage/share/man/man1/xbar.1" || fail "xbar.1 is not a man page"
sh -n "$stage/share/bash-completion/completions/xbar" 2>/dev/null || bash -n "$stage/share/bash-completion/completions/xbar" \
    || fail "completion script does not parse"

# The consumer program, through pkg-config.
model=$src/models/lenet5_mnist.onnx
data=$src/datasets/samples/mnist/t10k-images-idx3-ubyte.gz
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror $extra -o "$tmp/lenet" "$src/tests/install/lenet.c" \
    $(pkg-config --cflags --libs xbar) || fail "cannot build against the installed tree"
LD_LIBRARY_PATH=$libdir "$tmp/lenet" "$model" "$data" isaac > "$tmp/api.txt" 2>"$tmp/api.err" \
    || { cat "$tmp/api.err" "$tmp/api.txt"; fail "the API program failed"; }
"$build/xbar" run "$model" --data "$data" --arch isaac --json "$tmp/cli.json" > "$tmp/cli.txt" 2>/dev/null \
    || fail "xbar run failed"
awk '($1 == "float" || $1 == "int8" || $1 == "analog") && $2 ~ /%$/ { print $1, $2, $3 }' "$tmp/cli.txt" > "$tmp/cli.acc"
grep -E '^(float|int8|analog) ' "$tmp/api.txt" > "$tmp/api.acc"
echo "xbar run:"; cat "$tmp/cli.acc"; echo "C API (installed libxbar.so):"; cat "$tmp/api.acc"
[ -s "$tmp/cli.acc" ] && cmp -s "$tmp/cli.acc" "$tmp/api.acc" || fail "accuracy differs from xbar run"
cli_e=$(grep '"energy_pj_per_inference"' "$tmp/cli.json" | tail -1 | sed 's/.*:[[:space:]]*//; s/,.*//')
api_e=$(awk '$1 == "energy_pj" { print $2 }' "$tmp/api.txt")
awk -v a="$api_e" -v c="$cli_e" 'BEGIN { d = a - c; if (d < 0) d = -d; exit !(c > 0 && d <= 1e-6 * c) }' \
    || fail "energy per inference: API $api_e pJ, xbar run $cli_e pJ"
echo "energy per inference: $api_e pJ (xbar run: $cli_e pJ)"

# The same program through find_package(xbar).
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$stage" \
    -DCMAKE_C_FLAGS="$extra" >/dev/null || fail "find_package(xbar) failed"
cmake --build "$tmp/consumer" >/dev/null || fail "cannot build with find_package(xbar)"
LD_LIBRARY_PATH=$libdir "$tmp/consumer/lenet" "$model" "$data" ideal > "$tmp/cmake.txt" 2>/dev/null \
    || fail "the find_package(xbar) program failed"

# The installed binary reads the installed presets (one only they have).
sed 's/"name": "isaac"/"name": "only-installed"/' "$stage/share/xbar/arch/isaac.json" \
    > "$stage/share/xbar/arch/only-installed.json"
"$stage/bin/xbar" compile "$model" --arch only-installed > "$tmp/compile.txt" 2>&1 \
    || { cat "$tmp/compile.txt"; fail "installed xbar does not find installed presets"; }
grep -q "arch only-installed" "$tmp/compile.txt" || fail "installed preset not used"
echo "install test: ok ($stage)"

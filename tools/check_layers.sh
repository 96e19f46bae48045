#!/bin/sh
# Layering check (docs/ARCHITECTURE.md): each top folder includes only
# folders below it, every project include is root-relative
# (#include "backend/arch.h"), and includes sit at the top of the file.
# Tests (*_test.c, tests/) may include any layer.  Exit 1 on a violation.
# Usage: tools/check_layers.sh   (from anywhere)
cd "$(dirname "$0")/.." || exit 2
# Layers, lowest first; a layer may include itself and the ones before it.
# include/ holds the public header (include/xbar.h): it includes no project
# file, and the layers from api up may include it.
LAYERS="runtime kernels frontend backend eval api cli"
bad=0
allowed=""
for L in $LAYERS; do
    allowed="$allowed $L"
    [ "$L" = api ] && allowed="$allowed include"
    for f in $(find "$L" -name '*.[ch]' ! -name '*_test.c' | sort); do
        # Quoted includes, with their line numbers.
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
            line=${hit%%:*}
            inc=$(printf '%s\n' "$hit" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
            case "$inc" in onnx.pb-c.h) continue ;; esac   # generated, build/gen
            top=${inc%%/*}
            if [ "$top" = "$inc" ] || [ ! -e "$inc" ]; then
                echo "$f:$line: include \"$inc\" is not root-relative"
                continue
            fi
            ok=0
            for a in $allowed; do [ "$a" = "$top" ] && ok=1; done
            [ $ok = 1 ] || echo "$f:$line: layer $L includes \"$inc\" from the layer above it ($top)"
        done
        # Includes only at the top: no #include after the first function body.
        awk -v f="$f" '/^[A-Za-z_].*\)[[:space:]]*\{[[:space:]]*$/ { body = 1 }
             body && /^[[:space:]]*#[[:space:]]*include/ { print f ":" NR ": include below code" }' "$f"
    done
done > /tmp/check_layers.$$
grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' include/*.h 2>/dev/null |
    sed 's|$| (the public header includes no project file)|' >> /tmp/check_layers.$$
# Any other top folder (tests, bench, tools) may use every layer, but the
# include style is the same everywhere.
for f in $(find tests bench -name '*.[ch]' | sort); do
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"\.\./' "$f" | sed "s|^|$f:|;s|\$| (use a root-relative path)|"
done >> /tmp/check_layers.$$
if [ -s /tmp/check_layers.$$ ]; then
    cat /tmp/check_layers.$$
    bad=1
fi
rm -f /tmp/check_layers.$$
[ $bad = 0 ] && echo "layers: ok ($LAYERS)"
exit $bad

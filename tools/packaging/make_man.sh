#!/bin/sh
# Man page xbar.1 from `xbar --help` and every command's --help.
# With help2man (Debian package help2man) it writes the page; without it,
# the same text goes into a plain roff page written here.
# Usage: tools/packaging/make_man.sh PATH/TO/xbar OUT.1 VERSION
set -eu
xbar=$1 out=$2 version=$3
cmds=$("$xbar" --help | awk '/^commands:/ { on = 1; next } on && NF { print $1 }')
inc=$(mktemp) || exit 1
trap 'rm -f "$inc"' EXIT
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
{
    echo "[COMMANDS]"
    for c in $cmds; do
        echo ".SS \"xbar $c\""
        echo ".nf"
        "$xbar" "$c" --help | esc
        echo ".fi"
    done
    echo "[ENVIRONMENT]"
    echo ".TP"
    echo ".B XBAR_DATA"
    echo "folder holding the named datasets (mnist, fashion-mnist, cifar10)"
    echo ".TP"
    echo ".B XBAR_ARCH_DIR"
    echo "folder searched first for architecture presets (NAME.json)"
    echo ".TP"
    echo ".B XBAR_MPI_VERBOSE"
    echo "in a build with MPI (-DXBAR_MPI=ON): ranks other than 0 keep their stderr (by default rank 0 reports for all)"
    echo "[FILES]"
    echo ".TP"
    echo ".I PREFIX/share/xbar/arch/*.json"
    echo "architecture presets (isaac, ideal)"
    echo "[SEE ALSO]"
    echo "The C API: xbar.h and docs/API.md (PREFIX/share/doc/xbar)."
} > "$inc"
name="run quantized ONNX networks on a simulated RRAM crossbar accelerator"
if command -v help2man >/dev/null 2>&1; then
    help2man --locale=C.UTF-8 --no-info --no-discard-stderr --version-string="$version" --name="$name" \
        --section=1 --include="$inc" --output="$out" "$xbar"
else
    {
        echo ".TH XBAR 1 \"\" \"xbar $version\" \"User Commands\""
        echo ".SH NAME"
        echo "xbar \\- $name"
        echo ".SH SYNOPSIS"
        echo ".nf"
        "$xbar" --help | esc
        echo ".fi"
        sed -e 's/^\[\(.*\)\]$/.SH \1/' "$inc"
    } > "$out"
fi

#!/bin/sh
# Build the fake Xen LD_PRELOAD library: tests/fake-xen/build.sh OUTDIR
# Produces OUTDIR/libfakexen.so.  Needs a C compiler (cc) and libdl.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
${CC:-cc} -shared -fPIC -O2 -Wall -Wextra -o "$1/libfakexen.so" "$here/fake_xen.c" -ldl

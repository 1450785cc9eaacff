#!/bin/sh
# Self-test of the fake Xen library: builds libfakexen.so and a small C
# client into a temporary directory and runs the client under LD_PRELOAD.
# If Debian's xencov (xen-utils-4.17) is installed, also checks that
# "xencov read" returns the served dump byte for byte and "xencov reset"
# is logged.  Usage: tests/fake-xen/selftest.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/build.sh" "$work"
${CC:-cc} -O2 -Wall -Wextra -o "$work/selftest" "$here/selftest.c"

# a small gcov container: magic, then (path NUL, u32 size, payload) records
printf 'VOCX' > "$work/x.dump"
for name in a b c; do
    printf '/build/xen/common/%s.gcda\0' "$name" >> "$work/x.dump"
    printf '\030\000\000\000adcgB22*\001\000\000\000\002\000\000\000\003\000\000\000\004\000\000\000' >> "$work/x.dump"
done

LD_PRELOAD="$work/libfakexen.so" FAKE_XEN_EINTR=1 \
    FAKE_XEN_STATE="$work/state.log" "$work/selftest" "$work/x.dump"

xencov=/usr/lib/xen-4.17/bin/xencov
if [ -x "$xencov" ]; then
    rm -f "$work/state.log"
    LD_PRELOAD="$work/libfakexen.so" FAKE_XEN_DUMP="$work/x.dump" \
        FAKE_XEN_STATE="$work/state.log" "$xencov" read "$work/out.bin"
    cmp "$work/x.dump" "$work/out.bin"
    LD_PRELOAD="$work/libfakexen.so" FAKE_XEN_DUMP="$work/x.dump" \
        FAKE_XEN_STATE="$work/state.log" "$xencov" reset
    grep -qx reset "$work/state.log"
    cat "$work/state.log"
    echo "ok   Debian xencov read/reset through the fake"
else
    echo "skip Debian xencov not installed ($xencov)"
fi

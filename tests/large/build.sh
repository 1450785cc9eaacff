#!/usr/bin/env bash
# tests/large/build.sh OUTDIR COMPILER
#
# Builds a large real C tree with coverage and runs a small workload on it, so
# that OUTDIR/build-COMPILER/{sqlite,lua} hold matching .gcno + .gcda files
# that both `lcov --capture -d DIR` and `xencov-rs lcov DIR --gcno-dir DIR` read:
#
#   sqlite  SQLite's amalgamation (sqlite3.c, one 270k-line unit) from the bundled
#           sources of the libsqlite3-sys crate, with that crate's compile-time
#           options, plus sqlite_driver.c running workload.sql (in memory and on
#           a WAL-mode file database)
#   lua     Lua 5.4 (the 33 library units) from the lua-src crate, plus
#           lua_driver.c (a minimal `lua`) running workload.lua
#
# COMPILER is gcc-11 or gcc-12 (any gccN with its gcovN works). The sources come
# from crates.io through cargo (pinned versions below) and are cached in
# OUTDIR/src; the objects are rebuilt only when the compiler, the flags or a
# source changes; the .gcda files are removed and the workload run again on
# every call, so the counters are the same after each run in the same OUTDIR
# (fixed PRNG, hash and sort seeds, ASLR off where setarch allows it). Nothing is written outside OUTDIR except
# cargo's own cache (~/.cargo/registry) and a temporary fetch project.
#
# Example:
#   tests/large/build.sh /tmp/large gcc-12
#   lcov --capture --rc lcov_branch_coverage=1 --gcov-tool gcov-12 \
#        -d /tmp/large/build-gcc-12/sqlite -o sqlite.info
#
# Environment: JOBS (parallel compiles, default: nproc), CARGO (default cargo).
set -euo pipefail

# --- pinned sources ----------------------------------------------------------
SQLITE_CRATE=libsqlite3-sys
SQLITE_CRATE_VERSION=0.40.0          # bundles SQLite 3.54.1 (sqlite3/sqlite3.c)
LUA_CRATE=lua-src
LUA_CRATE_VERSION=551.1.0            # ships lua-5.1.5 .. lua-5.5.1; we use 5.4.9
LUA_SUBDIR=lua-5.4.9

# The compile-time options libsqlite3-sys uses for its "bundled" build (build.rs).
SQLITE_DEFS=(
    -DSQLITE_CORE -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_ENABLE_API_ARMOR
    -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_FTS3
    -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1
    -DSQLITE_ENABLE_LOAD_EXTENSION=1 -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_STAT4
    -DSQLITE_SOUNDEX -DSQLITE_THREADSAFE=1 -DSQLITE_USE_URI -DHAVE_USLEEP=1 -DHAVE_ISNAN
)
# Lua as lua-src builds it on Linux; a fixed string-hash seed and sort pivot
# seed (instead of time, clock and addresses) keep the counters reproducible.
LUA_DEFS=(-DLUA_USE_LINUX -DLUA_COMPAT_5_3 '-Dluai_makeseed(L)=0x5eed1234u' '-Dl_randomizePivot()=0x9e3779b9u')
COV_FLAGS=(--coverage -O0 -w)

usage() { echo "usage: $0 OUTDIR COMPILER   (COMPILER: gcc-11 or gcc-12)" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
cc=$2
command -v "$cc" >/dev/null || { echo "build.sh: compiler $cc not found (Debian package ${cc})" >&2; exit 2; }
case $cc in
    gcc-*) gcov=gcov-${cc#gcc-} ;;
    gcc) gcov=gcov ;;
    *) echo "build.sh: COMPILER must be a gcc (gcc-11, gcc-12, ...): $cc" >&2; exit 2 ;;
esac
jobs=${JOBS:-$(nproc)}
cargo=${CARGO:-cargo}
t0=$SECONDS
say() { printf '== %s\n' "$*"; }

# --- 1. sources from crates.io, cached in OUTDIR/src -----------------------
src=$outdir/src
fetch_stamp="$SQLITE_CRATE=$SQLITE_CRATE_VERSION $LUA_CRATE=$LUA_CRATE_VERSION"
sqlite_src=$src/$SQLITE_CRATE-$SQLITE_CRATE_VERSION/sqlite3
lua_src=$src/$LUA_CRATE-$LUA_CRATE_VERSION/$LUA_SUBDIR

if [[ -f $src/.fetched && $(cat "$src/.fetched") == "$fetch_stamp" && -f $sqlite_src/sqlite3.c && -f $lua_src/lua.h ]]; then
    say "sources: cached in $src"
else
    say "sources: fetching $fetch_stamp with cargo"
    command -v "$cargo" >/dev/null || { echo "build.sh: cargo is needed to fetch the sources" >&2; exit 2; }
    fetch=$(mktemp -d /tmp/xencov-large-fetch.XXXXXX)
    trap 'rm -rf "$fetch"' EXIT
    mkdir -p "$fetch/src"
    : >"$fetch/src/lib.rs"
    cat >"$fetch/Cargo.toml" <<EOF
[package]
name = "xencov-large-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$SQLITE_CRATE = { version = "=$SQLITE_CRATE_VERSION", default-features = false, features = ["bundled"] }
$LUA_CRATE = "=$LUA_CRATE_VERSION"

[workspace]
EOF
    host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
    target_args=()
    [[ -n $host ]] && target_args=(--target "$host")
    # cargo fetch downloads the .crate archives into its cache (offline if they
    # are there already and the registry cannot be reached).
    "$cargo" fetch -q --manifest-path "$fetch/Cargo.toml" "${target_args[@]}" \
        || "$cargo" fetch -q --offline --manifest-path "$fetch/Cargo.toml" "${target_args[@]}"
    cargo_home=${CARGO_HOME:-$HOME/.cargo}
    rm -rf "$src.new"
    mkdir -p "$src.new"
    for pair in "$SQLITE_CRATE $SQLITE_CRATE_VERSION" "$LUA_CRATE $LUA_CRATE_VERSION"; do
        read -r name version <<<"$pair"
        crate=$(find "$cargo_home/registry/cache" -name "$name-$version.crate" -print -quit)
        [[ -n $crate ]] || { echo "build.sh: $name-$version.crate not in $cargo_home/registry/cache after cargo fetch" >&2; exit 1; }
        # check the archive against the checksum cargo resolved it with
        want=$(awk -v n="$name" -v v="$version" '$1=="name" && $3=="\""n"\"" {hit=1; next}
              hit && $1=="version" {hit = ($3=="\""v"\""); next}
              hit && $1=="checksum" {gsub(/"/, "", $3); print $3; exit}' "$fetch/Cargo.lock")
        got=$(sha256sum "$crate" | cut -d' ' -f1)
        [[ -z $want || $want == "$got" ]] || { echo "build.sh: checksum mismatch for $crate" >&2; exit 1; }
        tar -xzf "$crate" -C "$src.new"
        echo "$name-$version sha256 $got" >>"$src.new/.crates"
    done
    rm -rf "$src"
    mv "$src.new" "$src"
    echo "$fetch_stamp" >"$src/.fetched"
    rm -rf "$fetch"
    trap - EXIT
    [[ -f $sqlite_src/sqlite3.c && -f $lua_src/lua.h ]] || { echo "build.sh: unexpected crate layout under $src" >&2; exit 1; }
fi
# Our drivers and workloads, copied so OUTDIR stands on its own (the copy keeps
# its timestamp when unchanged).
mkdir -p "$src/drivers"
for f in sqlite_driver.c workload.sql lua_driver.c workload.lua; do
    cmp -s "$here/$f" "$src/drivers/$f" || cp "$here/$f" "$src/drivers/$f"
done

# --- 2. compile with coverage ----------------------------------------------
build=$outdir/build-$cc
sq=$build/sqlite
lu=$build/lua
mapfile -t lua_units < <(cd "$lua_src" && ls -- *.c | sort)

build_stamp=$(
    "$cc" --version | head -1
    echo "cov: ${COV_FLAGS[*]}"
    echo "sqlite: ${SQLITE_DEFS[*]}"
    echo "lua: ${LUA_DEFS[*]}"
    cat "$src/.fetched"
    sha256sum "$src/drivers/sqlite_driver.c" "$src/drivers/lua_driver.c"
)
if [[ -f $build/.built && $(cat "$build/.built") == "$build_stamp" && -x $sq/sqlite_driver && -x $lu/lua_driver ]]; then
    say "build: up to date in $build"
else
    say "build: compiling with $cc ${COV_FLAGS[*]} ($jobs jobs)"
    rm -rf "$sq" "$lu" "$build/.built"
    mkdir -p "$sq" "$lu"
    # One background job per unit, at most $jobs at a time; the object (and so
    # the .gcno, and later the .gcda) goes to DIR/BASENAME.o. sqlite3.c, by far
    # the longest, goes first.
    compile() {
        local dir=$1 srcf=$2
        shift 2
        (cd "$dir" && "$cc" "${COV_FLAGS[@]}" "$@" -c "$srcf" -o "$dir/$(basename "$srcf" .c).o") \
            || { echo "build.sh: compiling $srcf failed" >&2; touch "$build/.failed"; }
    }
    spawn() {
        while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
        compile "$@" &
    }
    rm -f "$build/.failed"
    tc=$SECONDS
    spawn "$sq" "$sqlite_src/sqlite3.c" "${SQLITE_DEFS[@]}" -I"$sqlite_src"
    spawn "$sq" "$src/drivers/sqlite_driver.c" -I"$sqlite_src"
    for u in "${lua_units[@]}"; do
        spawn "$lu" "$lua_src/$u" "${LUA_DEFS[@]}" -I"$lua_src"
    done
    spawn "$lu" "$src/drivers/lua_driver.c" "${LUA_DEFS[@]}" -I"$lua_src"
    wait
    [[ ! -e $build/.failed ]] || { rm -f "$build/.failed"; exit 1; }
    say "build: compiled in $((SECONDS - tc)) s"
    "$cc" --coverage -o "$sq/sqlite_driver" "$sq/sqlite3.o" "$sq/sqlite_driver.o" -lpthread -ldl -lm
    "$cc" --coverage -o "$lu/lua_driver" "$lu"/*.o -ldl -lm
    echo "$build_stamp" >"$build/.built"
fi

# --- 3. run the workloads ----------------------------------------------------
# Fresh counters every time, so a second call leaves the same .gcda files.
find "$build" -name '*.gcda' -delete
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norandom=(setarch "$(uname -m)" -R); fi
tr0=$SECONDS
(cd "$sq" && timeout 120 "${norandom[@]}" ./sqlite_driver ../../src/drivers/workload.sql ":memory:" work.db >"$sq/run.log" 2>&1) \
    || { echo "build.sh: the SQLite workload failed; see $sq/run.log" >&2; tail -20 "$sq/run.log" >&2; exit 1; }
rm -f "$sq"/work.db*
tr1=$SECONDS
# Relative paths keep OUTDIR's name out of the workloads' strings (chunk name,
# error messages), but the counters still depend a little on where OUTDIR is
# (the .gcda paths compiled into the programs and SQLite's full database path
# change the heap layout, and so e.g. SQLite's lookaside hits): runs in the
# same OUTDIR give identical .gcda files, runs in different OUTDIRs may not.
(cd "$lu" && timeout 120 "${norandom[@]}" ./lua_driver ../../src/drivers/workload.lua >"$lu/run.log" 2>&1) \
    || { echo "build.sh: the Lua workload failed; see $lu/run.log" >&2; tail -20 "$lu/run.log" >&2; exit 1; }
tr2=$SECONDS
say "run: sqlite workload $((tr1 - tr0)) s ($(grep -c '^error: ' "$sq/run.log") statements failed on purpose), lua workload $((tr2 - tr1)) s ($(tail -1 "$lu/run.log"))"

# --- where things are ----------------------------------------------------------
summary() {
    local dir=$1 name=$2
    local ngcno ngcda
    ngcno=$(find "$dir" -maxdepth 1 -name '*.gcno' | wc -l)
    ngcda=$(find "$dir" -maxdepth 1 -name '*.gcda' | wc -l)
    printf '%-7s %s\n        %d .gcno (%s), %d .gcda (%s)\n' "$name" "$dir" \
        "$ngcno" "$(du -ch "$dir"/*.gcno | tail -1 | cut -f1)" \
        "$ngcda" "$(du -ch "$dir"/*.gcda | tail -1 | cut -f1)"
}
say "done in $((SECONDS - t0)) s; .gcno and .gcda side by side, one pair per unit:"
summary "$sq" sqlite
summary "$lu" lua
cat <<EOF
report with, for example:
  lcov --capture --rc lcov_branch_coverage=1 --gcov-tool $gcov -d $sq -o sqlite.info
  lcov --capture --rc lcov_branch_coverage=1 --gcov-tool $gcov -d $lu -o lua.info
EOF

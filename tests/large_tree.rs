//! The oracle on a large real tree: SQLite's amalgamation (one 270,000-line
//! unit) and Lua 5.4 (33 units), built with gcc-11 and gcc-12 by
//! tests/large/build.sh and run on a small workload. Our tracefile must
//! equal `lcov --capture --rc lcov_branch_coverage=1 --gcov-tool gcov-N`
//! (combined per source file by `lcov -a`), record by record (per `SF`).

mod common;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use common::run;

/// The trees built by `compiler` (see tests/large/build.sh), under the
/// target directory, so that a second `cargo test` reuses the build. Built
/// once per test process: build.sh deletes the .gcda files and runs the
/// workload again on every call, which would pull them from under a test
/// of the same compiler reading them in another thread.
fn build(compiler: &str) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("large");
    // The builds share the fetched sources in `out`: one at a time.
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|c| c == compiler) {
        run(Command::new("bash")
            .arg(common::root().join("tests/large/build.sh"))
            .arg(&out)
            .arg(compiler));
        built.push(compiler.to_string());
    }
    out
}

fn check(compiler: &str, gcov: &str) {
    let out = build(compiler);
    for tree in ["sqlite", "lua"] {
        let dir = out.join(format!("build-{compiler}/{tree}"));
        let work = out.join(format!("check-{compiler}-{tree}"));
        std::fs::create_dir_all(&work).unwrap();
        let ours = work.join("ours.info");
        let theirs = common::lcov_capture(&dir, gcov, &work);
        run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
            .arg("lcov")
            .arg(&dir)
            .arg("--gcno-dir")
            .arg(&dir)
            .arg("-o")
            .arg(&ours));
        let ours = common::tracefile_by_file(&ours);
        let da = theirs.iter().filter(|l| l.contains(": DA:")).count();
        assert!(
            da > if tree == "sqlite" { 50_000 } else { 8_000 },
            "{compiler} {tree}: {da} lines"
        );
        if ours != theirs {
            let only_ours: Vec<_> = ours
                .iter()
                .filter(|l| !theirs.contains(l))
                .take(10)
                .collect();
            let only_theirs: Vec<_> = theirs
                .iter()
                .filter(|l| !ours.contains(l))
                .take(10)
                .collect();
            panic!(
                "{compiler} {tree}: tracefiles differ\nours only: {only_ours:?}\nlcov only: {only_theirs:?}"
            );
        }
    }
}

#[test]
fn sqlite_and_lua_built_by_gcc_11_agree_with_lcov() {
    check("gcc-11", "gcov-11");
}

#[test]
fn sqlite_and_lua_built_by_gcc_12_agree_with_lcov() {
    check("gcc-12", "gcov-12");
}

/// SQLite's unit (8.5 MB of notes) has its sources scanned for markers on
/// a thread of its own while it is counted (crates/cli/src/lcov.rs,
/// SCAN_BESIDE). A region marked in a copy of sqlite3.c (found through
/// --source-root) takes exactly its lines and branches out of the
/// tracefile: the `_START` line and those after it, up to the `_STOP`
/// line, which stays; every other record is unchanged.
#[test]
fn a_region_marked_in_sqlite_s_source_is_taken_out() {
    let dir = build("gcc-12").join("build-gcc-12/sqlite");
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("large-markers");
    let root = work.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let lcov = |extra: &[&std::ffi::OsStr], out: &str| {
        let out = work.join(out);
        run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
            .arg("lcov")
            .arg(&dir)
            .arg("--gcno-dir")
            .arg(&dir)
            .args(extra)
            .arg("-o")
            .arg(&out));
        common::tracefile_by_file(&out)
    };
    let plain = lcov(&[], "plain.info");
    let sf = plain
        .iter()
        .find_map(|l| l.split(": ").next().filter(|f| f.ends_with("/sqlite3.c")))
        .expect("a record of sqlite3.c")
        .to_string();
    // The line number of an `SF: DA:n,...` or `SF: BRDA:n,...` entry.
    let line_of = |entry: &str, tag: &str| -> Option<u32> {
        let rest = entry.strip_prefix(&format!("{sf}: {tag}:"))?;
        rest.split(',').next()?.parse().ok()
    };
    let mut da: Vec<u32> = plain.iter().filter_map(|l| line_of(l, "DA")).collect();
    da.sort_unstable();
    assert!(da.len() > 50_000, "{} lines", da.len());
    let (start, stop) = (da[20_000], da[21_000]);
    let text = std::fs::read(&sf).unwrap();
    let mut marked = Vec::new();
    for (i, l) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            marked.push(b'\n');
        }
        marked.extend_from_slice(l);
        let n = i as u32 + 1;
        if n == start {
            marked.extend_from_slice(b" /* LCOV_EXCL_START */");
        } else if n == stop {
            marked.extend_from_slice(b" /* LCOV_EXCL_STOP */");
        }
    }
    std::fs::write(root.join("sqlite3.c"), marked).unwrap();
    let with = lcov(
        &[OsStr::new("--source-root"), root.as_os_str()],
        "marked.info",
    );
    let inside = |l: &String| {
        ["DA", "BRDA"]
            .iter()
            .any(|t| line_of(l, t).is_some_and(|n| (start..stop).contains(&n)))
    };
    let gone: Vec<&String> = plain.iter().filter(|l| inside(l)).collect();
    assert!(gone.len() >= 1_000, "{} entries in the region", gone.len());
    assert!(!with.iter().any(inside), "entries of the region are left");
    // Outside the region: the same DA and BRDA entries, and every other
    // file's record as it was.
    let kept = |t: &Vec<String>| -> Vec<String> {
        t.iter()
            .filter(|l| {
                !inside(l)
                    && (!l.starts_with(&format!("{sf}: "))
                        || ["DA", "BRDA"].iter().any(|t| line_of(l, t).is_some()))
            })
            .cloned()
            .collect()
    };
    assert_eq!(kept(&with), kept(&plain));
}

/// The notes of SQLite and Lua, by gcc-11 and gcc-12, decode the same fed
/// to `gcno::Decoder` in pieces (as `lcov` reads them, through a small
/// buffer) as whole: cut at 101 places spread over each file, so that a
/// piece ends inside records of every kind.
#[test]
fn the_large_trees_decode_in_pieces_as_whole() {
    let mut checked = 0;
    for compiler in ["gcc-11", "gcc-12"] {
        let trees = build(compiler).join(format!("build-{compiler}"));
        for path in common::files_with_suffix(&trees, ".gcno") {
            let data = std::fs::read(&path).unwrap();
            let len = data.len();
            let cuts = (0..=100).map(|i| (len * i / 100 + i % 7).min(len));
            let what = path.display().to_string();
            common::gcno_same_in_pieces(&data, cuts, &what)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            checked += 1;
        }
    }
    assert!(checked >= 2 * 35, "{checked} notes files");
}

//! The oracle on a large real tree: SQLite's amalgamation (one 270,000-line
//! unit) and Lua 5.4 (33 units), built with gcc-11 and gcc-12 by
//! tests/large/build.sh and run on a small workload. Our tracefile must
//! equal `lcov --capture --rc lcov_branch_coverage=1 --gcov-tool gcov-N`
//! (combined per source file by `lcov -a`), record by record (per `SF`).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::run;

fn check(compiler: &str, gcov: &str) {
    // Under the target directory, so that a second `cargo test` reuses the build.
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("large");
    {
        // The two builds share the fetched sources in `out`: one at a time.
        static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        run(Command::new("bash")
            .arg(common::root().join("tests/large/build.sh"))
            .arg(&out)
            .arg(compiler));
    }
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

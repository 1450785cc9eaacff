//! Helpers shared by the integration tests: where the real data lives.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus of public gcda/gcno files, beside the project root.
pub fn corpus() -> PathBuf {
    let dir = root().join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests need ../shared beside the project",
        dir.display()
    );
    dir
}

/// Whether a missing corpus must fail the tests (CI sets it in `.ci/run`).
pub fn corpus_required() -> bool {
    std::env::var_os("XENCOV_REQUIRE_CORPUS").is_some_and(|v| v == "1")
}

/// The shared corpus, or `None` when `../shared/corpus` is missing: a fresh
/// clone without it still passes `cargo test`, and `test` says on stderr
/// that it did NOT RUN. With `XENCOV_REQUIRE_CORPUS=1` a missing corpus
/// fails the test instead.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !corpus_required(),
        "{}: {} is missing and XENCOV_REQUIRE_CORPUS=1",
        test,
        dir.display()
    );
    not_run(&format!(
        "{test}: {} is missing (the shared corpus beside the project); \
         set XENCOV_REQUIRE_CORPUS=1 to make this a failure",
        dir.display()
    ));
    None
}

/// Says on the terminal that (part of) a test did not run. Written to the
/// stderr handle itself, which the test harness does not capture, so the
/// line shows in a plain `cargo test` even though the test passes.
pub fn not_run(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOT RUN: {why}");
}

pub fn samples() -> PathBuf {
    root().join("samples")
}

/// Every file below `dir` whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct Tmp(pub PathBuf);

impl Tmp {
    /// `xencov-<name>-<pid>`, emptied first.
    pub fn new(name: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("xencov-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }

    pub fn p(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tracefile as a sorted list of `SF-path: line` entries: every line of
/// a record (TN, FN, FNDA, BRDA, DA, the totals) carries the source file of
/// its `SF` record, so two tracefiles are equal only when each source file's
/// record holds the same lines, whatever their order, and a line that
/// moved to another file's record is a difference. A line outside any
/// record (or a record without `end_of_record`) fails the comparison.
pub fn tracefile_by_file(p: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut out = Vec::new();
    let mut tn: Option<&str> = None;
    let mut sf: Option<&str> = None;
    for line in text.lines() {
        if line.starts_with("TN:") {
            assert!(sf.is_none(), "{}: TN inside a record", p.display());
            tn = Some(line);
        } else if let Some(file) = line.strip_prefix("SF:") {
            assert!(sf.is_none(), "{}: SF inside a record", p.display());
            sf = Some(file);
            out.push(format!("{file}: {}", tn.unwrap_or("TN:")));
        } else if line == "end_of_record" {
            let file = sf
                .take()
                .unwrap_or_else(|| panic!("{}: stray end", p.display()));
            out.push(format!("{file}: end_of_record"));
        } else {
            let file = sf.unwrap_or_else(|| panic!("{}: {line} outside a record", p.display()));
            out.push(format!("{file}: {line}"));
        }
    }
    assert!(
        sf.is_none(),
        "{}: a record without end_of_record",
        p.display()
    );
    out.sort();
    out
}

/// The lines of a text file, sorted.
pub fn sorted_lines(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// Runs a command that must succeed.
pub fn run(cmd: &mut std::process::Command) -> std::process::Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// lcov's own tracefile of `dir` with `gcov` (branch coverage on), combined
/// per source file by `lcov -a`, as [`tracefile_by_file`] gives it; `work`
/// holds the intermediate files.
pub fn lcov_capture(dir: &Path, gcov: &str, work: &Path) -> Vec<String> {
    use std::process::Command;
    let (cap, comb) = (work.join("capture.info"), work.join("combined.info"));
    run(Command::new("lcov")
        .args([
            "--capture",
            "--quiet",
            "--rc",
            "lcov_branch_coverage=1",
            "--gcov-tool",
            gcov,
            "-d",
        ])
        .arg(dir)
        .arg("-o")
        .arg(&cap));
    run(Command::new("lcov")
        .args(["--quiet", "--rc", "lcov_branch_coverage=1", "-a"])
        .arg(&cap)
        .arg("-o")
        .arg(&comb));
    tracefile_by_file(&comb)
}

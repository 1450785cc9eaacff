//! `xencov-rs diff` against the real `diff-cover` 11.0.1 (PyPI, installed by
//! scripts/setup) reading gcovr 8.8's Cobertura of the same data: the same
//! files, the same covered and uncovered changed lines, the same total, and
//! the same pass/fail of `--fail-under`.
//!
//! The change: the sample's sources against a version with some lines
//! removed, diffed by `git diff --no-index --no-prefix old new` so that the
//! `+++` paths are `new/FILE`… with `new` named `b`, i.e. git's own `b/FILE`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Tmp, run};

fn tool(venv: &str, bin: &str, env: &str) -> PathBuf {
    let p = match std::env::var_os(env) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME"))
            .join(format!(".cache/xencov-rs/{venv}/bin/{bin}")),
    };
    assert!(p.is_file(), "{} is missing: run scripts/setup", p.display());
    p
}

/// Per file: covered changed lines (count), uncovered changed lines.
type Figures = BTreeMap<String, (usize, Vec<u32>)>;

/// A diff of the calc sources against an older copy (every `drop_every`th
/// line missing, every 5th different), written in `t`; and the scratch build
/// directory (a git repository: diff-cover asks git for its top) with data
/// and sources.
fn setup(t: &Tmp, drop_every: usize) -> (PathBuf, PathBuf) {
    let src = common::samples().join("src/calc");
    let (a, b, build) = (t.p("a"), t.p("b"), t.p("build"));
    for d in [&a, &b, &build] {
        std::fs::create_dir_all(d).unwrap();
    }
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(b.join(name), &text).unwrap();
        let old: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| (i + 1) % drop_every != 0)
            // Every 5th line changed: the diff removes lines as well.
            .map(|(i, l)| match (i + 1) % 5 {
                0 => "/* an older line */\n".to_string(),
                _ => format!("{l}\n"),
            })
            .collect();
        std::fs::write(a.join(name), old).unwrap();
        std::fs::copy(&f, build.join(name)).unwrap();
    }
    let data = common::samples().join("gcc-12/calc/run2");
    for f in std::fs::read_dir(&data).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, build.join(f.file_name().unwrap())).unwrap();
    }
    // git diff --no-index exits 1 when the trees differ.
    let o = Command::new("git")
        .current_dir(t.p(""))
        .args(["diff", "--no-index", "--no-prefix", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let patch = t.p("change.patch");
    std::fs::write(&patch, &o.stdout).unwrap();
    run(Command::new("git")
        .current_dir(&build)
        .args(["init", "-q", "."]));
    (patch, build)
}

fn theirs(t: &Tmp, patch: &Path, build: &Path) -> (Figures, usize, usize) {
    let xml = t.p("gcovr.xml");
    run(Command::new(tool("gcovr-8.8", "gcovr", "XENCOV_GCOVR"))
        .current_dir(build)
        .args(["--gcov-executable", "gcov-12", "-r", ".", "--cobertura"])
        .arg(&xml)
        .arg("."));
    let json = t.p("dc.json");
    run(
        Command::new(tool("diff-cover-11.0.1", "diff-cover", "XENCOV_DIFF_COVER"))
            .current_dir(build)
            .arg(&xml)
            .arg("--diff-file")
            .arg(patch)
            .arg("--format")
            .arg(format!("json:{}", json.display())),
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let files = v["src_stats"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(f, s)| {
            let covered = s["covered_lines"].as_array().unwrap().len();
            let mut viol: Vec<u32> = s["violation_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_u64().unwrap() as u32)
                .collect();
            viol.sort();
            (f.clone(), (covered, viol))
        })
        .collect();
    let n = |k: &str| v[k].as_u64().unwrap() as usize;
    (files, n("total_num_lines"), n("total_num_violations"))
}

fn ours() -> Command {
    let data = common::samples().join("gcc-12/calc/run2");
    let mut c = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
    c.arg("diff")
        .arg(&data)
        .args(["--root", "/tmp/xencov-samples-build/gcc-12/calc"]);
    c
}

/// Our table back into figures: `file pct hit/found ranges`.
fn parse_ours(out: &str) -> (Figures, usize, usize) {
    let mut files = Figures::new();
    let mut total = (0, 0);
    for line in out.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 3 || !cols[2].contains('/') {
            continue;
        }
        let (hit, found) = cols[2].split_once('/').unwrap();
        let (hit, found): (usize, usize) = (hit.parse().unwrap(), found.parse().unwrap());
        if cols[0] == "total" {
            total = (found, found - hit);
            continue;
        }
        let mut unc = Vec::new();
        for r in cols[3..].join("").split(',').filter(|r| !r.is_empty()) {
            match r.split_once('-') {
                Some((a, b)) => unc.extend(a.parse::<u32>().unwrap()..=b.parse().unwrap()),
                None => unc.push(r.parse().unwrap()),
            }
        }
        assert_eq!(unc.len(), found - hit, "{line}");
        files.insert(cols[0].to_string(), (hit, unc));
    }
    (files, total.0, total.1)
}

#[test]
fn diff_coverage_equals_diff_cover() {
    for drop_every in [3, 4, 7] {
        let t = Tmp::new(&format!("diffcov-{drop_every}"));
        let (patch, build) = setup(&t, drop_every);
        let (tf, tn, tv) = theirs(&t, &patch, &build);
        let o = run(ours().arg("--diff").arg(&patch));
        let text = String::from_utf8_lossy(&o.stdout);
        let (of, on, ov) = parse_ours(&text);
        assert_eq!(of, tf, "every {drop_every}th line:\n{text}");
        assert_eq!((on, ov), (tn, tv), "every {drop_every}th line:\n{text}");
        // Nothing trivial: some changed lines ran, some did not.
        assert!(tn > 10 && tv > 0 && tv < tn, "{tn} {tv}");
    }
}

/// `-` reads the diff from standard input; --fail-under fails (status 3)
/// where diff-cover's fails (status 1), after printing the table.
#[test]
fn fail_under_and_standard_input() {
    let t = Tmp::new("diffcov-fail");
    let (patch, build) = setup(&t, 3);
    let (_, n, v) = theirs(&t, &patch, &build);
    let pct = 100.0 * (n - v) as f64 / n as f64;
    let xml = t.p("gcovr.xml");
    for (wanted, fails) in [(pct.floor() - 1.0, false), (pct.ceil() + 1.0, true)] {
        let w = format!("{wanted}");
        let dc = Command::new(tool("diff-cover-11.0.1", "diff-cover", "XENCOV_DIFF_COVER"))
            .current_dir(&build)
            .arg(&xml)
            .arg("--diff-file")
            .arg(&patch)
            .args(["--fail-under", &w])
            .output()
            .unwrap();
        assert_eq!(!dc.status.success(), fails, "diff-cover {w}: {dc:?}");
        let mut c = ours();
        c.args(["--diff", "-", "--fail-under", &w])
            .stdin(std::fs::File::open(&patch).unwrap());
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(if fails { 3 } else { 0 }),
            "{w}: {err}"
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains("total"));
        assert_eq!(
            err.contains("FAILED: changed-line coverage"),
            fails,
            "{err}"
        );
    }
    // A broken diff is an error naming the line.
    std::fs::write(t.p("bad.patch"), "+++ b/x.c\n@@ -1 +one @@\n").unwrap();
    let o = ours().arg("--diff").arg(t.p("bad.patch")).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2: not a hunk header"));
}

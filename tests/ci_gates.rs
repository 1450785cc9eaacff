//! The CI options of `lcov` and `report` against the tools they imitate:
//! `--fail-under-*` against gcovr 8.8's (the same pass/fail at its own
//! percentages and a tenth above them), `--root/--include/--exclude`
//! against gcovr's `-r/--filter/--exclude` (the same files with the same
//! figures) and against lcov's `--extract/--remove` on our unfiltered
//! tracefile (the same tracefile).
//!
//! gcovr reads the sources, so it runs in a scratch build directory with
//! the data files and the sources of `samples/src` (as in
//! tests/cobertura_gcovr.rs); ours reads the same data with the root set to
//! the directory the samples were built in, so relative paths agree.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Tmp, run};

fn ours() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
}

/// A sample set: its data directory, the gcov that reads it, the directory
/// it was built in, the sources.
struct Set {
    data: PathBuf,
    gcov: &'static str,
    built_in: String,
    src: &'static str,
}

fn set(rel: &str, run_dir: &str, gcov: &'static str, src: &'static str) -> Set {
    Set {
        data: common::samples().join(rel).join(run_dir),
        gcov,
        built_in: format!("/tmp/xencov-samples-build/{rel}"),
        src,
    }
}

/// A scratch directory with the data and the sources, for gcovr.
fn scratch(t: &Tmp, s: &Set) -> PathBuf {
    let build = t.p("build");
    std::fs::create_dir_all(&build).unwrap();
    for dir in [&s.data, &common::samples().join("src").join(s.src)] {
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, build.join(f.file_name().unwrap())).unwrap();
        }
    }
    build
}

/// gcovr's summary with `args`: per file (as gcovr names it) lines hit and
/// found, branches hit and found; and the totals' percentages.
type Files = BTreeMap<String, [u64; 4]>;

fn gcovr_summary(build: &Path, s: &Set, args: &[&str]) -> (Files, BTreeMap<String, f64>) {
    let json = build.join("../summary.json");
    run(Command::new(common::gcovr())
        .current_dir(build)
        .args(["--gcov-executable", s.gcov, "-r"])
        .arg(build)
        .args(args)
        .arg("--json-summary")
        .arg(&json)
        .arg(build));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let files = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let n = |k: &str| f[k].as_u64().unwrap();
            (
                f["filename"].as_str().unwrap().to_string(),
                [
                    n("line_covered"),
                    n("line_total"),
                    n("branch_covered"),
                    n("branch_total"),
                ],
            )
        })
        .collect();
    let percents = ["line_percent", "branch_percent", "function_percent"]
        .iter()
        .map(|k| (k.to_string(), v[*k].as_f64().unwrap_or(100.0)))
        .collect();
    (files, percents)
}

/// Our tracefile with `args`, per file relative to the set's build
/// directory (outside it: absolute), as gcovr's summary gives it.
fn our_files(s: &Set, args: &[&str], out: &Path) -> Files {
    run(ours()
        .arg("lcov")
        .arg(&s.data)
        .arg("--gcno-dir")
        .arg(&s.data)
        .args(args)
        .arg("-o")
        .arg(out));
    common::tracefile_counts(out)
        .into_iter()
        .map(|(name, c)| {
            let rel = name
                .strip_prefix(&format!("{}/", s.built_in))
                .map(String::from)
                .unwrap_or(name);
            let hit = |v: &mut dyn Iterator<Item = &String>| {
                v.filter(|c| *c != "0" && *c != "-").count() as u64
            };
            let branches: Vec<&String> = c.branches.values().flatten().collect();
            (
                rel,
                [
                    hit(&mut c.lines.values()),
                    c.lines.len() as u64,
                    hit(&mut branches.iter().copied()),
                    branches.len() as u64,
                ],
            )
        })
        .collect()
}

/// The same files with the same figures as gcovr, for each selection; each
/// selection leaves out something and keeps something.
#[test]
fn filters_select_what_gcovr_selects() {
    let s = set("gcc-12-pg/vp", "run2", "gcov-12", "vp");
    let t = Tmp::new("ci-filters");
    let build = scratch(&t, &s);
    let root = s.built_in.clone();
    let abs_g = format!("{}/(a|m)", build.display());
    let abs_o = format!("{root}/(a|m)");
    let cases: &[(&[&str], &[&str])] = &[
        // The root alone: /usr/include/stdlib.h (an inline function at -O2) goes.
        (&[], &[]),
        // Relative, anchored at the start only: `a` keeps arith.c only.
        (&["--filter", "a"], &["--include", "a"]),
        (
            &["--filter", "main", "--filter", "sh"],
            &["--include", "main", "--include", "sh"],
        ),
        // A full match with `$`; and an exclusion after the root's selection.
        (&["--exclude", r"ma.*\.c$"], &["--exclude", r"ma.*\.c$"]),
        (
            &["--exclude", "buf", "--exclude", "ari"],
            &["--exclude", "buf", "--exclude", "ari"],
        ),
        // Absolute patterns (gcovr's root is the scratch directory, ours
        // the directory the samples were built in). Patterns that reach
        // outside the root are compared with lcov --extract below: gcovr
        // 8.8 cannot place this sample's /usr/include/stdlib.h ("could not
        // infer a working directory").
        (&["--filter", &abs_g], &["--include", &abs_o]),
        (&["--exclude", &abs_g], &["--exclude", &abs_o]),
    ];
    let mut all = None;
    for (i, (theirs, mine)) in cases.iter().enumerate() {
        let (g, _) = gcovr_summary(&build, &s, theirs);
        let mut args = vec!["--root", root.as_str()];
        args.extend_from_slice(mine);
        let o = our_files(&s, &args, &t.p(&format!("ours{i}.info")));
        assert_eq!(o, g, "{theirs:?}");
        // Nothing trivial: a selection keeps something, and not everything.
        let everything = all.get_or_insert_with(|| our_files(&s, &[], &t.p("all.info")));
        assert!(
            !o.is_empty() && o.len() < everything.len(),
            "{theirs:?}: {o:?}"
        );
    }
}

/// Relative patterns without a root are relative to the working directory,
/// as gcovr's (whose root defaults to it).
#[test]
fn relative_patterns_without_root_follow_the_working_directory() {
    let s = set("gcc-12/calc", "run2", "gcov-12", "calc");
    let t = Tmp::new("ci-cwd");
    let o = t.p("o.info");
    let mut cmd = ours();
    cmd.current_dir("/tmp/")
        .arg("lcov")
        .arg(&s.data)
        .arg("--gcno-dir")
        .arg(&s.data);
    cmd.args([
        "--include",
        "xencov-samples-build/gcc-12/calc/(ops|parse)",
        "-o",
    ])
    .arg(&o);
    run(&mut cmd);
    let files: Vec<String> = common::tracefile_counts(&o).into_keys().collect();
    assert_eq!(
        files,
        ["ops.c", "parse.c"].map(|f| format!("{}/{f}", s.built_in)),
    );
}

/// lcov's --remove/--extract (shell patterns) on our whole tracefile give
/// our --exclude/--include/--root tracefile.
#[test]
fn filters_equal_lcov_extract_and_remove() {
    let s = set("gcc-12-pg/vp", "run2", "gcov-12", "vp");
    let t = Tmp::new("ci-lcov");
    let all = t.p("all.info");
    our_files(&s, &[], &all);
    let root = s.built_in.clone();
    let root_s = format!("{root}/s");
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        // lcov --no-external is --remove of what is outside the base directory.
        (
            vec!["--remove".into(), "/usr/*".into()],
            vec!["--root", &root],
        ),
        (
            vec!["--extract".into(), "*/arith.c".into(), "*/main.c".into()],
            vec!["--include", r".*/arith\.c$", "--include", r".*/main\.c$"],
        ),
        (
            vec!["--remove".into(), format!("{root}/s*")],
            vec!["--exclude", &root_s],
        ),
        // An absolute pattern reaching outside the root.
        (
            vec!["--extract".into(), "/usr/*".into()],
            vec!["--root", &root, "--include", "/usr/"],
        ),
    ];
    for (i, (theirs, mine)) in cases.iter().enumerate() {
        let lcov_out = t.p(&format!("lcov{i}.info"));
        let (op, pats) = theirs.split_first().unwrap();
        run(Command::new("lcov")
            .args(["--quiet", "--rc", "lcov_branch_coverage=1", op])
            .arg(&all)
            .args(pats)
            .arg("-o")
            .arg(&lcov_out));
        let ours_out = t.p(&format!("ours{i}.info"));
        our_files(&s, mine, &ours_out);
        let (l, o) = (
            common::tracefile_counts(&lcov_out),
            common::tracefile_counts(&ours_out),
        );
        assert_eq!(o, l, "{theirs:?}");
        assert!(!o.is_empty() && o.len() < 5, "{theirs:?}: {:?}", o.keys());
    }
}

/// The three thresholds pass at gcovr's own percentage and fail a tenth
/// above it, for both tools; ours writes the report first and exits 3.
#[test]
fn thresholds_fail_where_gcovr_fails() {
    let s = set("gcc-12/calc", "run2", "gcov-12", "calc");
    let t = Tmp::new("ci-thresholds");
    let build = scratch(&t, &s);
    let (_, percents) = gcovr_summary(&build, &s, &[]);
    for (metric, key) in [
        ("line", "line_percent"),
        ("branch", "branch_percent"),
        ("function", "function_percent"),
    ] {
        let p = percents[key];
        assert!(p > 0.0 && p < 100.0, "{metric}: {p}");
        for (wanted, fails) in [(p, false), (p + 0.1, true)] {
            let wanted = format!("{wanted:.1}");
            let flag = format!("--fail-under-{metric}");
            let g = Command::new(common::gcovr())
                .current_dir(&build)
                .args(["--gcov-executable", s.gcov, "-r"])
                .arg(&build)
                .args([flag.as_str(), &wanted])
                .arg(&build)
                .output()
                .unwrap();
            assert_eq!(!g.status.success(), fails, "gcovr {flag} {wanted}: {g:?}");
            for sub in ["lcov", "report"] {
                let out = t.p(&format!("{sub}-{metric}-{wanted}"));
                let o = ours()
                    .arg(sub)
                    .arg(&s.data)
                    .arg("--gcno-dir")
                    .arg(&s.data)
                    .args([flag.as_str(), &wanted, "-o"])
                    .arg(&out)
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&o.stderr);
                assert_eq!(
                    o.status.code(),
                    Some(if fails { 3 } else { 0 }),
                    "{sub} {flag} {wanted}: {err}"
                );
                // The report is written either way.
                assert!(std::fs::metadata(&out).unwrap().len() > 100, "{sub}");
                let said = err.lines().any(|l| {
                    l.starts_with(&format!("xencov-rs: FAILED: {metric} coverage {p:.1}%"))
                        && l.contains(&format!("wanted {wanted}%: 0.1 points short"))
                });
                assert_eq!(said, fails, "{sub} {flag} {wanted}: {err}");
            }
        }
    }
}

/// Several thresholds: one line each, status 3; a bad percentage is a usage error.
#[test]
fn thresholds_each_say_what_failed() {
    let d = common::samples().join("gcc-12/calc/run2");
    let o = ours()
        .arg("report")
        .arg(&d)
        .arg("--gcno-dir")
        .arg(&d)
        .args(["--fail-under-line", "100", "--fail-under-branch", "99%"])
        .args(["--fail-under-function", "10"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let failed: Vec<&str> = err.lines().filter(|l| l.contains("FAILED")).collect();
    assert_eq!(failed.len(), 2, "{err}");
    assert!(
        failed[0]
            .contains("line coverage 68.8% (106/154) is under the wanted 100%: 31.2 points short"),
        "{err}"
    );
    assert!(failed[1].contains("branch coverage 59.4% (57/96)"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("total"));
    let o = ours()
        .arg("lcov")
        .arg(&d)
        .arg("--gcno-dir")
        .arg(&d)
        .args(["--fail-under-line", "101"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

/// `--fail-under-condition` compares the summary's `conditions` column
/// (GCC 14 `-fcondition-coverage` data: 37 of 78 outcomes, 47.4%).
#[test]
fn the_condition_threshold_compares_the_conditions_column() {
    let d = common::samples().join("gcc-14/calc/run1");
    let status = |wanted: &str| {
        let o = ours()
            .arg("report")
            .arg(&d)
            .args(["--fail-under-condition", wanted])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(out.contains("37/78"), "{out}");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(status("47.4").0, Some(0));
    let (code, err) = status("47.5");
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("condition coverage 47.4% (37/78) is under the wanted 47.5%"),
        "{err}"
    );
}

/// A selection that leaves nothing is an error, not an empty report.
#[test]
fn a_selection_of_nothing_is_an_error() {
    let d = common::samples().join("gcc-12/calc/run2");
    let t = Tmp::new("ci-nothing");
    let out = t.p("o.info");
    let o = ours()
        .arg("lcov")
        .arg(&d)
        .arg("--gcno-dir")
        .arg(&d)
        .args(["--exclude", "/", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("leave no source file"));
    assert!(!out.exists());
    let o = ours()
        .arg("lcov")
        .arg(&d)
        .arg("--gcno-dir")
        .arg(&d)
        .args(["--include", "("])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--include (: not a regular expression"));
}

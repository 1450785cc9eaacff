//! Exclusion markers (`LCOV_EXCL_*`, `GCOVR_EXCL_*`) against the tools that
//! define them, on the C program of tests/exclude/ (one of each marker,
//! built and run here):
//! - lcov 1.16 `--capture` with gcov-12 (this machine): our tracefile equals
//!   lcov's record by record, with markers and with `--no-markers`, and
//!   for the file whose markers do not pair up (lcov excludes to the end);
//! - lcov 2.0 `--capture` with gcov-14 (trixie chroot): the same line,
//!   function and branch counts per file;
//! - gcovr 8.8 with gcov-12: the same lines and branches per file and the
//!   same function totals;
//! - thresholds and `diff` count what lcov counts.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Gcc, Tmp, run};

fn ours() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
}

const SOURCES: [&str; 5] = ["main", "markers", "gcovr", "unclosed", "exception"];

/// Copies tests/exclude/*.c into `dir`, builds them with `g`'s gcc
/// (`--coverage -O0`, one object per source, absolute paths), runs the
/// program once, and drops the data and notes of the sources in `drop`
/// (which the oracle at hand reads otherwise).
fn build(g: Gcc, dir: &Path, drop: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for s in SOURCES {
        let src = common::root().join(format!("tests/exclude/{s}.c"));
        std::fs::copy(&src, dir.join(format!("{s}.c"))).unwrap();
        run(g
            .tool("gcc")
            .args(["--coverage", "-O0", "-c"])
            .arg(dir.join(format!("{s}.c")))
            .arg("-o")
            .arg(dir.join(format!("{s}.o"))));
    }
    let prog = dir.join("prog");
    let mut link = g.tool("gcc");
    link.arg("--coverage").arg("-o").arg(&prog);
    for s in SOURCES {
        link.arg(dir.join(format!("{s}.o")));
    }
    run(&mut link);
    run(&mut g.command(prog.to_str().unwrap()));
    for s in drop {
        for ext in ["gcda", "gcno"] {
            std::fs::remove_file(dir.join(format!("{s}.{ext}"))).unwrap();
        }
    }
}

/// Debian's lcov 1.16 drops every branch of a line marked
/// `LCOV_EXCL_EXCEPTION_BR_LINE` (an older copy of geninfo's gcov JSON
/// reader overrides the newer one); lcov 2 drops only exception branches,
/// as we do. That file is compared with lcov 2 and gcovr only.
const NOT_FOR_LCOV_116: [&str; 1] = ["exception"];

/// lcov 1.16 reads its own spelling only.
const LCOV_WORDS: [&str; 2] = ["--marker-prefix", "LCOV"];

/// lcov 1.16's capture of `dir` (gcov-12, branches on, `extra` options),
/// as [`common::lcov_capture_with`] gives it.
fn lcov_116(dir: &Path, work: &Path, extra: &[&str]) -> (Vec<String>, String) {
    common::lcov_capture_with(dir, "gcov-12", work, extra)
}

/// Our tracefile of `dir` with `extra` options, as
/// [`common::tracefile_by_file`], and our standard error.
fn ours_lcov(dir: &Path, out: &Path, extra: &[&str]) -> (Vec<String>, String) {
    let o = run(ours().arg("lcov").arg(dir).args(extra).arg("-o").arg(out));
    (
        common::tracefile_by_file(out),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn has(records: &[String], file: &str, record: &str) -> bool {
    records
        .iter()
        .any(|l| l.ends_with(&format!("/{file}: {record}")))
}

/// With markers and without, our tracefile equals lcov 1.16's; and the
/// markers take out what they should (so the comparison can fail).
#[test]
fn tracefile_equals_lcov_116_with_and_without_markers() {
    let t = Tmp::new("exclude-lcov116");
    let dir = t.p("build");
    build(common::gcc(12), &dir, &NOT_FOR_LCOV_116);

    let (theirs, lcov_err) = lcov_116(&dir, &t.0, &[]);
    let (mine, err) = ours_lcov(&dir, &t.p("ours.info"), &LCOV_WORDS);
    assert_eq!(mine, theirs);

    let (theirs_off, _) = lcov_116(&dir, &t.0, &["--no-markers"]);
    let (mine_off, err_off) = ours_lcov(&dir, &t.p("off.info"), &["--no-markers"]);
    assert_eq!(mine_off, theirs_off);
    assert_ne!(mine, mine_off, "the markers changed nothing");

    // What each marker does, read from the oracle's output.
    let src = std::fs::read_to_string(common::root().join("tests/exclude/markers.c")).unwrap();
    let line_of = |needle: &str| -> usize {
        src.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle}"))
            + 1
    };
    let abort = line_of("abort();");
    assert!(has(&theirs_off, "markers.c", &format!("DA:{abort},0")));
    assert!(!has(&theirs, "markers.c", &format!("DA:{abort},0")));
    for f in ["debug_dump", "never_called"] {
        assert!(theirs_off.iter().any(|l| l.ends_with(&format!(",{f}"))));
        assert!(!theirs.iter().any(|l| l.ends_with(&format!(",{f}"))), "{f}");
    }
    let br = line_of("if (x > 100)");
    assert!(has(&theirs, "markers.c", &format!("DA:{br},20")));
    assert!(has(&theirs_off, "markers.c", &format!("BRDA:{br},0,0,0")));
    assert!(!has(&theirs, "markers.c", &format!("BRDA:{br},0,0,0")));
    // lcov reads its own words only: gcovr's are code to it, and to us
    // with `--marker-prefix LCOV`.
    let g_unused = |v: &[String]| v.iter().any(|l| l.ends_with(",g_unused"));
    assert!(g_unused(&theirs));
    let (mine_all, _) = ours_lcov(&dir, &t.p("all.info"), &[]);
    assert!(!g_unused(&mine_all));

    // lcov warns about the unterminated region (without a line); we name
    // the file and the line, and the stray STOP before it.
    assert!(
        lcov_err.contains("unterminated exclusion section"),
        "{lcov_err}"
    );
    let unclosed = dir.join("unclosed.c");
    assert!(
        err.contains(&format!(
            "warning: {}: line 10: LCOV_EXCL_START is never closed by LCOV_EXCL_STOP",
            unclosed.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "warning: {}: line 5: LCOV_EXCL_STOP without a region open",
            unclosed.display()
        )),
        "{err}"
    );
    assert!(!err_off.contains("EXCL"), "{err_off}");
}

/// Sources that moved are found under --source-root; sources that are
/// nowhere are one warning, and nothing is excluded.
#[test]
fn moved_sources_are_found_under_source_root() {
    let t = Tmp::new("exclude-moved");
    let dir = t.p("build");
    build(common::gcc(12), &dir, &NOT_FOR_LCOV_116);
    let (theirs, _) = lcov_116(&dir, &t.0, &[]);
    let (theirs_off, _) = lcov_116(&dir, &t.0, &["--no-markers"]);

    let moved = t.p("elsewhere/build");
    std::fs::create_dir_all(&moved).unwrap();
    for s in SOURCES {
        std::fs::rename(dir.join(format!("{s}.c")), moved.join(format!("{s}.c"))).unwrap();
    }
    let (gone, err) = ours_lcov(&dir, &t.p("gone.info"), &LCOV_WORDS);
    assert_eq!(gone, theirs_off, "no source, no marker");
    assert!(
        err.contains("exclusion markers not applied to 4 source files that cannot be read"),
        "{err}"
    );
    let root = t.p("elsewhere");
    let (found, err) = ours_lcov(
        &dir,
        &t.p("found.info"),
        &[
            "--source-root",
            root.to_str().unwrap(),
            "--marker-prefix",
            "LCOV",
        ],
    );
    assert_eq!(found, theirs);
    assert!(!err.contains("cannot be read"), "{err}");
}

/// A project's own marker words replace the default ones.
#[test]
fn own_marker_prefix() {
    let t = Tmp::new("exclude-prefix");
    let dir = t.p("build");
    build(common::gcc(12), &dir, &NOT_FOR_LCOV_116);
    let (theirs_off, _) = lcov_116(&dir, &t.0, &["--no-markers"]);
    // Only GCOVR_ markers: lcov's markers are then code like any other.
    let (mine, _) = ours_lcov(&dir, &t.p("g.info"), &["--marker-prefix", "GCOVR"]);
    let not_gcovr = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|l| !l.contains("/gcovr.c: "))
            .cloned()
            .collect()
    };
    assert_eq!(not_gcovr(&mine), not_gcovr(&theirs_off));
    assert_ne!(mine, theirs_off);
    let o = ours()
        .arg("lcov")
        .arg(&dir)
        .args(["--marker-prefix", "A B"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
}

/// lcov 2 counts the same lines, functions and branches per file with the
/// markers applied: lcov 2.0 with gcov-14 (trixie) and lcov 2.5 with
/// gcov-16 (sid). The file whose markers do not pair up is left out:
/// lcov 2 stops on it (its "mismatch" error).
#[test]
fn counts_equal_lcov_2_0() {
    counts_equal_lcov_2(14);
}

#[test]
fn counts_equal_lcov_2_5() {
    counts_equal_lcov_2(16);
}

fn counts_equal_lcov_2(major: u8) {
    let g = common::gcc(major);
    if !g.available() {
        return;
    }
    let t = Tmp::new(&format!("exclude-lcov2-{major}"));
    let dir = t.p("build");
    build(g, &dir, &["unclosed"]);
    let theirs = common::lcov_capture_counts(g, &dir, &t.0);
    let out = t.p("ours.info");
    run(ours()
        .arg("lcov")
        .arg(&dir)
        .args(LCOV_WORDS)
        .arg("-o")
        .arg(&out));
    let mine = common::tracefile_counts(&out);
    assert_eq!(mine, theirs, "gcc-{major}");
    let markers = theirs
        .iter()
        .find(|(f, _)| f.ends_with("/markers.c"))
        .unwrap()
        .1;
    assert!(!markers.functions.contains_key("debug_dump"));
    // The exception marker leaves a C program's branches alone.
    let exception = theirs
        .iter()
        .find(|(f, _)| f.ends_with("/exception.c"))
        .unwrap()
        .1;
    assert_eq!(exception.totals["BRF"], 2);
}

/// gcovr 8.8 (which also reads lcov's spelling) keeps the same lines and
/// branches per file, and the same functions in total.
#[test]
fn figures_equal_gcovr() {
    let t = Tmp::new("exclude-gcovr");
    let dir = t.p("build");
    // gcovr drops a region that is never closed where lcov keeps it open
    // to the end: that file is compared with lcov only.
    build(common::gcc(12), &dir, &["unclosed"]);
    let json = t.p("summary.json");
    run(Command::new(common::gcovr())
        .current_dir(&dir)
        .args(["--gcov-executable", "gcov-12", "-r"])
        .arg(&dir)
        .arg("--json-summary")
        .arg(&json)
        .arg(&dir));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let mut theirs: Vec<(String, [u64; 6])> = v["files"]
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
                    n("function_covered"),
                    n("function_total"),
                ],
            )
        })
        .collect();
    theirs.sort();
    let out = t.p("ours.info");
    run(ours().arg("lcov").arg(&dir).arg("-o").arg(&out));
    let mut mine: Vec<(String, [u64; 6])> = common::tracefile_counts(&out)
        .into_iter()
        .map(|(name, c)| {
            let name = Path::new(&name)
                .strip_prefix(&dir)
                .unwrap()
                .display()
                .to_string();
            let tot = |k: &str| c.totals.get(k).copied().unwrap_or(0);
            (
                name,
                [
                    tot("LH"),
                    tot("LF"),
                    tot("BRH"),
                    tot("BRF"),
                    tot("FNH"),
                    tot("FNF"),
                ],
            )
        })
        .collect();
    mine.sort();
    assert_eq!(mine, theirs);
}

/// The line threshold is checked on the lines left after the markers:
/// it passes at lcov's own percentage with markers and fails without.
#[test]
fn thresholds_count_what_lcov_counts() {
    let t = Tmp::new("exclude-thresholds");
    let dir = t.p("build");
    build(common::gcc(12), &dir, &NOT_FOR_LCOV_116);
    let (theirs, _) = lcov_116(&dir, &t.0, &[]);
    let (theirs_off, _) = lcov_116(&dir, &t.0, &["--no-markers"]);
    let lines = |v: &[String]| -> (usize, usize) {
        let da: Vec<&String> = v.iter().filter(|l| l.contains(": DA:")).collect();
        let hit = da.iter().filter(|l| !l.ends_with(",0")).count();
        (hit, da.len())
    };
    let ((h, f), (h0, f0)) = (lines(&theirs), lines(&theirs_off));
    let pct = 100.0 * h as f64 / f as f64;
    assert!(100.0 * (h0 as f64) / (f0 as f64) < pct - 1.0);
    // A whole percent under lcov's figure with markers: passes with them,
    // fails without.
    let wanted = format!("{}", pct.floor() - 0.5);
    let gate = |extra: &[&str]| {
        ours()
            .arg("report")
            .arg(&dir)
            .args(["--fail-under-line", &wanted])
            .args(LCOV_WORDS)
            .args(extra)
            .output()
            .unwrap()
    };
    let on = gate(&[]);
    assert_eq!(on.status.code(), Some(0), "{on:?}");
    let off = ours()
        .arg("report")
        .arg(&dir)
        .args(["--fail-under-line", &wanted, "--no-markers"])
        .output()
        .unwrap();
    assert_eq!(off.status.code(), Some(3), "{off:?}");
    let summary = String::from_utf8_lossy(&on.stdout);
    assert!(summary.contains(&format!("{h}/{f}")), "{summary}");
}

/// `diff` counts a changed line that a marker excludes as not coverable,
/// as lcov's tracefile has no record of it: the changed lines' figures
/// are those of lcov's DA records on the changed lines.
#[test]
fn diff_leaves_out_excluded_lines() {
    let t = Tmp::new("exclude-diff");
    let dir = t.p("build");
    build(common::gcc(12), &dir, &NOT_FOR_LCOV_116);
    let (theirs, _) = lcov_116(&dir, &t.0, &[]);
    let src = std::fs::read_to_string(dir.join("markers.c")).unwrap();
    let n = src.lines().count();
    // A change that rewrites every line of markers.c.
    let mut diff = format!("--- a/markers.c\n+++ b/markers.c\n@@ -1,{n} +1,{n} @@\n");
    for l in src.lines() {
        diff += &format!("-{l}\n");
    }
    for l in src.lines() {
        diff += &format!("+{l}\n");
    }
    let patch = t.p("change.diff");
    std::fs::write(&patch, diff).unwrap();
    let da: Vec<&String> = theirs
        .iter()
        .filter(|l| l.contains("/markers.c: DA:"))
        .collect();
    let hit = da.iter().filter(|l| !l.ends_with(",0")).count();
    let o = run(ours()
        .arg("diff")
        .arg(&dir)
        .arg("-r")
        .arg(&dir)
        .arg("--diff")
        .arg(&patch));
    let text = String::from_utf8_lossy(&o.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("markers.c"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(&format!("{hit}/{}", da.len())), "{text}");
}

/// Per class of a Cobertura document: its methods, and each line's
/// number and hits; and the counts of the `<coverage>` element.
type Classes = std::collections::BTreeMap<String, (Vec<String>, Vec<(String, String)>)>;

fn cobertura(path: &Path) -> (Classes, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, opts).unwrap();
    let root = doc.root_element();
    let counts = [
        "lines-covered",
        "lines-valid",
        "branches-covered",
        "branches-valid",
    ]
    .iter()
    .map(|a| format!("{a}={}", root.attribute(*a).unwrap()))
    .collect();
    let mut classes = Classes::new();
    for c in root.descendants().filter(|n| n.has_tag_name("class")) {
        let mut methods: Vec<String> = c
            .descendants()
            .filter(|n| n.has_tag_name("method"))
            .map(|m| m.attribute("name").unwrap().to_string())
            .collect();
        methods.sort();
        // The class's own lines (a method repeats its lines).
        let lines = c
            .children()
            .filter(|n| n.has_tag_name("lines"))
            .flat_map(|l| l.children().filter(|n| n.has_tag_name("line")))
            .map(|l| {
                (
                    l.attribute("number").unwrap().to_string(),
                    l.attribute("hits").unwrap().to_string(),
                )
            })
            .collect();
        classes.insert(
            c.attribute("filename").unwrap().to_string(),
            (methods, lines),
        );
    }
    (classes, counts)
}

/// `report --format cobertura` with the markers applied equals gcovr's
/// Cobertura: the same methods (an excluded function stays a method, as
/// gcovr lists it), the same lines with the same hits, the same totals.
#[test]
fn cobertura_equals_gcovr() {
    let t = Tmp::new("exclude-cobertura");
    let dir = t.p("build");
    build(common::gcc(12), &dir, &["unclosed"]);
    let theirs = t.p("gcovr.xml");
    run(Command::new(common::gcovr())
        .current_dir(&dir)
        .args(["--gcov-executable", "gcov-12", "--timestamp", "0", "-r"])
        .arg(&dir)
        .arg("--cobertura")
        .arg(&theirs)
        .arg(&dir));
    let mine = t.p("ours.xml");
    run(ours()
        .arg("report")
        .arg(&dir)
        .args(["--format", "cobertura", "-r"])
        .arg(&dir)
        .arg("-o")
        .arg(&mine));
    let (g, gc) = cobertura(&theirs);
    let (o, oc) = cobertura(&mine);
    assert_eq!(o, g);
    assert_eq!(oc, gc);
    // gcovr keeps an excluded function as a method (with the lines left in
    // its range: none here), and its lines are gone from the class.
    assert!(g["markers.c"].0.contains(&"debug_dump".to_string()));
    let src = std::fs::read_to_string(dir.join("markers.c")).unwrap();
    let body = src
        .lines()
        .position(|l| l.contains("printf(\"dump"))
        .unwrap()
        + 1;
    assert!(!g["markers.c"].1.iter().any(|(n, _)| *n == body.to_string()));
    assert!(o["markers.c"].1.iter().any(|(n, _)| n == "8"));
}

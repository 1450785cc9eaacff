//! Issue 18: MC/DC of `-fcoverage-mcdc` builds from the profile bitmap,
//! against llvm-cov of the clang release that built the program
//! (llvm-cov-18/19 in the trixie chroot, llvm-cov-21 in sid).
//!
//! samples/llvm/clang-{18,19,21}/mcdc is samples/llvm/src/mcdc.c built with
//! `-fcoverage-mcdc` (two decisions of three conditions), run twice. For each
//! run alone and both merged, every decision's location and per-condition
//! covered state (`llvm-cov export -format=text`, "mcdc_records"), each
//! file's and the total MC/DC conditions and covered (its summary, and
//! `llvm-cov report --show-mcdc-summary`'s TOTAL row) must be ours: the
//! library's records and the conditions column of `report --format summary`.
//! samples/llvm/src/mcdc_more.c (folded conditions, a decision in a macro,
//! decisions nested in a conditional) is built and run live in the chroots.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use xencov::llvm::coverage::{Coverage, Options, export};
use xencov::llvm::covmap::{CoverageMapping, sections};
use xencov::llvm::raw::RawProfile;

const RELEASES: [(u32, &str); 3] = [(18, "trixie"), (19, "trixie"), (21, "sid")];

fn set(major: u32) -> PathBuf {
    common::samples().join(format!("llvm/clang-{major}"))
}

fn runs() -> Vec<Vec<&'static str>> {
    vec![
        vec!["mcdc-run1.profraw"],
        vec!["mcdc-run2.profraw"],
        vec!["mcdc-run1.profraw", "mcdc-run2.profraw"],
    ]
}

/// A decision: (line, column, end line, end column) and each condition covered.
type Decision = ((u32, u32, u32, u32), Vec<bool>);

/// Per file: its decisions (sorted) and its (conditions, covered).
type PerFile = Vec<(String, Vec<Decision>, (usize, usize))>;

fn ours(major: u32, profiles: &[&str]) -> PerFile {
    ours_in(&set(major), "mcdc", major, profiles)
}

fn ours_in(d: &Path, prog: &str, major: u32, profiles: &[&str]) -> PerFile {
    let elf = std::fs::read(d.join(prog)).unwrap();
    let map = CoverageMapping::decode(&sections(&elf).unwrap()).unwrap();
    let data: Vec<Vec<u8>> = profiles
        .iter()
        .map(|p| std::fs::read(d.join(p)).unwrap())
        .collect();
    let bytes = if data.len() == 1 {
        data[0].clone()
    } else {
        let inputs: Vec<(&[u8], u64)> = data.iter().map(|b| (b.as_slice(), 1)).collect();
        xencov::llvm::raw::merge(&inputs).unwrap()
    };
    let profile = RawProfile::decode(&bytes).unwrap();
    let cov = Coverage::load(&map, &profile).unwrap();
    let opts = Options { llvm_major: major };
    export(&cov, &opts)
        .into_iter()
        .map(|r| {
            let mut ds: Vec<Decision> = r
                .mcdc
                .iter()
                .map(|m| {
                    let d = m.decision;
                    (
                        (d.line_start, d.column_start, d.line_end, d.column_end),
                        m.conditions.iter().map(|c| c.covered).collect(),
                    )
                })
                .collect();
            ds.sort();
            (r.name, ds, r.mcdc_summary)
        })
        .collect()
}

/// The oracle's per-file records and its TOTAL row (conditions, covered).
fn oracle(major: u32, suite: &str, profiles: &[&str], work: &Path) -> (PerFile, (usize, usize)) {
    let d = set(major);
    for f in std::iter::once("mcdc").chain(profiles.iter().copied()) {
        std::fs::copy(d.join(f), work.join(f)).unwrap();
    }
    oracle_in(major, suite, "mcdc", profiles, work)
}

/// Runs `args` in `work` in the chroot `suite`; its stdout.
fn in_chroot(suite: &str, work: &Path, args: &[&str]) -> String {
    let o = common::run(
        Command::new(common::root().join("scripts/chroot"))
            .args(["run", suite, work.to_str().unwrap()])
            .args(args),
    );
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn oracle_in(
    major: u32,
    suite: &str,
    prog: &str,
    profiles: &[&str],
    work: &Path,
) -> (PerFile, (usize, usize)) {
    let run = |args: &[&str]| in_chroot(suite, work, args);
    let profdata = format!("llvm-profdata-{major}");
    let cov = format!("llvm-cov-{major}");
    let mut merge = vec![profdata.as_str(), "merge", "-o", "m.profdata"];
    merge.extend(profiles);
    run(&merge);
    let json = run(&[
        &cov,
        "export",
        "-format=text",
        "-instr-profile",
        "m.profdata",
        prog,
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut files = Vec::new();
    for f in v["data"][0]["files"].as_array().unwrap() {
        let mut ds: Vec<Decision> = f["mcdc_records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let n = |i: usize| r[i].as_u64().unwrap() as u32;
                (
                    (n(0), n(1), n(2), n(3)),
                    // The last element (LLVM 21 adds the decision's true
                    // and false counts before it).
                    r.as_array()
                        .unwrap()
                        .last()
                        .unwrap()
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| b.as_bool().unwrap())
                        .collect(),
                )
            })
            .collect();
        ds.sort();
        let s = &f["summary"]["mcdc"];
        files.push((
            f["filename"].as_str().unwrap().to_string(),
            ds,
            (
                s["count"].as_u64().unwrap() as usize,
                s["covered"].as_u64().unwrap() as usize,
            ),
        ));
    }
    let report = run(&[
        &cov,
        "report",
        "--show-mcdc-summary",
        "-instr-profile",
        "m.profdata",
        prog,
    ]);
    let total: Vec<&str> = report
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .unwrap()
        .split_whitespace()
        .collect();
    // The last three columns: MC/DC conditions, missed, cover.
    let n: usize = total[total.len() - 3].parse().unwrap();
    let missed: usize = total[total.len() - 2].parse().unwrap();
    (files, (n, n - missed))
}

/// The conditions cell of the total row of our summary: (conditions, covered).
fn our_summary_total(major: u32, profiles: &[&str]) -> Option<(usize, usize)> {
    let d = set(major);
    let mut args: Vec<String> = vec!["report".into(), "--format".into(), "summary".into()];
    args.extend(
        profiles
            .iter()
            .map(|p| d.join(p).to_str().unwrap().to_string()),
    );
    args.push("--object".into());
    args.push(d.join("mcdc").to_str().unwrap().to_string());
    summary_conditions(&args)
}

fn summary_conditions(args: &[String]) -> Option<(usize, usize)> {
    let o = common::run(Command::new(env!("CARGO_BIN_EXE_xencov-rs")).args(args));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let header = text.lines().next().unwrap();
    if !header.contains("conditions") {
        return None;
    }
    let total = text.lines().find(|l| l.starts_with("total")).unwrap();
    // Cells are "pct hit/found"; the fourth is the conditions.
    let cells: Vec<&str> = total
        .split_whitespace()
        .filter(|c| c.contains('/'))
        .collect();
    let (hit, found) = cells[3].split_once('/').unwrap();
    Some((found.parse().unwrap(), hit.parse().unwrap()))
}

#[test]
fn mcdc_equals_llvm_cov_of_each_release() {
    let work = common::Tmp::new("llvm-mcdc");
    let mut compared = 0;
    for (major, suite) in RELEASES {
        if !common::have_chroot(suite, "llvm-cov MC/DC oracle") {
            continue;
        }
        for profiles in runs() {
            let what = format!("clang {major} {profiles:?}");
            let (theirs, total) = oracle(major, suite, &profiles, &work.0);
            let mine = ours(major, &profiles);
            assert_eq!(mine, theirs, "{what}: per-file MC/DC records and summaries");
            assert!(
                theirs.iter().map(|f| f.1.len()).sum::<usize>() == 2,
                "{what}: the sample's two decisions"
            );
            assert_eq!(
                our_summary_total(major, &profiles),
                Some(total),
                "{what}: report --format summary's conditions against llvm-cov report"
            );
            compared += 1;
        }
    }
    if compared == 0 {
        common::not_run("llvm-cov MC/DC oracle: no chroot");
    }
}

/// The runs differ, so the comparison can fail: one run alone covers fewer
/// conditions than both merged (the bitmaps are ORed).
#[test]
fn the_runs_cover_different_conditions() {
    for major in [18, 19, 21] {
        let one = our_summary_total(major, &["mcdc-run1.profraw"]).unwrap();
        let both = our_summary_total(major, &["mcdc-run1.profraw", "mcdc-run2.profraw"]).unwrap();
        assert_eq!(one.0, both.0, "clang {major}: the same conditions");
        assert!(one.1 < both.1, "clang {major}: {one:?} vs {both:?}");
    }
}

/// A build without MC/DC: no conditions column, as for gcov data without
/// conditions.
#[test]
fn a_build_without_mcdc_has_no_conditions_column() {
    let d = set(19);
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    let args: Vec<String> = vec![
        "report".into(),
        "--format".into(),
        "summary".into(),
        p("calc-run1.profraw"),
        "--object".into(),
        p("calc"),
    ];
    assert_eq!(summary_conditions(&args), None);
}

/// --fail-under-condition checks the MC/DC conditions the summary shows
/// (5 of 6 for both runs merged: 83.3 %).
#[test]
fn fail_under_condition_checks_the_mcdc_conditions() {
    let d = set(21);
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    let status = |min: &str| {
        Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
            .args([
                "report",
                "--format",
                "summary",
                &p("mcdc-run1.profraw"),
                &p("mcdc-run2.profraw"),
                "--object",
                &p("mcdc"),
                "--fail-under-condition",
                min,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(status("83"), Some(0));
    assert_eq!(status("84"), Some(3));
}

/// samples/llvm/src/mcdc_more.c built and run live with each clang: four
/// conditions, a decision in a macro, folded conditions (left out of the
/// totals), decisions nested in a conditional.
#[test]
fn mcdc_of_a_live_build_equals_llvm_cov() {
    let mut compared = 0;
    for (major, suite) in RELEASES {
        if !common::have_chroot(suite, "llvm-cov MC/DC oracle (live build)") {
            continue;
        }
        let work = common::Tmp::new(&format!("llvm-mcdc-live-{major}"));
        let w = &work.0;
        std::fs::copy(
            common::samples().join("llvm/src/mcdc_more.c"),
            w.join("t.c"),
        )
        .unwrap();
        let cc = format!("clang-{major}");
        in_chroot(
            suite,
            w,
            &[
                &cc,
                "-O0",
                "-fprofile-instr-generate",
                "-fcoverage-mapping",
                "-fcoverage-mcdc",
                "t.c",
                "-o",
                "t",
            ],
        );
        for (profile, args) in [("a.profraw", "1 2 5 12"), ("b.profraw", "3 7 8 15 0")] {
            in_chroot(
                suite,
                w,
                &[
                    "sh",
                    "-c",
                    &format!("LLVM_PROFILE_FILE={profile} ./t {args}; true"),
                ],
            );
        }
        for profiles in [vec!["a.profraw"], vec!["a.profraw", "b.profraw"]] {
            let what = format!("clang {major} live {profiles:?}");
            let (theirs, total) = oracle_in(major, suite, "t", &profiles, w);
            let mine = ours_in(w, "t", major, &profiles);
            assert_eq!(mine, theirs, "{what}: per-file MC/DC records and summaries");
            let sum = mine.iter().fold((0, 0), |a, f| (a.0 + f.2.0, a.1 + f.2.1));
            assert_eq!(sum, total, "{what}: llvm-cov report's TOTAL");
            compared += 1;
        }
    }
    if compared == 0 {
        common::not_run("llvm-cov MC/DC oracle (live build): no chroot");
    }
}

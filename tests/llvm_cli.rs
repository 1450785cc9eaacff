//! Issue 18, items 1-3: the commands on raw LLVM profiles written by real
//! clang runtimes (samples/llvm/): `check` pairs a clang release with the
//! profile version it writes, `dump` prints profiles, and every command
//! validates them (a 40-byte truncated copy is refused with its offset).

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn ours(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const CALC: &str = "samples/llvm/clang-19/calc";
const RUN1: &str = "samples/llvm/clang-19/calc-run1.profraw";
const MCDC1: &str = "samples/llvm/clang-19/mcdc-run1.profraw";
const CLANG14: &str = "samples/llvm/small.profraw";

/// The first 40 bytes of the clang 19 profile, in a scratch directory.
fn cut40(t: &common::Tmp) -> PathBuf {
    let bytes = std::fs::read(common::root().join(RUN1)).unwrap();
    let p = t.p("cut.profraw");
    std::fs::write(&p, &bytes[..40]).unwrap();
    p
}

#[test]
fn check_agrees_for_a_clang_release_and_its_profile_version() {
    let o = ours(&["check", CALC, RUN1]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("same format: clang 19 writes raw profile version 10"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("verdict: all agree"), "{}", out(&o));
    // clang 21 (sid) writes version 10 as well: its binary agrees with its
    // own profile and with clang 19's.
    for prof in ["samples/llvm/clang-21/mcdc-run1.profraw", RUN1] {
        let o = ours(&["check", "samples/llvm/clang-21/mcdc", prof]);
        assert_eq!(o.status.code(), Some(0), "{prof}: {}{}", out(&o), err(&o));
        assert!(
            out(&o).contains("clang 21 writes raw profile version 10"),
            "{}",
            out(&o)
        );
    }
    // clang 18 writes version 9 (the first with MC/DC bitmaps).
    let o = ours(&[
        "check",
        "samples/llvm/clang-18/mcdc",
        "samples/llvm/clang-18/mcdc-run2.profraw",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("clang 18 writes raw profile version 9"),
        "{}",
        out(&o)
    );
    // Two runs of the same build agree with each other, too.
    let o = ours(&["check", CALC, RUN1, MCDC1]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
}

#[test]
fn check_refuses_a_profile_version_that_clang_release_does_not_write() {
    // clang 14's version 8 against a clang 19 binary.
    let o = ours(&["check", CALC, CLANG14]);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains(
            "INCOMPATIBLE: clang 19 writes raw profile version 10, but this profile is version 8 \
             (written by clang 14-17)"
        ),
        "{}",
        out(&o)
    );
    // clang 18's binary with a clang 19 profile (version 10).
    let o = ours(&["check", "samples/llvm/clang-18/calc", RUN1]);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("clang 18 writes raw profile version 9, but this profile is version 10"),
        "{}",
        out(&o)
    );
    // Two profile versions together: incompatible.
    let o = ours(&["check", RUN1, CLANG14]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("raw profile versions"), "{}", out(&o));
}

/// A gcov on PATH (the host's gcov 12) is never compared with clang's side:
/// it reads neither a clang build's coverage nor a raw profile.
#[test]
fn check_compares_no_gcov_with_a_clang_build() {
    let o = ours(&[
        "check",
        "--gcov",
        "gcov",
        "samples/llvm/clang-19/calc",
        RUN1,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(!out(&o).contains("vs gcov"), "{}", out(&o));
}

#[test]
fn check_json_names_the_clang_release_and_profile_version() {
    let o = ours(&["check", "--json", CALC, RUN1]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "ok");
    let llvm: Vec<&serde_json::Value> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("llvm"))
        .collect();
    assert!(
        llvm.contains(&&serde_json::json!({"clang": 19})),
        "{llvm:?}"
    );
    assert!(
        llvm.contains(&&serde_json::json!({"raw_profile": 10})),
        "{llvm:?}"
    );
}

#[test]
fn dump_prints_names_hashes_and_counters() {
    let o = ours(&["dump", MCDC1]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains(":raw LLVM profile, version 10 (clang 19-21), little-endian"),
        "{text}"
    );
    // llvm-profdata-19 show (samples/llvm/clang-19/mcdc-run1.show): decide
    // has hash 0xa3ce498458, function count 4, block counts [1, 3, 3, 2, 1].
    assert!(
        text.contains(
            ":  mcdc.c:decide:\n\
             samples/llvm/clang-19/mcdc-run1.profraw:    hash: 0x000000a3ce498458\n\
             samples/llvm/clang-19/mcdc-run1.profraw:    counters: [4, 1, 3, 3, 2, 1]\n\
             samples/llvm/clang-19/mcdc-run1.profraw:    bitmap: [13]\n"
        ),
        "{text}"
    );
    assert!(!text.contains("not a gcda"), "{text}");
}

#[test]
fn dump_json_has_every_function() {
    let o = ours(&["dump", "--json", CLANG14]);
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &v[0]["llvm_raw_profile"];
    assert_eq!(p["header"]["version"], 8);
    let f = p["functions"].as_array().unwrap();
    assert_eq!(f.len(), 3);
    let main = f.iter().find(|f| f["name"] == "main").unwrap();
    assert_eq!(main["counters"], serde_json::json!([1, 5, 0, 1]));
    assert_eq!(main["hash"], 0x011b_44a6_d245_835f_u64);
}

#[test]
fn a_truncated_copy_is_refused_by_every_command() {
    let t = common::Tmp::new("llvm-cut");
    let cut = cut40(&t);
    let cut = cut.to_str().unwrap();
    let gcno = t.p("gcno");
    std::fs::create_dir_all(&gcno).unwrap();
    let gcno = gcno.to_str().unwrap();
    let split_out = t.p("split");
    let merged = t.p("merged");
    for args in [
        vec!["dump", cut],
        vec!["check", CALC, cut],
        vec!["split", cut, "-o", split_out.to_str().unwrap()],
        vec!["merge", cut, "-o", merged.to_str().unwrap()],
        vec!["lcov", "--gcno-dir", gcno, cut],
        vec!["report", "--gcno-dir", gcno, cut],
    ] {
        let o = ours(&args);
        assert!(!o.status.success(), "{args:?} accepted a truncated profile");
        assert!(
            err(&o).contains("raw LLVM profile: at byte offset 40"),
            "{args:?}: {}",
            err(&o)
        );
        assert!(!err(&o).contains("version 10"), "{args:?}: {}", err(&o));
    }
    assert!(!split_out.exists() && !merged.exists());
}

#[test]
fn lcov_and_report_say_what_a_profile_needs() {
    let t = common::Tmp::new("llvm-lcov");
    let gcno = t.p("gcno");
    std::fs::create_dir_all(&gcno).unwrap();
    for cmd in ["lcov", "report"] {
        let o = ours(&[cmd, "--gcno-dir", gcno.to_str().unwrap(), RUN1]);
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        let e = err(&o);
        assert!(
            e.contains("is not gcov data but a raw LLVM profile, version 10"),
            "{cmd}: {e}"
        );
        assert!(e.contains("__llvm_covmap"), "{cmd}: {e}");
        assert!(!e.contains("not a gcda"), "{cmd}: {e}");
    }
}

#[test]
fn merge_writes_a_raw_profile_of_summed_counters() {
    let t = common::Tmp::new("llvm-merge");
    let merged = t.p("merged.profraw");
    let o = ours(&[
        "merge",
        RUN1,
        "samples/llvm/clang-19/calc-run2.profraw",
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let d = ours(&["dump", merged.to_str().unwrap()]);
    // calc-merged.show: classify's counts of both runs, summed.
    assert!(
        out(&d).contains("counters: [12, 0, 4, 3, 5, 0]"),
        "{}",
        out(&d)
    );
    // Another build is refused and nothing is written.
    let bad = t.p("bad.profraw");
    let o = ours(&["merge", RUN1, MCDC1, "-o", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("another build"), "{}", err(&o));
    assert!(!bad.exists());
}

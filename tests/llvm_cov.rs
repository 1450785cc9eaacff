//! Issue 18: `xencov-rs lcov PROFILE... --object ELF` against
//! `llvm-cov-N export -format=lcov` of the clang release that built ELF.
//!
//! samples/llvm/clang-{14,18,19,21}/ hold real programs (calc: a switch,
//! loops, an uncalled function; mcdc: -fcoverage-mcdc decisions; multi: two
//! units sharing a header's static inline function, macros with branches,
//! a folded `while (1)`, skipped code), two runs of each, and PROG.lcov:
//! what `llvm-cov-N export` printed for both runs merged
//! (scripts/gen-llvm-samples). Our tracefile must be equal in every record.
//! The live tools are run too where they are: llvm-cov-14 on the host,
//! llvm-cov-18/19 in the trixie chroot, llvm-cov-21 in sid.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ours(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

fn set(major: u32) -> PathBuf {
    common::samples().join(format!("llvm/clang-{major}"))
}

fn programs(major: u32) -> Vec<&'static str> {
    if major >= 18 {
        vec!["calc", "mcdc", "multi"]
    } else {
        vec!["calc", "multi"]
    }
}

/// Our tracefile of both runs of `prog` in set `major`.
fn our_lcov(major: u32, prog: &str) -> String {
    let d = set(major);
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    let o = ours(&[
        "lcov",
        &p(&format!("{prog}-run1.profraw")),
        &p(&format!("{prog}-run2.profraw")),
        "--object",
        &p(prog),
    ]);
    assert!(
        o.status.success(),
        "clang {major} {prog}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Per source file, its records as sorted lines: equal in every count,
/// and the diff names the file.
fn by_file(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, Vec<String>)> = None;
    for l in text.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            cur = Some((f.to_string(), Vec::new()));
        } else if l == "end_of_record" {
            let (f, mut v) = cur.take().unwrap();
            v.sort();
            out.push((f, v));
        } else if let Some((_, v)) = cur.as_mut() {
            v.push(l.to_string());
        }
    }
    out
}

fn assert_same(major: u32, prog: &str, oracle: &str, what: &str) {
    let ours = our_lcov(major, prog);
    let (a, b) = (by_file(oracle), by_file(&ours));
    assert!(!a.is_empty(), "clang {major} {prog}: the oracle is empty");
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "clang {major} {prog}: source files differ from {what}"
    );
    for ((f, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x, y, "clang {major} {prog}: {f} differs from {what}");
    }
    // And the text itself, line for line (llvm-cov's order).
    assert_eq!(
        oracle, ours,
        "clang {major} {prog}: order differs from {what}"
    );
}

#[test]
fn tracefiles_equal_the_stored_llvm_cov_exports() {
    for major in [14, 18, 19, 21] {
        for prog in programs(major) {
            let oracle = std::fs::read_to_string(set(major).join(format!("{prog}.lcov"))).unwrap();
            assert_same(major, prog, &oracle, &format!("llvm-cov-{major} (stored)"));
        }
    }
}

/// The samples cover what the brief names: a header function in two units
/// (one FNF for two FN records), macro branches on the expansion's line,
/// '-' for a branch that never ran, MC/DC conditions as branches.
#[test]
fn the_samples_exercise_what_they_claim() {
    let t = our_lcov(19, "multi");
    let files = by_file(&t);
    let h = &files
        .iter()
        .find(|(f, _)| f.ends_with("multi.h"))
        .unwrap()
        .1;
    assert!(h.contains(&"FN:11,multi_a.c:scale".to_string()));
    assert!(h.contains(&"FN:11,multi_b.c:scale".to_string()));
    assert!(h.contains(&"FNF:1".to_string()), "{h:?}");
    assert!(t.contains(",-\n"), "a branch that never ran");
    let m = our_lcov(21, "mcdc");
    assert!(
        m.contains("BRDA:8,2,5,"),
        "three conditions of one decision: {m}"
    );
}

fn live(major: u32, prog: &str, work: &Path) -> Option<String> {
    let suite = match major {
        14 => None,
        18 | 19 => Some("trixie"),
        _ => Some("sid"),
    };
    let tool = |name: &str| format!("{name}-{major}");
    let d = set(major);
    for f in [
        prog.to_string(),
        format!("{prog}-run1.profraw"),
        format!("{prog}-run2.profraw"),
    ] {
        std::fs::copy(d.join(&f), work.join(&f)).unwrap();
    }
    let cmd = |args: &[String]| -> Command {
        match suite {
            None => {
                let mut c = Command::new(&args[0]);
                c.args(&args[1..]).current_dir(work);
                c
            }
            Some(s) => {
                let mut c = Command::new(common::root().join("scripts/chroot"));
                c.args(["run", s, work.to_str().unwrap()]).args(args);
                c
            }
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let merge = s(&[
        &tool("llvm-profdata"),
        "merge",
        "-o",
        "m.profdata",
        &format!("{prog}-run1.profraw"),
        &format!("{prog}-run2.profraw"),
    ]);
    let o = common::run(&mut cmd(&merge));
    assert!(o.status.success());
    let export = s(&[
        &tool("llvm-cov"),
        "export",
        "-format=lcov",
        "-instr-profile",
        "m.profdata",
        prog,
    ]);
    let o = common::run(&mut cmd(&export));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8(o.stdout).unwrap())
}

#[test]
fn live_llvm_cov_14_agrees() {
    if Command::new("llvm-cov-14")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("XENCOV_REQUIRE_CHROOTS").as_deref() != Ok("1"),
            "no llvm-cov-14 (scripts/setup installs llvm-14)"
        );
        common::not_run("no llvm-cov-14 (scripts/setup installs llvm-14)");
        return;
    }
    for prog in programs(14) {
        let t = common::Tmp::new(&format!("llvm-cov-14-{prog}"));
        let oracle = live(14, prog, &t.p("")).unwrap();
        assert_same(14, prog, &oracle, "llvm-cov-14 (live)");
    }
}

#[test]
fn live_llvm_cov_of_the_chroots_agrees() {
    for (suite, majors) in [("trixie", vec![18, 19]), ("sid", vec![21])] {
        if !common::have_chroot(suite, "live llvm-cov export") {
            continue;
        }
        for major in majors {
            for prog in programs(major) {
                let t = common::Tmp::new(&format!("llvm-cov-{major}-{prog}"));
                let oracle = live(major, prog, &t.p("")).unwrap();
                assert_same(major, prog, &oracle, &format!("llvm-cov-{major} (live)"));
            }
        }
    }
}

/// A profile of another program, or of another build of the same program,
/// is refused with what it is; so is a profile version the binary's clang
/// does not write.
#[test]
fn mismatched_profiles_are_refused() {
    let d19 = set(19);
    let p = |d: &Path, s: &str| d.join(s).to_str().unwrap().to_string();
    // Another program (its `main` has another structural hash).
    let o = ours(&[
        "lcov",
        &p(&d19, "mcdc-run1.profraw"),
        "--object",
        &p(&d19, "calc"),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("another structural hash") && e.contains("main"),
        "{e}"
    );
    // Another release's profile (version 9 of clang 18) for clang 19's binary.
    let o = ours(&[
        "lcov",
        &p(&set(18), "calc-run1.profraw"),
        "--object",
        &p(&d19, "calc"),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("raw profile version 9") && e.contains("clang 19"),
        "{e}"
    );
    // Another build: one function's structural hash changed in the profile.
    let t = common::Tmp::new("llvm-cov-hash");
    let mut bytes = std::fs::read(d19.join("calc-run1.profraw")).unwrap();
    let prof = xencov::llvm::raw::RawProfile::decode(&bytes).unwrap();
    let at = prof.functions[0].offset + 8;
    bytes[at] ^= 0xff;
    let bad = t.p("bad.profraw");
    std::fs::write(&bad, &bytes).unwrap();
    let o = ours(&["lcov", bad.to_str().unwrap(), "--object", &p(&d19, "calc")]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(e.contains("another structural hash"), "{e}");
    // An ELF without a mapping.
    let o = ours(&[
        "lcov",
        &p(&d19, "calc-run1.profraw"),
        "--object",
        env!("CARGO_BIN_EXE_xencov-rs"),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(e.contains("__llvm_covmap"), "{e}");
}

/// A cut coverage mapping is an error with a file offset, never a panic.
#[test]
fn cut_mappings_are_refused_with_an_offset() {
    use xencov::llvm::covmap::{CoverageMapping, sections};
    let elf = std::fs::read(set(21).join("multi")).unwrap();
    let s = sections(&elf).unwrap();
    let whole = CoverageMapping::decode(&s).unwrap();
    assert!(whole.functions.len() >= 6);
    for cut in 1..s.covfun.0.len() {
        let mut c = s.clone();
        c.covfun = (&s.covfun.0[..cut], s.covfun.1);
        if let Err(e) = CoverageMapping::decode(&c) {
            assert!(e.offset as u64 >= s.covfun.1, "{e}");
        }
    }
    // Cut anywhere before the padding that ends the section (the last
    // unit's zlib stream ends in a non-zero byte).
    let end = s.covmap.0.len() - s.covmap.0.iter().rev().take_while(|&&b| b == 0).count();
    for cut in 1..end {
        let mut c = s.clone();
        c.covmap = (&s.covmap.0[..cut], s.covmap.1);
        assert!(CoverageMapping::decode(&c).is_err(), "covmap cut at {cut}");
    }
}

/// `report --object`: the summary's totals are the tracefile's.
#[test]
fn report_summary_and_cobertura_of_a_clang_program() {
    let d = set(19);
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    let o = ours(&[
        "report",
        &p("calc-run1.profraw"),
        &p("calc-run2.profraw"),
        "--object",
        &p("calc"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("19/23"),
        "lines 19 of 23 as llvm-cov's LH/LF: {s}"
    );
    let o = ours(&[
        "report",
        "--format",
        "cobertura",
        &p("calc-run1.profraw"),
        "--object",
        &p("calc"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("<coverage"));
    let o = ours(&[
        "report",
        "--format",
        "json",
        &p("calc-run1.profraw"),
        "--object",
        &p("calc"),
    ]);
    assert!(!o.status.success());
}

/// Our copy of libstdc++'s `std::sort` orders equal keys as g++'s does
/// (llvm-cov's BRDA numbering depends on it): arrays of many sizes with many
/// equal keys, including ones that reach the heapsort fallback.
#[test]
fn gnu_sort_orders_equal_keys_as_libstdcxx() {
    let t = common::Tmp::new("gnu-sort");
    let src = t.p("s.cc");
    std::fs::write(
        &src,
        r#"#include <algorithm>
#include <cstdio>
#include <vector>
int main() {
  unsigned x = 12345;
  for (int n = 0; n < 300; n += 7) {
    for (int mod : {3, 40}) {
      std::vector<std::pair<int, int>> v;
      for (int i = 0; i < n; i++) { x = x * 1103515245u + 12345u; v.push_back({(int)((x >> 16) % mod), i}); }
      if (mod == 40 && n > 100) std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a.second > b.second; });
      std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a.first < b.first; });
      for (auto &p : v) printf("%d ", p.second);
      printf("\n");
    }
  }
}
"#,
    )
    .unwrap();
    let exe = t.p("s");
    let o = common::run(Command::new("g++").args(["-O1", "-o"]).arg(&exe).arg(&src));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = common::run(&mut Command::new(&exe));
    let theirs = String::from_utf8(o.stdout).unwrap();
    let mut ours = String::new();
    let mut x: u32 = 12345;
    for n in (0..300).step_by(7) {
        for m in [3u32, 40] {
            let mut v: Vec<(u32, i32)> = (0..n)
                .map(|i| {
                    x = x.wrapping_mul(1103515245).wrapping_add(12345);
                    ((x >> 16) % m, i)
                })
                .collect();
            if m == 40 && n > 100 {
                v.reverse();
            }
            xencov::llvm::coverage::gnu_sort::sort(&mut v, &|a, b| a.0 < b.0);
            for p in &v {
                ours += &format!("{} ", p.1);
            }
            ours += "\n";
        }
    }
    assert_eq!(theirs, ours);
}

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

/// The file offset of an ELF section, from binutils' `readelf -S -W` (not
/// from our reader).
fn section_offset(elf: &std::path::Path, name: &str) -> usize {
    let o = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(elf)
        .output()
        .unwrap();
    assert!(o.status.success(), "readelf: {}", err(&o));
    let text = out(&o);
    let line = text
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .unwrap_or_else(|| panic!("{}: no {name} in\n{text}", elf.display()));
    // [Nr] Name Type Address Off Size ...: the offset follows the address.
    let fields: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
    usize::from_str_radix(fields[3], 16).unwrap()
}

/// `check` reads the coverage mapping version of each real clang binary
/// and says its clang and its profile belong to it: clang 14 writes field 5
/// (LLVM's Version6), clang 18 and later field 6 (Version7), as LLVM's
/// `CovMapVersion` table says; the bytes `readelf` finds at the section's
/// offset are what `check` reports.
#[test]
fn check_names_the_coverage_mapping_version_of_each_clang() {
    // (clang, mapping field, the releases that write both it and the
    // release's raw profile version)
    for (clang, field, both) in [
        (14, 5, "14-17"),
        (18, 6, "18"),
        (19, 6, "19-21"),
        (21, 6, "19-21"),
    ] {
        let dir = format!("samples/llvm/clang-{clang}");
        let elf = common::root().join(&dir).join("calc");
        let bytes = std::fs::read(&elf).unwrap();
        let at = section_offset(&elf, "__llvm_covmap") + 12;
        assert_eq!(
            u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()),
            field,
            "{dir}: the version field readelf's offset points at"
        );
        let o = ours(&[
            "check",
            &format!("{dir}/calc"),
            &format!("{dir}/calc-run1.profraw"),
        ]);
        let text = out(&o);
        assert_eq!(o.status.code(), Some(0), "{dir}: {text}{}", err(&o));
        let name = format!("{field} (Version{})", field + 1);
        assert!(
            text.contains(&format!(
                "coverage mapping version {name} in {dir}/calc (from __llvm_covmap)"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "same format: clang {clang} writes coverage mapping version {name}"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "mapping version {name} are both written by clang {both}"
            )),
            "{text}"
        );
    }
    // JSON: the file and its versions.
    let o = ours(&["check", "--json", CALC, RUN1]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["mappings"],
        serde_json::json!([{"file": CALC, "versions": [6]}])
    );
}

/// A copy of the clang 19 binary whose `__llvm_covmap` version field says 5
/// (clang 13-17's Version6): `check` calls the mapping clang 19's not, and
/// not that of the version 10 profile, with the releases that write it, and
/// exits 1.
#[test]
fn check_refuses_a_mapping_version_its_clang_does_not_write() {
    let t = common::Tmp::new("llvm-cli-covmap-version");
    let src = common::root().join(CALC);
    let mut bytes = std::fs::read(&src).unwrap();
    let at = section_offset(&src, "__llvm_covmap") + 12;
    assert_eq!(bytes[at..at + 4], [6, 0, 0, 0]);
    bytes[at] = 5;
    let elf = t.p("calc");
    std::fs::write(&elf, &bytes).unwrap();
    let elf_s = elf.to_str().unwrap();
    let o = ours(&["check", elf_s, RUN1]);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", err(&o));
    assert!(
        text.contains(&format!(
            "INCOMPATIBLE: clang 19 writes coverage mapping version 6 (Version7), but {elf_s}'s \
             __llvm_covmap is version 5 (Version6, written by clang 13-17)"
        )),
        "{text}"
    );
    assert!(
        text.contains("what to do: objects of another clang were linked in, or the file was altered: rebuild with one clang; llvm-cov of clang 13-17 reads this mapping"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "INCOMPATIBLE: raw profile version 10 is written by clang 19-21, {elf_s}'s coverage \
             mapping version 5 (Version6) by clang 13-17"
        )),
        "{text}"
    );
    // The raw profile still agrees with the clang release: that pair is not
    // what failed.
    assert!(
        text.contains("same format: clang 19 writes raw profile version 10"),
        "{text}"
    );
    // A header cut short: an error naming the file and the offset, exit 2.
    let cut = t.p("cut");
    let mut bytes = std::fs::read(&src).unwrap();
    // The first header's file-names size made to reach past the section's end.
    bytes[at - 8..at - 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&cut, &bytes).unwrap();
    let o = ours(&["check", cut.to_str().unwrap(), RUN1]);
    assert_eq!(o.status.code(), Some(2), "{}{}", out(&o), err(&o));
    assert!(
        err(&o).contains("cut") && err(&o).contains(&format!("offset {}", at + 4)),
        "{}",
        err(&o)
    );
}

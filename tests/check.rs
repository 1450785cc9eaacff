//! `xencov-rs check` on real files: ELF objects built here by gcc-11, gcc-12
//! and the powerpc64 cross compiler (their `.comment` strings differ), a
//! shared object linked from objects of two compilers, a stripped object,
//! and the data and notes samples of each compiler. Verdicts are asserted
//! through `--json`; exit codes 0 (all agree), 1 (incompatible), 2 (bad input).

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Objects compiled once per test run.
struct Objects {
    gcc11: PathBuf,
    gcc12: PathBuf,
    ppc64: PathBuf,
    mixed: PathBuf,
    stripped: PathBuf,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn objects() -> &'static Objects {
    static OBJECTS: OnceLock<Objects> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("xencov-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("unit.c");
        std::fs::write(&src, "int unit_a(int x) { return x * 3 + 1; }\n").unwrap();
        let src2 = dir.join("unit2.c");
        std::fs::write(&src2, "int unit_b(int x) { return x - 7; }\n").unwrap();
        let o = |name: &str| dir.join(name);
        run(Command::new("gcc-11")
            .args(["-c", "-fPIC"])
            .arg(&src)
            .arg("-o")
            .arg(o("a11.o")));
        run(Command::new("gcc-12")
            .args(["-c", "-fPIC"])
            .arg(&src)
            .arg("-o")
            .arg(o("a12.o")));
        run(Command::new("gcc-12")
            .args(["-c", "-fPIC"])
            .arg(&src2)
            .arg("-o")
            .arg(o("b12.o")));
        run(Command::new("powerpc64-linux-gnu-gcc")
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(o("appc.o")));
        // A shared object linked from a gcc-11 and a gcc-12 object lists both.
        run(Command::new("gcc-12")
            .arg("-shared")
            .arg(o("a11.o"))
            .arg(o("b12.o"))
            .arg("-o")
            .arg(o("mixed.so")));
        run(Command::new("strip")
            .args(["-R", ".comment"])
            .arg(o("a12.o"))
            .arg("-o")
            .arg(o("stripped.o")));
        Objects {
            gcc11: o("a11.o"),
            gcc12: o("a12.o"),
            ppc64: o("appc.o"),
            mixed: o("mixed.so"),
            stripped: o("stripped.o"),
        }
    })
}

fn check(args: &[&Path]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("check")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        code,
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn samples(rel: &str) -> PathBuf {
    common::samples().join(rel)
}

/// The verdict on the pair whose labels start with `a` and `b`.
fn verdict<'a>(json: &'a Value, a: &str, b: &str) -> &'a Value {
    json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["a"].as_str().unwrap().starts_with(a) && v["b"].as_str().unwrap().starts_with(b)
        })
        .unwrap_or_else(|| panic!("no verdict {a} vs {b} in {json:#}"))
}

fn compilers(json: &Value) -> Vec<String> {
    json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["role"] == "compiler")
        .map(|s| s["banner"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_compilers_here_are_told_apart_by_their_comment_strings() {
    let o = objects();
    let gcov12 = Path::new("gcov-12");
    let banner = |obj: &Path| {
        let (_, j, _) = check(&[Path::new("--xen-syms"), obj, Path::new("--gcov"), gcov12]);
        let found = compilers(&j);
        assert_eq!(found.len(), 1, "{found:?}");
        found[0].clone()
    };
    let (b11, b12, bppc) = (banner(&o.gcc11), banner(&o.gcc12), banner(&o.ppc64));
    assert!(
        b11.starts_with("GCC: (Debian 11.3.") && b11.ends_with(" 11.3.0"),
        "{b11}"
    );
    assert!(
        b12.starts_with("GCC: (Debian 12.2.") && b12.ends_with(" 12.2.0"),
        "{b12}"
    );
    assert!(
        bppc.starts_with("GCC: (Debian 12.2.") && bppc.ends_with(" 12.2.0"),
        "{bppc}"
    );
    // The cross compiler is a different Debian build of the same release.
    assert_ne!(b12, bppc);
}

#[test]
fn matching_build_agrees() {
    let o = objects();
    // ppc64 gcc-12 object, its big-endian data and notes, and gcov-12: all B22*.
    let (code, j, err) = check(&[
        Path::new("--xen-syms"),
        &o.ppc64,
        &samples("ppc64-gcc-12/calc/run1"),
        Path::new("--gcov"),
        Path::new("gcov-12"),
    ]);
    assert_eq!(code, 0, "{err} {j:#}");
    assert_eq!(j["status"], "ok");
    assert_eq!(
        verdict(&j, "compiler GCC 12.2", "data B22*")["agreement"],
        "same"
    );
    assert_eq!(verdict(&j, "data B22*", "notes B22*")["agreement"], "same");
    assert_eq!(verdict(&j, "data B22*", "gcov B22*")["agreement"], "same");
}

#[test]
fn gcov_of_another_release_is_incompatible_with_advice() {
    let (code, j, _) = check(&[
        &samples("gcc-11/calc/run1"),
        Path::new("--gcov"),
        Path::new("gcov-12"),
    ]);
    assert_eq!(code, 1);
    let v = verdict(&j, "data B13*", "gcov B22*");
    assert_eq!(v["agreement"], "incompatible");
    assert!(v["why"].as_str().unwrap().contains("prefer 'B22*'"));
    let advice = v["advice"].as_str().unwrap();
    assert!(
        advice.contains("--gcov-tool gcov-11") && advice.contains("xencov-rs lcov"),
        "{advice}"
    );
}

#[test]
fn xen_syms_of_another_compiler_is_incompatible() {
    let o = objects();
    let (code, j, _) = check(&[
        Path::new("--xen-syms"),
        &o.gcc11,
        &samples("xen/gcc-12/calc-run1.xcov"),
        Path::new("--gcov"),
        Path::new("gcov-12"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        verdict(&j, "compiler GCC 11.3", "data B22*")["agreement"],
        "incompatible"
    );
    // Every record of the dump was seen.
    let data = j["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"] == "data")
        .unwrap();
    assert_eq!(data["count"], 4);
}

#[test]
fn several_compilers_in_one_elf_file() {
    let o = objects();
    let (code, j, _) = check(&[
        Path::new("--xen-syms"),
        &o.mixed,
        &samples("gcc-12/calc/run1"),
        Path::new("--gcov"),
        Path::new("gcov-12"),
    ]);
    let found = compilers(&j);
    assert!(
        found.iter().any(|c| c.contains("11.3.0")) && found.iter().any(|c| c.contains("12.2.0")),
        "{found:?}"
    );
    // GCC 11.3 disagrees with the B22* data, but GCC 12.2 of the same file agrees.
    let v = verdict(&j, "compiler GCC 11.3", "data B22*");
    assert_eq!(
        (v["agreement"].as_str(), v["decisive"].as_bool()),
        (Some("incompatible"), Some(false))
    );
    assert_eq!(
        verdict(&j, "compiler GCC 12.2", "data B22*")["agreement"],
        "same"
    );
    assert_eq!(code, 0, "{j:#}");
}

#[test]
fn a_stripped_object_names_no_compiler() {
    let o = objects();
    let (code, j, err) = check(&[
        Path::new("--xen-syms"),
        &o.stripped,
        &samples("gcc-12/calc/run1"),
        Path::new("--gcov"),
        Path::new("gcov-12"),
    ]);
    assert_eq!(code, 0);
    assert!(compilers(&j).is_empty());
    assert!(err.contains("no .comment section"), "{err}");
}

#[test]
fn notes_and_data_of_different_compilers() {
    let (code, j, _) = check(&[
        &samples("gcc-11/calc/run1/main.gcda"),
        Path::new("--gcno-dir"),
        &samples("gcc-12/calc/run1"),
        Path::new("--gcov"),
        Path::new("gcov-12"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        verdict(&j, "data B13*", "notes B22*")["agreement"],
        "incompatible"
    );
}

#[test]
fn bad_input_exits_2() {
    let dir = std::env::temp_dir().join(format!("xencov-check-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.gcda");
    std::fs::write(&bad, b"adcg\x01\x02").unwrap();
    let (code, _, err) = check(&[&bad]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.gcda"), "{err}");
    let (code, _, _) = check(&[&dir.join("missing")]);
    assert_eq!(code, 2);
}

/// Xen's release told from a real hypervisor object (`samples/xen-syms`:
/// `common/version.o` of real coverage builds of Xen 4.20.4 and 4.21.2 with
/// gcc-14, made by scripts/gen-xen-syms): Xen 4.20 lays out `gcov_info` for
/// at most 8 counter kinds, so a GCC 14 build's dump cannot be trusted;
/// Xen 4.21 knows GCC 14's nine.
#[test]
fn xen_4_20_built_with_gcc_14_is_untrustworthy_and_4_21_is_fine() {
    let old = samples("xen-syms/xen-4.20.4-gcc-14-version.o");
    let (code, json, _) = check(&[Path::new("--xen-syms"), &old]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["xen"][0]["release"]["minor"], 20, "{json:#}");
    let v = verdict(&json, "hypervisor Xen 4.20", "compiler GCC 14.2");
    assert_eq!(v["agreement"], "incompatible");
    assert_eq!(v["decisive"], true);
    assert!(
        v["why"]
            .as_str()
            .unwrap()
            .contains("at most 8 counter kinds")
    );
    let advice = v["advice"].as_str().unwrap();
    assert!(
        advice.contains("Xen 4.21 or newer") && advice.contains("GCC 13 or older"),
        "{advice}"
    );

    let new = samples("xen-syms/xen-4.21.2-gcc-14-version.o");
    let (_, json, _) = check(&[Path::new("--xen-syms"), &new]);
    assert_eq!(json["xen"][0]["release"]["minor"], 21, "{json:#}");
    let v = verdict(&json, "hypervisor Xen 4.21", "compiler GCC 14.2");
    assert_eq!(v["agreement"], "compatible", "{v:#}");

    // An ELF file that is no hypervisor names no Xen release.
    let (_, json, _) = check(&[Path::new("--xen-syms"), &objects().gcc12]);
    assert_eq!(json["xen"].as_array().unwrap().len(), 0, "{json:#}");
}

/// GCC 16 data gets a verdict like any other release: its layout is GCC 15's
/// (real files of both), GCC 14's differs (one counter kind fewer).
#[test]
fn gcc_16_data_gets_a_verdict() {
    let (g14, g15, g16) = (
        samples("gcc-14/calc/run1/ops.gcda"),
        samples("gcc-15/calc/run1/ops.gcda"),
        samples("gcc-16/calc/run1/ops.gcda"),
    );
    let (code, json, err) = check(&[&g15, &g16]);
    assert!(code == 0 || code == 1, "{err}");
    let v = verdict(&json, "data B53*", "data B62*");
    assert_eq!(v["agreement"], "compatible", "{v:#}");
    let (code, json, _) = check(&[&g14, &g16]);
    assert_eq!(code, 1);
    let v = verdict(&json, "data B42*", "data B62*");
    assert_eq!(v["agreement"], "incompatible", "{v:#}");
}

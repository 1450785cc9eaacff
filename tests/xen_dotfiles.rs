//! Xen names its objects `.foo.o` (compiled as `.foo.o.tmp`), so its notes
//! are `.foo.o.gcno` and the dump records `.foo.o.gcda`. lcov 1.16's geninfo
//! collects gcov's output with Perl's `glob("*.gcov.json.gz")`, which skips
//! dot files: `split` + `lcov --capture` silently loses every unit. A tiny
//! tree built the way Xen builds (real gcc-12, the Xen stand-in runtime
//! tests/xen-hv/xen_gcov.c instead of libgcov) shows the loss with the real
//! lcov, and that `split --undot` makes the recipe work, with lcov's result
//! equal to `xencov-rs lcov` on the dot-named tree.

mod common;

use common::{Tmp, run, sorted_lines};
use std::path::Path;
use std::process::{Command, Output};

const UNITS: [&str; 4] = ["main", "ops", "parse", "unused"];

fn ours(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .output()
        .unwrap()
}

/// Builds samples/src/calc in `dir` as Xen builds (objects `.u.o.tmp`, so
/// the notes are `.u.o.gcno`), runs it once and returns the dump.
fn xen_style_build(t: &Tmp) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = t.p("xen");
    std::fs::create_dir_all(&dir).unwrap();
    let src = common::samples().join("src/calc");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let mut objs = Vec::new();
    for u in UNITS {
        let obj = format!(".{u}.o.tmp");
        run(Command::new("gcc-12")
            .current_dir(&dir)
            .args(["-Wall", "-fprofile-arcs", "-ftest-coverage", "-O0", "-c"])
            .arg(format!("{u}.c"))
            .arg("-o")
            .arg(&obj));
        assert!(dir.join(format!(".{u}.o.gcno")).is_file(), "{u}");
        objs.push(obj);
    }
    let rt = t.p("xen_gcov.o");
    run(Command::new("gcc-12")
        .args(["-O2", "-c"])
        .arg(common::root().join("tests/xen-hv/xen_gcov.c"))
        .arg("-o")
        .arg(&rt));
    run(Command::new("gcc-12")
        .current_dir(&dir)
        .args(["-O0", "-o", "calc-xen"])
        .args(&objs)
        .arg(&rt));
    let dump = t.p("xen.xcov");
    run(Command::new(dir.join("calc-xen"))
        .current_dir(&dir)
        .env("XEN_HV_DUMP", &dump)
        .args(["3", "4", "+", "5", "*", "6", "!", "10", "F"]));
    (dir, dump)
}

/// `lcov --capture` of `dir` with gcov-12, its records with data.
fn capture(dir: &Path, out: &Path) -> Vec<String> {
    run(Command::new("lcov")
        .args(["--capture", "--quiet", "--rc", "lcov_branch_coverage=1"])
        .args(["--gcov-tool", "gcov-12", "-d"])
        .arg(dir)
        .arg("-o")
        .arg(out));
    sorted_lines(out)
}

#[test]
fn split_undot_lets_lcov_capture_see_xens_dot_named_units() {
    let t = Tmp::new("dotfiles");
    let (dir, dump) = xen_style_build(&t);
    let strip = format!("{}/", dir.display());

    // The usual recipe: split into the build tree, then lcov --capture.
    let o = ours(&[
        "split".as_ref(),
        dump.as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
        "--strip-prefix".as_ref(),
        strip.as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("4 gcda files have names that start with a dot")
            && stderr.contains("--undot"),
        "{stderr}"
    );
    for u in UNITS {
        assert!(dir.join(format!(".{u}.o.gcda")).is_file(), "{u}");
    }
    let lost = capture(&dir, &t.p("lost.info"));
    assert!(
        !lost.iter().any(|l| l.starts_with("SF:")),
        "lcov 1.16 sees no unit of a dot-named tree: {lost:?}"
    );

    // Ours reads the dot-named tree as it is: the reference.
    let reference = t.p("ours.info");
    let o = ours(&[
        "lcov".as_ref(),
        dump.as_os_str(),
        "--gcno-dir".as_ref(),
        dir.as_os_str(),
        "--prefix-map".as_ref(),
        format!("{}=", dir.display()).as_ref(),
        "-o".as_ref(),
        reference.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // With --undot: foo.o.gcda, and foo.o.gcno linked to .foo.o.gcno.
    for u in UNITS {
        std::fs::remove_file(dir.join(format!(".{u}.o.gcda"))).unwrap();
    }
    let o = ours(&[
        "split".as_ref(),
        dump.as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
        "--strip-prefix".as_ref(),
        strip.as_ref(),
        "--undot".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("4 with notes linked"), "{stderr}");
    for u in UNITS {
        assert!(dir.join(format!("{u}.o.gcda")).is_file(), "{u}");
        assert!(!dir.join(format!(".{u}.o.gcda")).exists(), "{u}");
        let link = std::fs::read_link(dir.join(format!("{u}.o.gcno"))).unwrap();
        assert_eq!(link, Path::new(&format!(".{u}.o.gcno")));
    }
    let work = t.p("work");
    std::fs::create_dir_all(&work).unwrap();
    let theirs = common::lcov_capture(&dir, "gcov-12", &work);
    assert_eq!(
        theirs.iter().filter(|l| l.starts_with("SF:")).count(),
        UNITS.len() + 1, // and calc.h
        "{theirs:?}"
    );
    assert_eq!(sorted_lines(&reference), theirs);
    // A second --undot split over the same tree is fine (links kept).
    let o = ours(&[
        "split".as_ref(),
        dump.as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
        "--strip-prefix".as_ref(),
        strip.as_ref(),
        "--undot".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Split elsewhere than the build tree, --undot finds no notes to link:
/// a warning (an error with --strict) that says what lcov needs.
#[test]
fn split_undot_away_from_the_notes_says_so() {
    let t = Tmp::new("dotfiles-away");
    let (dir, dump) = xen_style_build(&t);
    let out = t.p("elsewhere");
    let strip = format!("{}/", dir.display());
    let args = |strict: bool| {
        let mut a: Vec<std::ffi::OsString> = vec![
            "split".into(),
            dump.clone().into(),
            "-o".into(),
            out.clone().into(),
            "--strip-prefix".into(),
            strip.clone().into(),
            "--undot".into(),
        ];
        if strict {
            a.push("--strict".into());
        }
        a
    };
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args(false))
        .output()
        .unwrap();
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("no dot-named notes file beside 4"),
        "{stderr}"
    );
    assert!(out.join("main.o.gcda").is_file());
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args(true))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

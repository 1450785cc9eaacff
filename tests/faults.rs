//! Outputs under faults: `split`, `merge`, `lcov -o`, `report -o` and
//! `read -o`, stopped (XENCOV_FAULT, see src/cli/output.rs) in the middle of
//! writing an output and right before and after renaming it, leave every
//! output path with either its old content or the complete new one; a full
//! disk (a small tmpfs) gives a clear error, keeps old content and removes
//! the temporary files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use xencov::Endian;
use xencov::xen::dump::{Container, encode_container};

/// A scratch directory whose `small` tmpfs, if mounted, is unmounted first.
struct Tmp(common::Tmp);
impl Tmp {
    fn new(name: &str) -> Tmp {
        Tmp(common::Tmp::new(&format!("faults-{name}")))
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.0.p(rel)
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg(self.p("small"))
            .stderr(Stdio::null())
            .status();
    }
}

/// A dump of `copies` copies of the gcc-12 sample units under distinct paths.
fn big_dump(copies: usize) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let src = std::fs::read(common::samples().join("xen/gcc-12/calc-run1.xcov")).unwrap();
    let c = Container::parse(&src).unwrap();
    let mut units = Vec::new();
    for i in 0..copies {
        for u in &c.units {
            let name = Path::new(std::str::from_utf8(u.path).unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            units.push((format!("/build/d{}/u{i}/{name}", i % 7), u.payload.to_vec()));
        }
    }
    let dump = encode_container(
        Endian::Little,
        units.iter().map(|(p, b)| (p.as_bytes(), b.as_slice())),
    );
    (dump, units)
}

fn xencov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
}

/// Runs `cmd` with `XENCOV_FAULT=fault`: it must stop there, as a process
/// killed at that moment would (abort: no destructors, no cleanup).
fn stopped_at(cmd: &mut Command, fault: &str) {
    use std::os::unix::process::ExitStatusExt;
    let o = cmd.env("XENCOV_FAULT", fault).output().unwrap();
    let point = fault.split(':').next().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.signal(),
        Some(6),
        "{fault}: the process did not stop at the fault point: {:?} {err}",
        o.status
    );
    assert!(
        err.contains(&format!("stopping at {point}")),
        "{fault}: {err}"
    );
}

/// Every output path holds its old content or the complete new one;
/// returns how many hold the new one.
fn old_or_new(outputs: &[(PathBuf, Vec<u8>, Vec<u8>)], what: &str) -> usize {
    let mut new = 0;
    for (p, old, complete) in outputs {
        let got = std::fs::read(p).unwrap();
        if got == *complete {
            new += 1;
        } else {
            assert!(
                got == *old,
                "{what}: {} is neither old nor new ({} bytes)",
                p.display(),
                got.len()
            );
        }
    }
    new
}

fn write_old(outputs: &[(PathBuf, Vec<u8>, Vec<u8>)]) {
    for (p, old, _) in outputs {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, old).unwrap();
    }
}

/// split writes its files one after the other: stopped in the middle of the
/// Nth file's write or before its rename, exactly N-1 files are new and the
/// rest old; stopped after the Nth rename, exactly N are new.
#[test]
fn split_stopped_at_a_write_or_a_rename_leaves_old_or_complete_files() {
    let t = Tmp::new("split-stop");
    let (dump, units) = big_dump(30);
    std::fs::write(t.p("d.xcov"), &dump).unwrap();
    let out = t.p("out");
    let outputs: Vec<(PathBuf, Vec<u8>, Vec<u8>)> = units
        .iter()
        .enumerate()
        .map(|(i, (path, payload))| {
            let old = format!("old content {i}").into_bytes();
            (out.join(&path[1..]), old, payload.clone())
        })
        .collect();
    for (fault, expect_new) in [
        ("mid-write:1", 0),
        ("mid-write:40", 39),
        ("before-rename:1", 0),
        ("before-rename:77", 76),
        ("after-rename:77", 77),
    ] {
        write_old(&outputs);
        stopped_at(
            xencov().arg("split").arg(t.p("d.xcov")).arg("-o").arg(&out),
            fault,
        );
        assert_eq!(old_or_new(&outputs, fault), expect_new, "{fault}");
    }
    let o = xencov()
        .arg("split")
        .arg(t.p("d.xcov"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(old_or_new(&outputs, "complete"), outputs.len());
}

/// A command with one output file: stopped in the middle of its write or
/// before its rename, the old file is there; after the rename, the complete
/// new one (the same as an undisturbed run writes).
fn one_output_stopped(what: &str, t: &Tmp, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) {
    let out = t.p(&format!("{what}.out"));
    let reference = t.p(&format!("{what}.reference"));
    let run = |o: &Path| {
        let mut c = xencov();
        c.args(args).arg("-o").arg(o).envs(env.iter().copied());
        c
    };
    let r = run(&reference).output().unwrap();
    assert!(
        r.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let complete = std::fs::read(&reference).unwrap();
    assert!(complete.len() > 100, "{what}");
    let old = format!("the old {what} output").into_bytes();
    let outputs = [(out.clone(), old, complete)];
    for (fault, expect_new) in [("mid-write", 0), ("before-rename", 0), ("after-rename", 1)] {
        write_old(&outputs);
        stopped_at(&mut run(&out), fault);
        assert_eq!(old_or_new(&outputs, what), expect_new, "{what} {fault}");
    }
}

#[test]
fn merge_lcov_and_report_stopped_at_the_write_or_the_rename_keep_the_old_output() {
    let t = Tmp::new("one-output-stop");
    let (a, _) = big_dump(40);
    std::fs::write(t.p("a.xcov"), &a).unwrap();
    std::fs::write(t.p("b.xcov"), &a).unwrap();
    let (ta, tb) = (t.p("a.xcov"), t.p("b.xcov"));
    one_output_stopped(
        "merge",
        &t,
        &["merge".as_ref(), ta.as_os_str(), tb.as_os_str()],
        &[],
    );
    let run1 = common::samples().join("gcc-12/calc/run1");
    let run2 = common::samples().join("gcc-12/calc/run2");
    let notes = ["--gcno-dir".as_ref(), run1.as_os_str()];
    let (r1, r2) = (run1.as_os_str(), run2.as_os_str());
    one_output_stopped(
        "lcov",
        &t,
        &[&["lcov".as_ref(), r1, r2][..], &notes].concat(),
        &[],
    );
    for format in ["summary", "json", "cobertura"] {
        let args = [
            &["report".as_ref(), r1, r2][..],
            &notes,
            &["--format".as_ref(), format.as_ref()],
        ]
        .concat();
        // Cobertura carries a timestamp: fixed, or a second ticking between
        // the reference run and the stopped one would tell them apart.
        one_output_stopped(
            &format!("report-{format}"),
            &t,
            &args,
            &[("SOURCE_DATE_EPOCH", "1700000000")],
        );
    }
}

/// merge --to gcda --replace writes its tree in parallel beside the old
/// one: wherever it stops, each file is old or complete.
#[test]
fn merge_to_a_tree_stopped_at_a_write_or_a_rename_leaves_old_or_complete_files() {
    let t = Tmp::new("merge-tree-stop");
    let runs: Vec<PathBuf> = (1..=2)
        .map(|r| common::samples().join(format!("gcc-12-pg/vp/run{r}")))
        .collect();
    let reference = t.p("reference");
    let o = xencov()
        .arg("merge")
        .args(&runs)
        .args(["--to", "gcda", "-o"])
        .arg(&reference)
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = t.p("out");
    let outputs: Vec<(PathBuf, Vec<u8>, Vec<u8>)> = common::files_with_suffix(&reference, ".gcda")
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&reference).unwrap().to_path_buf();
            (out.join(&rel), b"old".to_vec(), std::fs::read(&f).unwrap())
        })
        .collect();
    assert_eq!(outputs.len(), 4);
    for fault in [
        "mid-write:1",
        "mid-write:3",
        "before-rename:2",
        "after-rename:1",
    ] {
        write_old(&outputs);
        stopped_at(
            xencov()
                .arg("merge")
                .args(&runs)
                .args(["--to", "gcda", "--replace", "-o"])
                .arg(&out),
            fault,
        );
        let new = old_or_new(&outputs, fault);
        assert!(new < outputs.len(), "{fault}: every file new");
    }
}

/// `read -o` through the fake hypervisor (tests/fake-xen).
#[test]
fn read_stopped_at_the_write_or_the_rename_keeps_the_old_dump() {
    let t = Tmp::new("read-stop");
    let lib = t.p("fake");
    let status = Command::new("sh")
        .arg(common::root().join("tests/fake-xen/build.sh"))
        .arg(&lib)
        .status()
        .expect("a C compiler builds the fake hypervisor");
    assert!(status.success());
    let preload = lib.join("libfakexen.so").display().to_string();
    let dump = common::samples()
        .join("xen/gcc-12/calc-run1.xcov")
        .display()
        .to_string();
    let state = t.p("state").display().to_string();
    let env = [
        ("LD_PRELOAD", preload.as_str()),
        ("FAKE_XEN_DUMP", dump.as_str()),
        ("FAKE_XEN_STATE", state.as_str()),
    ];
    one_output_stopped("read", &t, &["read".as_ref()], &env);
    assert_eq!(
        std::fs::read(t.p("read.reference")).unwrap(),
        std::fs::read(&dump).unwrap()
    );
}

/// A small tmpfs at `dir` (root only: CI runs as root).
fn small_fs(dir: &Path, size: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let o = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "mounting a tmpfs needs root: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    common::files_with_suffix(dir, ".tmp")
}

#[test]
fn a_full_disk_is_a_clear_error_that_keeps_old_content_and_no_temporary_files() {
    let t = Tmp::new("full");
    let small = t.p("small");
    small_fs(&small, "256k");
    let (dump, units) = big_dump(300);
    assert!(dump.len() > 300 * 1024);
    std::fs::write(t.p("d.xcov"), &dump).unwrap();

    // split: stops with ENOSPC; what was written is complete; no temporaries.
    let out = small.join("tree");
    let o = xencov()
        .arg("split")
        .arg(t.p("d.xcov"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("No space left on device") && err.contains("cannot write"),
        "{err}"
    );
    assert!(temporaries(&small).is_empty(), "{:?}", temporaries(&small));
    let mut complete = 0;
    for (path, payload) in &units {
        if let Ok(got) = std::fs::read(out.join(&path[1..])) {
            assert_eq!(&got, payload, "{path} is half-written");
            complete += 1;
        }
    }
    assert!(complete > 0 && complete < units.len());
    std::fs::remove_dir_all(&out).unwrap();

    // merge to a dump over an old one: the old one stays.
    let old = small.join("merged.xcov");
    std::fs::write(&old, b"the old merged profile").unwrap();
    let o = xencov()
        .arg("merge")
        .arg(t.p("d.xcov"))
        .arg("-o")
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("No space left on device"));
    assert_eq!(std::fs::read(&old).unwrap(), b"the old merged profile");
    assert!(temporaries(&small).is_empty());
}

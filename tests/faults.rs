//! Outputs under faults: `split` and `merge` killed with SIGKILL at many
//! points while writing leave every output path with either its old content
//! or the complete new one; a full disk (a small tmpfs) gives a clear error,
//! keeps old content and removes the temporary files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use xencov_rs::Endian;
use xencov_rs::dump::{Container, encode_container};

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

/// Runs `cmd`, kills it with SIGKILL after `delay` (if still running).
fn kill_after(cmd: &mut Command, delay: Duration) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

#[test]
fn split_killed_at_many_points_leaves_old_or_complete_files() {
    let t = Tmp::new("split-kill");
    let (dump, units) = big_dump(300);
    std::fs::write(t.p("d.xcov"), &dump).unwrap();
    let out = t.p("out");
    // Old content at every path first.
    for (i, (path, _)) in units.iter().enumerate() {
        let p = out.join(&path[1..]);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("old content {i}")).unwrap();
    }
    for k in 0..12u64 {
        kill_after(
            xencov().arg("split").arg(t.p("d.xcov")).arg("-o").arg(&out),
            Duration::from_millis(5 + 35 * k),
        );
        let mut new = 0;
        for (i, (path, payload)) in units.iter().enumerate() {
            let got = std::fs::read(out.join(&path[1..])).unwrap();
            if got == *payload {
                new += 1;
            } else {
                assert_eq!(
                    got,
                    format!("old content {i}").into_bytes(),
                    "kill {k}: {path} is neither old nor new"
                );
            }
        }
        if k == 0 {
            assert!(
                new < units.len(),
                "the first kill should land before the end"
            );
        }
    }
    let o = xencov()
        .arg("split")
        .arg(t.p("d.xcov"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    for (path, payload) in &units {
        assert_eq!(&std::fs::read(out.join(&path[1..])).unwrap(), payload);
    }
}

#[test]
fn merge_killed_at_many_points_leaves_the_old_or_the_complete_output() {
    let t = Tmp::new("merge-kill");
    let (a, _) = big_dump(400);
    std::fs::write(t.p("a.xcov"), &a).unwrap();
    std::fs::write(t.p("b.xcov"), &a).unwrap();
    let reference = t.p("reference.xcov");
    let o = xencov()
        .arg("merge")
        .arg(t.p("a.xcov"))
        .arg(t.p("b.xcov"))
        .arg("-o")
        .arg(&reference)
        .output()
        .unwrap();
    assert!(o.status.success());
    let complete = std::fs::read(&reference).unwrap();
    let out = t.p("out.xcov");
    std::fs::write(&out, b"the old merged profile").unwrap();
    let mut saw_old = false;
    for k in 0..12u64 {
        kill_after(
            xencov()
                .arg("merge")
                .arg(t.p("a.xcov"))
                .arg(t.p("b.xcov"))
                .arg("-o")
                .arg(&out),
            Duration::from_millis(2 + 15 * k),
        );
        let got = std::fs::read(&out).unwrap();
        if got == b"the old merged profile" {
            saw_old = true;
        } else {
            assert!(
                got == complete,
                "kill {k}: the output is neither old nor complete ({} bytes)",
                got.len()
            );
        }
    }
    assert!(saw_old, "no kill landed before the rename");
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

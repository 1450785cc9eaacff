//! `read` and `reset` against a fake hypervisor: tests/fake-xen/fake_xen.c,
//! an LD_PRELOAD library that intercepts libc's open/ioctl/mmap on
//! /dev/xen/* and checks every sysctl as Xen does. The same fake serves
//! Debian's real `xencov` (xen-utils-4.17), whose output ours must equal.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const XENCOV: &str = "/usr/lib/xen-4.17/bin/xencov";

fn fake_lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        // Built once per test binary: under cargo's target directory
        // (removed by `cargo clean`), not left in /tmp.
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fake-xen");
        let status = Command::new("sh")
            .arg(common::root().join("tests/fake-xen/build.sh"))
            .arg(&out)
            .status()
            .expect("a C compiler builds the fake hypervisor");
        assert!(status.success());
        out.join("libfakexen.so")
    })
}

/// A scratch directory with a fresh fake-hypervisor state log.
struct Hv {
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Hv {
    fn new(name: &str, dump: &Path) -> Hv {
        let dir = std::env::temp_dir().join(format!("xencov-hv-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let env = vec![
            ("LD_PRELOAD".into(), fake_lib().display().to_string()),
            ("FAKE_XEN_DUMP".into(), dump.display().to_string()),
            (
                "FAKE_XEN_STATE".into(),
                dir.join("state").display().to_string(),
            ),
        ];
        Hv { dir, env }
    }

    fn with(mut self, key: &str, value: &str) -> Hv {
        self.env.push((key.into(), value.into()));
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .envs(self.env.iter().cloned())
            .output()
            .unwrap()
    }

    fn ours(&self, args: &[&str]) -> Output {
        self.run(env!("CARGO_BIN_EXE_xencov-rs"), args)
    }

    fn state(&self) -> String {
        std::fs::read_to_string(self.path("state")).unwrap_or_default()
    }
}

impl Drop for Hv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sample(rel: &str) -> PathBuf {
    common::samples().join(rel)
}

#[test]
fn our_read_and_the_real_xencov_read_give_the_served_bytes() {
    assert!(
        Path::new(XENCOV).exists(),
        "{XENCOV} is missing: apt-get install xen-utils-4.17"
    );
    for set in ["gcc-11", "gcc-12", "ppc64-gcc-12"] {
        let dump = sample(&format!("xen/{set}/calc-run2.xcov"));
        let served = std::fs::read(&dump).unwrap();
        for no_device in [false, true] {
            let mut hv = Hv::new(&format!("read-{set}-{no_device}"), &dump);
            if no_device {
                // Tools before Xen 4.11: locked anonymous memory instead of /dev/xen/hypercall.
                hv = hv.with("FAKE_XEN_NO_HYPERCALL_DEV", "1");
            }
            let (ours, theirs) = (hv.path("ours"), hv.path("theirs"));
            let o = hv.ours(&["read", "-o", ours.to_str().unwrap()]);
            assert!(o.status.success(), "{set}: {}", err(&o));
            let t = hv.run(XENCOV, &["read", theirs.to_str().unwrap()]);
            assert!(t.status.success(), "{set}: xencov: {}", err(&t));
            assert_eq!(std::fs::read(&ours).unwrap(), served, "{set}");
            assert_eq!(std::fs::read(&theirs).unwrap(), served, "{set}");
            // And to standard output.
            let o = hv.ours(&["read"]);
            assert_eq!(o.stdout, served, "{set}");
        }
    }
}

#[test]
fn reset_does_what_the_real_xencov_reset_does() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    let ours = Hv::new("reset-ours", &dump);
    assert!(ours.ours(&["reset"]).status.success());
    let theirs = Hv::new("reset-theirs", &dump);
    assert!(theirs.run(XENCOV, &["reset"]).status.success());
    let resets = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("op=reset") || *l == "reset")
            .map(String::from)
            .collect()
    };
    let ours_log = resets(ours.state());
    assert_eq!(ours_log, resets(theirs.state()));
    assert_eq!(
        ours_log,
        ["sysctl cmd=20 iv=0x15 op=reset size=0 -> 0 size=0", "reset"]
    );
}

#[test]
fn read_reset_reads_then_resets() {
    let dump = sample("xen/gcc-11/calc-run1.xcov");
    let after = sample("xen/gcc-11/calc-run2.xcov");
    let hv =
        Hv::new("read-reset", &dump).with("FAKE_XEN_DUMP_AFTER_RESET", after.to_str().unwrap());
    let out = hv.path("out");
    let o = hv.ours(&["read", "--reset", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&dump).unwrap());
    let log = hv.state();
    let read_at = log.find("op=read").unwrap();
    assert!(log[read_at..].contains("op=reset"), "{log}");
    // After the reset the hypervisor serves the new counters.
    assert_eq!(hv.ours(&["read"]).stdout, std::fs::read(&after).unwrap());
}

#[test]
fn the_interface_version_of_every_release_is_found() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    for (iface, xen) in [
        ("0x16", "4.21+"),
        ("0x15", "4.17-4.20"),
        ("0x13", "4.14-4.15"),
        ("0x0f", "4.9"),
    ] {
        let hv = Hv::new(&format!("iface-{iface}"), &dump).with("FAKE_XEN_INTERFACE", iface);
        let o = hv.ours(&["read"]);
        assert!(o.status.success(), "{iface}: {}", err(&o));
        assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
        assert!(
            err(&o).contains(&format!("sysctl interface {iface}, Xen {xen}")),
            "{}",
            err(&o)
        );
        // Newer versions were tried first and refused with EACCES, as Xen does.
        assert!(hv.state().lines().next().unwrap().contains("iv=0x16"));
    }
}

#[test]
fn legacy_hypervisors_use_the_old_op_and_read_and_reset_in_one_call() {
    let dump = sample("xen-legacy/xen-4.5-test_c.dat");
    let hv = Hv::new("legacy", &dump).with("FAKE_XEN_INTERFACE", "0x0b");
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
    assert!(err(&o).contains("Xen 4.5"), "{}", err(&o));
    let o = hv.ours(&["read", "--reset"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(hv.state().contains("op=read_and_reset"), "{}", hv.state());
}

#[test]
fn a_dump_that_grows_between_size_and_read_is_read_again() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    let served = hv_last_read(&dump, "2");
    assert!(served.0.status.success(), "{}", err(&served.0));
    assert_eq!(
        served.0.stdout, served.1,
        "ours equals the last bytes the hypervisor delivered"
    );
    assert!(served.1.len() > std::fs::read(&dump).unwrap().len());
    // Debian's xencov gives up at the first ENOBUFS.
    let hv = Hv::new("grow-xencov", &dump)
        .with("FAKE_XEN_GROW", "record")
        .with("FAKE_XEN_GROW_TIMES", "1");
    let t = hv.run(XENCOV, &["read", hv.path("t").to_str().unwrap()]);
    assert!(!t.status.success());

    // A dump that never stops growing: a bounded number of tries, no file.
    let hv = Hv::new("grow-forever", &dump).with("FAKE_XEN_GROW", "record");
    let out = hv.path("out");
    let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("kept growing"), "{}", err(&o));
    assert!(!out.exists());
    assert_eq!(hv.state().matches("op=read").count(), 8);
}

fn hv_last_read(dump: &Path, times: &str) -> (Output, Vec<u8>) {
    let hv = Hv::new(&format!("grow-{times}"), dump)
        .with("FAKE_XEN_GROW", "record")
        .with("FAKE_XEN_GROW_TIMES", times);
    let last = hv.path("last");
    let hv = hv.with("FAKE_XEN_LAST_READ", last.to_str().unwrap());
    let o = hv.ours(&["read"]);
    let bytes = std::fs::read(&last).unwrap_or_default();
    (o, bytes)
}

#[test]
fn eintr_and_eagain_are_retried() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    for var in ["FAKE_XEN_EINTR", "FAKE_XEN_EAGAIN"] {
        let hv = Hv::new(var, &dump).with(var, "3");
        let o = hv.ours(&["read"]);
        assert!(o.status.success(), "{var}: {}", err(&o));
        assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
    }
    let hv = Hv::new("eintr-forever", &dump).with("FAKE_XEN_EINTR", "1000");
    let o = hv.ours(&["read"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("EINTR"), "{}", err(&o));
}

#[test]
fn every_failure_has_its_own_message() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("FAKE_XEN_ABSENT", "1")], "not running on Xen"),
        (&[("FAKE_XEN_OPEN_ERRNO", "EACCES")], "root in dom0"),
        (&[("FAKE_XEN_PRIVILEGED", "0")], "not privileged"),
        (
            &[("FAKE_XEN_PRIVILEGED", "0"), ("FAKE_XEN_FLASK", "1")],
            "XSM/FLASK",
        ),
        (
            &[("FAKE_XEN_COVERAGE", "0")],
            "built without coverage support (CONFIG_COVERAGE): Operation not supported (EOPNOTSUPP",
        ),
        (
            &[("FAKE_XEN_COVERAGE", "0"), ("FAKE_XEN_INTERFACE", "0x10")],
            "(sysctl interface 0x10, Xen 4.10) was built without coverage support (CONFIG_COVERAGE): Function not implemented (ENOSYS",
        ),
        (
            &[("FAKE_XEN_INTERFACE", "0x30")],
            "accepted none of the sysctl interface versions",
        ),
    ];
    for (env, expected) in cases {
        let mut hv = Hv::new("fail", &dump);
        for (k, v) in *env {
            hv = hv.with(k, v);
        }
        for args in [&["read"][..], &["reset"][..]] {
            let o = hv.ours(args);
            assert_eq!(o.status.code(), Some(1), "{env:?} {args:?}");
            assert!(err(&o).contains(expected), "{env:?} {args:?}: {}", err(&o));
            assert!(o.stdout.is_empty());
        }
    }
}

/// The hypervisor hands back fewer bytes than a whole dump (a short read: the
/// last record is cut): nothing is saved, to a file or to standard output.
#[test]
fn a_short_read_is_reported_and_never_saved_as_if_complete() {
    let hv0 = Hv::new("garbled-src", Path::new("/dev/null"));
    let bad = hv0.path("bad.xcov");
    let mut bytes = std::fs::read(sample("xen/gcc-12/calc-run1.xcov")).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&bad, &bytes).unwrap();
    let hv = Hv::new("garbled", &bad);
    let out = hv.path("out");
    let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("does not validate"), "{}", err(&o));
    assert!(!out.exists());
    let o = hv.ours(&["read"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing on standard output");
}

#[test]
fn dumps_over_8_mib_are_read() {
    // Debian's xencov refuses dumps over 8 MiB; ours has no limit.
    let hv = Hv::new("big-src", Path::new("/dev/null"));
    let src = sample("xen/gcc-12/calc-run1.xcov");
    let c = std::fs::read(&src).unwrap();
    let parsed = xencov_rs::dump::Container::parse(&c).unwrap();
    let mut units = Vec::new();
    let mut n = 0;
    while units
        .iter()
        .map(|(p, b): &(Vec<u8>, &[u8])| p.len() + b.len() + 5)
        .sum::<usize>()
        < 9 << 20
    {
        for u in &parsed.units {
            units.push((
                format!("/build/copy{n}/{}", u.path_lossy()).into_bytes(),
                u.payload,
            ));
        }
        n += 1;
    }
    let big = xencov_rs::dump::encode_container(
        parsed.endian,
        units.iter().map(|(p, b)| (p.as_slice(), *b)),
    );
    let path = hv.path("big.xcov");
    std::fs::write(&path, &big).unwrap();
    let hv2 = Hv::new("big", &path);
    let o = hv2.ours(&["read", "-o", hv2.path("out").to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read(hv2.path("out")).unwrap(), big);
    let t = hv2.run(XENCOV, &["read", hv2.path("t").to_str().unwrap()]);
    assert!(!t.status.success(), "xencov refuses over 8 MiB");
}

#[test]
fn a_clang_hypervisor_profile_is_saved_as_it_is() {
    let prof = sample("llvm/small.profraw");
    let hv = Hv::new("clang", &prof).with("FAKE_XEN_CLANG", "1");
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(o.stdout, std::fs::read(&prof).unwrap());
    assert!(err(&o).contains("raw LLVM profile"), "{}", err(&o));
}

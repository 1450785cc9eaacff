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
        // What xencov-rs reads as /sys/hypervisor and /proc/xen/capabilities:
        // empty unless a test fills it (the host's own must not leak in).
        let sysroot = dir.join("sysroot");
        std::fs::create_dir_all(&sysroot).unwrap();
        let env = vec![
            ("LD_PRELOAD".into(), fake_lib().display().to_string()),
            (
                "XENCOV_RS_TEST_SYSROOT".into(),
                sysroot.display().to_string(),
            ),
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

    /// A file below the test sysroot, e.g. `sys/hypervisor/type`.
    fn sys_file(self, rel: &str, content: &str) -> Hv {
        let path = self.dir.join("sysroot").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    /// What Linux shows in dom0 under /sys/hypervisor for a Xen release
    /// and the compiler that built it.
    fn xen_build(self, major: &str, minor: &str, extra: &str, compiler: &str) -> Hv {
        self.sys_file("sys/hypervisor/type", "xen\n")
            .sys_file("sys/hypervisor/version/major", &format!("{major}\n"))
            .sys_file("sys/hypervisor/version/minor", &format!("{minor}\n"))
            .sys_file("sys/hypervisor/version/extra", &format!("{extra}\n"))
            .sys_file(
                "sys/hypervisor/compilation/compiler",
                &format!("{compiler}\n"),
            )
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
fn legacy_hypervisors_use_the_old_op_and_reset_only_after_saving() {
    let dump = sample("xen-legacy/xen-4.5-test_c.dat");
    let hv = Hv::new("legacy", &dump).with("FAKE_XEN_INTERFACE", "0x0b");
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
    assert!(err(&o).contains("Xen 4.5"), "{}", err(&o));
    let o = hv.ours(&["read", "--reset"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
    // Not the one-call read-and-reset op: that resets before the dump is
    // saved. A plain read, then a reset once the bytes are out.
    let log = hv.state();
    assert!(!log.contains("op=read_and_reset"), "{log}");
    let read_at = log.rfind("op=read ").unwrap();
    assert!(log[read_at..].contains("op=reset"), "{log}");
}

/// Xen 4.3–4.8 does not check the buffer size on read, so the size is asked
/// again after reading: a dump that grew in between is read again, never
/// cut to the old size.
#[test]
fn a_legacy_dump_that_grows_between_size_and_read_is_read_again() {
    let dump = sample("xen-legacy/xen-4.5-test_c.dat");
    let original = std::fs::read(&dump).unwrap();
    let hv = Hv::new("legacy-grow", &dump)
        .with("FAKE_XEN_INTERFACE", "0x0b")
        // A copy of its last unit, before the END tag: still a valid dump.
        .with("FAKE_XEN_GROW", "record")
        // The first get-size (finding the interface) and the one before
        // the first read grow it.
        .with("FAKE_XEN_GROW_TIMES", "2");
    let last = hv.path("last");
    let hv = hv.with("FAKE_XEN_LAST_READ", last.to_str().unwrap());
    let out = hv.path("out");
    let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let log = hv.state();
    assert_eq!(log.matches("op=read").count(), 2, "{log}");
    let delivered = std::fs::read(&last).unwrap();
    assert!(delivered.len() > original.len());
    xencov::xen::dump::LegacyDump::parse(&delivered).expect("the grown dump is valid");
    // Saved: the whole grown dump (without the second size check, its first
    // `size` bytes, a dump one unit short, would have been saved instead).
    assert_eq!(std::fs::read(&out).unwrap(), delivered);

    // A dump that keeps changing: a bounded number of tries, nothing saved.
    let hv = Hv::new("legacy-grow-forever", &dump)
        .with("FAKE_XEN_INTERFACE", "0x0b")
        .with("FAKE_XEN_GROW", "64");
    let out = hv.path("out");
    let o = hv.ours(&["read", "--reset", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("kept changing size"), "{}", err(&o));
    assert!(!out.exists());
    assert!(!hv.state().contains("reset"), "{}", hv.state());
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

/// A valid container of at least `min` bytes: the units of a real sample
/// dump again and again under other build directories.
fn big_dump(min: usize) -> Vec<u8> {
    let src = sample("xen/gcc-12/calc-run1.xcov");
    let c = std::fs::read(&src).unwrap();
    let parsed = xencov::xen::dump::Container::parse(&c).unwrap();
    let mut units = Vec::new();
    let mut n = 0;
    while units
        .iter()
        .map(|(p, b): &(Vec<u8>, &[u8])| p.len() + b.len() + 5)
        .sum::<usize>()
        < min
    {
        for u in &parsed.units {
            units.push((
                format!("/build/copy{n}/{}", u.path_lossy()).into_bytes(),
                u.payload,
            ));
        }
        n += 1;
    }
    xencov::xen::dump::encode_container(
        parsed.endian,
        units.iter().map(|(p, b)| (p.as_slice(), *b)),
    )
}

#[test]
fn dumps_over_8_mib_are_read() {
    // Debian's xencov refuses dumps over 8 MiB; ours has no limit.
    let hv = Hv::new("big-src", Path::new("/dev/null"));
    let big = big_dump(9 << 20);
    let path = hv.path("big.xcov");
    std::fs::write(&path, &big).unwrap();
    let hv2 = Hv::new("big", &path);
    let o = hv2.ours(&["read", "-o", hv2.path("out").to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read(hv2.path("out")).unwrap(), big);
    let t = hv2.run(XENCOV, &["read", hv2.path("t").to_str().unwrap()]);
    assert!(!t.status.success(), "xencov refuses over 8 MiB");
}

/// Older kernels' privcmd-buf driver maps at most 64 pages per open
/// /dev/xen/hypercall (its `limit` parameter); a 600 KB dump does not fit.
/// We then use locked memory, so there is still no size limit; Debian's
/// xencov fails there.
#[test]
fn a_dump_bigger_than_the_hypercall_devices_page_limit_is_read() {
    let hv = Hv::new("limit-src", Path::new("/dev/null"));
    let big = big_dump(600 << 10);
    let path = hv.path("big.xcov");
    std::fs::write(&path, &big).unwrap();
    // Locked memory is hypercall-safe on a real kernel; the fake's default
    // (strict) check insists on the device whenever it exists.
    let hv = Hv::new("limit", &path)
        .with("FAKE_XEN_HYPERCALL_PAGE_LIMIT", "64")
        .with("FAKE_XEN_MEMCHECK", "any");
    let out = hv.path("out");
    let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read(&out).unwrap(), big);
    assert!(err(&o).contains("using locked memory"), "{}", err(&o));
    let t = hv.run(XENCOV, &["read", hv.path("t").to_str().unwrap()]);
    assert!(!t.status.success(), "xencov fails at the page limit");
    // A dump within the limit still uses the device (no note).
    let small = sample("xen/gcc-12/calc-run1.xcov");
    let hv = Hv::new("limit-small", &small).with("FAKE_XEN_HYPERCALL_PAGE_LIMIT", "64");
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("locked memory"), "{}", err(&o));
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

/// Issue 18, item 3: a clang hypervisor's profile is validated like a gcov
/// dump, so a short or lying one is refused with its offset and never saved.
#[test]
fn a_clang_hypervisor_profile_that_does_not_validate_is_not_saved() {
    let full = std::fs::read(sample("llvm/small.profraw")).unwrap();
    let t = common::Tmp::new("hv-llvm-bad");
    let cut = t.p("cut.profraw");
    std::fs::write(&cut, &full[..40]).unwrap();
    // num_counters (0x28) 6 -> 7: the header promises a counter that is not there.
    let mut lie = full.clone();
    lie[0x28] = 7;
    let lying = t.p("lying.profraw");
    std::fs::write(&lying, &lie).unwrap();
    for (what, dump, offset) in [
        ("cut", &cut, "byte offset 40"),
        ("lying", &lying, "byte offset"),
    ] {
        let hv = Hv::new(&format!("clang-{what}"), dump).with("FAKE_XEN_CLANG", "1");
        let out = hv.path("saved.profraw");
        let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
        assert!(!o.status.success(), "{what}: {}", err(&o));
        assert!(
            err(&o).contains("does not validate") && err(&o).contains(offset),
            "{what}: {}",
            err(&o)
        );
        assert!(!out.exists(), "{what}: nothing is saved");
    }
}

/// Xen master's llvm.c does not know clang 21: it wrote a version 8 header
/// over clang 21's version 10 records (seen on a real boot, issue #18). The
/// real clang 21 profile with its version word set back to 8 is refused as
/// that hypervisor's was, and the error says why, from /sys/hypervisor.
#[test]
fn a_clang_hypervisor_whose_llvm_c_does_not_know_its_clang_is_explained() {
    let mut lie = std::fs::read(sample("xen-vm/xen-4.23-unstable-clang-21.xcov")).unwrap();
    assert_eq!(lie[8], 10, "the sample is a version 10 profile");
    lie[8] = 8;
    let t = common::Tmp::new("hv-llvm-clang21");
    let dump = t.p("v8-header.profraw");
    std::fs::write(&dump, &lie).unwrap();
    let hv = Hv::new("clang21-header", &dump)
        .with("FAKE_XEN_CLANG", "1")
        .xen_build("4", "23", "-unstable", "Debian clang version 21.1.8 (3)");
    let out = hv.path("saved.profraw");
    let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    for want in [
        "does not validate",
        "byte offset",
        "clang 21 writes raw profile version 10, but the header says version 8",
        "xen/common/coverage/llvm.c",
    ] {
        assert!(err(&o).contains(want), "{want:?} in {}", err(&o));
    }
    assert!(!out.exists(), "nothing is saved");
    // Without /sys/hypervisor (or built by gcc) there is no such claim.
    let hv = Hv::new("clang21-header-nosys", &dump).with("FAKE_XEN_CLANG", "1");
    let o = hv.ours(&["read", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(!err(&o).contains("llvm.c"), "{}", err(&o));
}

/// `read --reset` resets only after the dump validated and was saved: an
/// output that cannot be written (missing directory, full disk, file size
/// limit, closed standard output, a pipe nobody reads) leaves the counters
/// alone, and the error says so.
#[test]
fn read_reset_never_resets_when_the_dump_cannot_be_saved() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    let no_reset = |hv: &Hv, o: &Output, what: &str| {
        assert_eq!(o.status.code(), Some(1), "{what}: {}", err(o));
        let log = hv.state();
        assert!(log.contains("op=read "), "{what}: the dump was read: {log}");
        assert!(!log.contains("op=reset"), "{what}: no reset: {log}");
    };

    // A directory that does not exist.
    let hv = Hv::new("rr-nodir", &dump);
    let o = hv.ours(&["read", "--reset", "-o", "/no/such/dir/x.xcov"]);
    no_reset(&hv, &o, "missing directory");
    assert!(err(&o).contains("/no/such/dir"), "{}", err(&o));

    // A full disk as standard output.
    let hv = Hv::new("rr-full", &dump);
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(["read", "--reset"])
        .envs(hv.env.iter().cloned())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    no_reset(&hv, &o, "/dev/full");
    assert!(err(&o).contains("standard output"), "{}", err(&o));

    // A file that may not grow past 1 KiB (as a full file system would
    // refuse it): `-o FILE` and standard output redirected to a file.
    let bin = env!("CARGO_BIN_EXE_xencov-rs");
    for (what, script) in [
        (
            "-o, file size limit",
            format!("exec '{bin}' read --reset -o \"$1/out\""),
        ),
        (
            "stdout, file size limit",
            format!("exec '{bin}' read --reset > \"$1/out\""),
        ),
    ] {
        let hv = Hv::new("rr-fsize", &dump);
        let script = format!("trap '' XFSZ; ulimit -f 2; {script}");
        let o = hv.run("sh", &["-c", &script, "sh", hv.dir.to_str().unwrap()]);
        no_reset(&hv, &o, what);
    }

    // Standard output closed.
    let hv = Hv::new("rr-closed", &dump);
    let o = hv.run("sh", &["-c", &format!("exec '{bin}' read --reset >&-")]);
    no_reset(&hv, &o, "closed stdout");

    // A pipe whose reader is gone: the write fails (EPIPE), no reset.
    let hv = Hv::new("rr-pipe", &dump);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(bin)
        .args(["read", "--reset"])
        .envs(hv.env.iter().cloned())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    no_reset(&hv, &o, "broken pipe");

    // And the same outputs, writable: the reset follows the saved dump.
    let hv = Hv::new("rr-ok", &dump);
    let out = hv.path("out");
    let o = hv.ours(&["read", "--reset", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&dump).unwrap());
    assert!(hv.state().contains("op=reset"));
    let hv = Hv::new("rr-ok-stdout", &dump);
    let o = hv.run(
        "sh",
        &[
            "-c",
            &format!("exec '{bin}' read --reset > \"$1/out\""),
            "sh",
            hv.dir.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        std::fs::read(hv.path("out")).unwrap(),
        std::fs::read(&dump).unwrap()
    );
    assert!(hv.state().contains("op=reset"));
}

/// The fake hypervisor's own self-test (its C client, and Debian's `xencov`
/// through it) runs with the suite, so a broken fake cannot hide behind
/// tests that only use it.
#[test]
fn the_fake_hypervisor_passes_its_self_test() {
    let o = Command::new("sh")
        .arg(common::root().join("tests/fake-xen/selftest.sh"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", err(&o));
    assert!(out.contains("PASSED: 0 failure(s)"), "{out}");
    assert!(!out.contains("FAIL "), "{out}");
    assert!(
        out.contains("ok   Debian xencov read/reset through the fake"),
        "Debian's xencov must be installed (xen-utils-4.17): {out}"
    );
}

/// Only xenfs's /proc/xen/privcmd (no /dev/xen nodes): read and reset work
/// through it, as Debian's xencov does.
#[test]
fn without_dev_xen_the_xenfs_privcmd_is_used() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    let hv = Hv::new("xenfs", &dump).with("FAKE_XEN_PRIVCMD", "xenfs");
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
    let t = hv.run(XENCOV, &["read", hv.path("t").to_str().unwrap()]);
    assert!(t.status.success(), "xencov: {}", err(&t));
    assert_eq!(std::fs::read(hv.path("t")).unwrap(), o.stdout);
    assert!(hv.ours(&["reset"]).status.success());
    assert!(hv.state().contains("op=reset"), "{}", hv.state());
}

/// No privcmd device at all: a dom0 without the driver, a Xen guest, and a
/// machine that is not on Xen each get their own diagnosis.
#[test]
fn no_privcmd_device_is_told_apart_from_not_xen() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    type Files = &'static [(&'static str, &'static str)];
    let cases: &[(Files, &[&str])] = &[
        (
            &[("sys/hypervisor/type", "xen\n")],
            &[
                "running on Xen, but there is no privcmd device",
                "modprobe xen-privcmd",
                "mount -t xenfs",
            ],
        ),
        (
            &[("proc/xen/capabilities", "control_d\n")],
            &["running on Xen, but there is no privcmd device"],
        ),
        (
            &[
                ("sys/hypervisor/type", "xen\n"),
                ("proc/xen/capabilities", ""),
            ],
            &["Xen guest (domU), not dom0"],
        ),
        (&[], &["not running on Xen", "/sys/hypervisor/type"]),
        (&[("sys/hypervisor/type", "kvm\n")], &["not running on Xen"]),
    ];
    for (files, expected) in cases {
        let mut hv = Hv::new("noprivcmd", &dump).with("FAKE_XEN_ABSENT", "1");
        for (rel, content) in *files {
            hv = hv.sys_file(rel, content);
        }
        for args in [&["read"][..], &["reset"][..]] {
            let o = hv.ours(args);
            assert_eq!(o.status.code(), Some(1), "{files:?}");
            for e in *expected {
                assert!(err(&o).contains(e), "{files:?} {args:?}: {}", err(&o));
            }
            assert!(
                err(&o).contains("neither /dev/xen/privcmd nor /proc/xen/privcmd"),
                "{}",
                err(&o)
            );
        }
        assert!(hv.state().is_empty(), "no hypercall: {}", hv.state());
    }
}

/// Builds known to crash on the coverage sysctl, or to return data that is
/// not the coverage, are refused before any coverage sysctl (the fake logs
/// none), with the reason, what to do, and the override.
#[test]
fn builds_known_to_crash_or_to_lie_are_refused_before_the_sysctl() {
    let dump = sample("xen/gcc-12/calc-run1.xcov");
    let gcc12 = "gcc (Debian 12.2.0-14+deb12u1) 12.2.0";
    let gcc14 = "x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0";
    let refused: &[(&str, &str, &str, &[&str])] = &[
        (
            "17",
            ".7",
            gcc12,
            &[
                "would crash the host",
                "Xen 4.17.7 built by \"gcc (Debian 12.2.0-14+deb12u1) 12.2.0\"",
                "745bf2b7de and 7ee3a44971",
            ],
        ),
        (
            "10",
            ".0",
            "gcc-10 (Debian 10.2.1-6) 10.2.1",
            &["would crash the host"],
        ),
        (
            "20",
            ".4",
            gcc14,
            &[
                "would not be the coverage",
                "Xen 4.21 or newer",
                "GCC 13 or older",
            ],
        ),
    ];
    for (minor, extra, compiler, expected) in refused {
        for args in [&["read"][..], &["reset"][..], &["read", "--reset"][..]] {
            let hv = Hv::new("refuse", &dump).xen_build("4", minor, extra, compiler);
            let o = hv.ours(args);
            assert_eq!(o.status.code(), Some(1), "4.{minor} {compiler} {args:?}");
            for e in *expected {
                assert!(err(&o).contains(e), "{args:?}: {}", err(&o));
            }
            assert!(err(&o).contains("--i-know-the-risk"), "{}", err(&o));
            assert!(o.stdout.is_empty());
            assert_eq!(hv.state(), "", "not one sysctl was made");

            // The override: the sysctl is made, with a warning.
            let mut forced = args.to_vec();
            forced.push("--i-know-the-risk");
            let o = hv.ours(&forced);
            assert!(o.status.success(), "{forced:?}: {}", err(&o));
            assert!(
                err(&o).contains("going on because of --i-know-the-risk"),
                "{}",
                err(&o)
            );
            assert!(hv.state().contains("cmd=20"), "{}", hv.state());
        }
    }

    // Safe combinations go on without a word about it.
    for (minor, compiler) in [
        ("17", "gcc-9 (Debian 9.3.0-22) 9.3.0"),
        ("18", gcc12),
        ("20", "gcc-13 (Debian 13.3.0-1) 13.3.0"),
        ("21", gcc14),
        ("23", gcc12),
    ] {
        let hv = Hv::new("safe", &dump).xen_build("4", minor, ".0", compiler);
        let o = hv.ours(&["read"]);
        assert!(o.status.success(), "4.{minor} {compiler}: {}", err(&o));
        assert_eq!(o.stdout, std::fs::read(&dump).unwrap());
        assert!(!err(&o).contains("note"), "{}", err(&o));
        assert!(!err(&o).contains("warning"), "{}", err(&o));
    }

    // Facts that cannot be read: one line, and on as before.
    let hv = Hv::new("nofacts", &dump);
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    let notes = err(&o)
        .lines()
        .filter(|l| l.contains("cannot tell which Xen release"))
        .count();
    assert_eq!(notes, 1, "{}", err(&o));
    assert!(
        err(&o).contains("sys/hypervisor/version/major"),
        "{}",
        err(&o)
    );

    // A compiler newer than the table knows: a note, and on.
    let hv = Hv::new("newgcc", &dump).xen_build("4", "21", ".2", "gcc (Debian 16.2.0-1) 16.2.0");
    let o = hv.ours(&["read"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("note: GCC 16.2 is newer"), "{}", err(&o));
}

/// Whatever /sys/hypervisor says (here: nothing), `read` names the sysctl
/// interface it settled on, and warns when the dump's units come from GCC
/// 14+ and the interface is Xen 4.20's or older. SYNTHETIC dump: a gcc-12
/// dump whose version words say GCC 14.2 (only the version word is judged).
#[test]
fn read_says_when_the_interface_and_the_compiler_make_a_dump_untrustworthy() {
    use xencov::gcov::version::{Status, Version};
    let src = std::fs::read(sample("xen/gcc-12/calc-run1.xcov")).unwrap();
    let c = xencov::xen::dump::Container::parse(&src).unwrap();
    let v14 = Version::new(14, 2, Status::Release).unwrap().word();
    let payloads: Vec<(Vec<u8>, Vec<u8>)> = c
        .units
        .iter()
        .map(|u| {
            let mut p = u.payload.to_vec();
            p[4..8].copy_from_slice(&c.endian.u32_to(v14));
            (u.path.to_vec(), p)
        })
        .collect();
    let dump14 = xencov::xen::dump::encode_container(
        c.endian,
        payloads.iter().map(|(p, b)| (p.as_slice(), b.as_slice())),
    );
    let hv0 = Hv::new("gcc14-src", Path::new("/dev/null"));
    let path = hv0.path("gcc14.xcov");
    std::fs::write(&path, &dump14).unwrap();
    for (iface, warned) in [("0x15", true), ("0x13", true), ("0x16", false)] {
        let hv = Hv::new("gcc14", &path).with("FAKE_XEN_INTERFACE", iface);
        let o = hv.ours(&["read"]);
        assert!(o.status.success(), "{}", err(&o));
        assert!(
            err(&o).contains(&format!("sysctl interface {iface}")),
            "{}",
            err(&o)
        );
        assert_eq!(
            err(&o).contains("this dump cannot be trusted: its units were compiled by GCC 14.2"),
            warned,
            "{iface}: {}",
            err(&o)
        );
    }
    // The real gcc-12 dump from the same interface: no warning.
    let hv = Hv::new("gcc12-iface15", &sample("xen/gcc-12/calc-run1.xcov"));
    let o = hv.ours(&["read"]);
    assert!(!err(&o).contains("cannot be trusted"), "{}", err(&o));
}

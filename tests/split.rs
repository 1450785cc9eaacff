//! `xencov-rs split`: one gcda per record at DIR + recorded path, byte for
//! byte; hostile paths and records refused with the record and its offset.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use xencov::Endian;
use xencov::xen::dump::{Container, encode_container};

/// Runs under umask 022: a new file must then be 0644, as Debian's
/// `xencov_split` (Python `open(.., "wb")`) and libgcov create it.
fn xencov(args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
    // SAFETY: umask is async-signal-safe and touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        })
    };
    cmd.args(args).output().unwrap()
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xencov-split-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    fn s(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Real gcda files of one sample run, as (recorded build path, bytes).
fn units(set: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    common::files_with_suffix(&common::samples().join(set).join("calc/run1"), ".gcda")
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                format!("/build/xen/common/{name}").into_bytes(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn container(endian: Endian, units: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    encode_container(
        endian,
        units.iter().map(|(p, b)| (p.as_slice(), b.as_slice())),
    )
}

fn files_under(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    let mut v: Vec<String> = common::files_with_suffix(dir, "")
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn splits_into_recorded_paths_byte_for_byte_in_both_byte_orders() {
    for (set, endian) in [("gcc-12", Endian::Little), ("ppc64-gcc-12", Endian::Big)] {
        let t = Scratch::new(set);
        let units = units(set);
        assert_eq!(units.len(), 4);
        std::fs::write(t.path("xen.dump"), container(endian, &units)).unwrap();
        let out = xencov(&["split", &t.s("xen.dump"), "-o", &t.s("out")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (path, bytes) in &units {
            let written = t.path("out").join(std::str::from_utf8(&path[1..]).unwrap());
            assert_eq!(
                &std::fs::read(&written).unwrap(),
                bytes,
                "{}",
                written.display()
            );
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(&written).unwrap().permissions().mode() & 0o7777
            };
            assert_eq!(mode, 0o644, "{}: 0666 less the umask", written.display());
        }
        assert_eq!(
            files_under(&t.path("out")).len(),
            4,
            "no temporary files left"
        );
    }
}

#[test]
fn prefix_map_strip_prefix_and_standard_input() {
    let t = Scratch::new("maps");
    let units = units("gcc-11");
    let dump = container(Endian::Little, &units);
    let mut child = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args([
            "split",
            "-",
            "-o",
            &t.s("a"),
            "--prefix-map",
            "/build/xen=/src/xen-4.19",
            "--strip-prefix",
            "/src",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &dump).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        files_under(&t.path("a")),
        [
            "xen-4.19/common/main.gcda",
            "xen-4.19/common/ops.gcda",
            "xen-4.19/common/parse.gcda",
            "xen-4.19/common/unused.gcda"
        ]
    );
    // A prefix that matches no path is a warning, and an error with --strict.
    let f = t.path("d");
    std::fs::write(&f, &dump).unwrap();
    let out = xencov(&[
        "split",
        &t.s("d"),
        "-o",
        &t.s("b"),
        "--strip-prefix",
        "/elsewhere",
    ]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not start with the --strip-prefix")
    );
    let out = xencov(&[
        "split",
        &t.s("d"),
        "-o",
        &t.s("c"),
        "--strip-prefix",
        "/elsewhere",
        "--strict",
    ]);
    assert!(!out.status.success());
    assert!(
        !t.path("c").join("build").exists(),
        "nothing written under --strict failure"
    );
}

fn refused(name: &str, dump: &[u8], expect: &[&str]) -> Scratch {
    let t = Scratch::new(name);
    std::fs::write(t.path("d"), dump).unwrap();
    let out = xencov(&["split", &t.s("d"), "-o", &t.s("out")]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{name}: {err}");
    for e in expect {
        assert!(err.contains(e), "{name}: expected {e:?} in {err}");
    }
    assert!(
        !t.path("out").exists(),
        "{name}: nothing may be written, the output directory not even created"
    );
    t
}

#[test]
fn hostile_records_are_refused_naming_record_and_offset() {
    let gcda = std::fs::read(common::samples().join("gcc-12/calc/run1/ops.gcda")).unwrap();
    let good = (b"/build/ok.gcda".to_vec(), gcda.clone());
    let dotdot = (b"/build/../../../etc/passwd".to_vec(), gcda.clone());
    refused(
        "dotdot",
        &container(Endian::Little, &[good.clone(), dotdot]),
        &["record 1", "climbs out"],
    );

    let mut no_nul = container(Endian::Little, std::slice::from_ref(&good));
    no_nul.extend_from_slice(b"/build/no-terminator.gcda");
    let at = 4 + 15 + 4 + gcda.len();
    refused(
        "nonul",
        &no_nul,
        &[
            &format!("byte offset {at}"),
            "record 1",
            "no NUL terminator",
        ],
    );

    let mut past_end = container(Endian::Little, &[good.clone(), good.clone()]);
    past_end.truncate(past_end.len() - 3);
    let size_at = 4 + 2 * 15 + 4 + gcda.len();
    refused(
        "pastend",
        &past_end,
        &[
            &format!("byte offset {size_at}"),
            "record 1",
            "payload size",
        ],
    );

    let mut empty = container(Endian::Little, std::slice::from_ref(&good));
    empty.extend_from_slice(b"\0\0\0\0\0");
    refused("empty", &empty, &["record 1", "empty gcda path"]);

    refused(
        "dup",
        &container(Endian::Little, &[good.clone(), good.clone()]),
        &["records 0 and 1"],
    );
    refused(
        "notadump",
        b"just some text",
        &["is text", "split takes a Xen coverage dump"],
    );
}

#[test]
fn a_symlink_inside_the_output_directory_is_refused() {
    let t = Scratch::new("symlink");
    let outside = t.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(t.path("out")).unwrap();
    std::os::unix::fs::symlink(&outside, t.path("out/build")).unwrap();
    let units = units("gcc-12");
    std::fs::write(t.path("d"), container(Endian::Little, &units)).unwrap();
    let out = xencov(&["split", &t.s("d"), "-o", &t.s("out")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is a symlink inside the output directory")
    );
    assert!(
        files_under(&outside).is_empty(),
        "nothing written through the symlink"
    );
}

#[test]
fn a_payload_that_does_not_decode_is_kept_verbatim_with_a_warning() {
    let t = Scratch::new("garbage");
    let mut units = units("gcc-12");
    units[1].1 = b"this is no gcda".to_vec();
    std::fs::write(t.path("d"), container(Endian::Little, &units)).unwrap();
    let out = xencov(&["split", &t.s("d"), "-o", &t.s("out")]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record 1") && err.contains("kept verbatim"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(t.path("out/build/xen/common/ops.gcda")).unwrap(),
        b"this is no gcda"
    );
    let out = xencov(&["split", &t.s("d"), "-o", &t.s("strict"), "--strict"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn container_parse_and_encode_round_trip() {
    let units = units("ppc64-gcc-12");
    let bytes = container(Endian::Big, &units);
    let c = Container::parse(&bytes).unwrap();
    assert_eq!(c.endian, Endian::Big);
    let back: Vec<(Vec<u8>, Vec<u8>)> = c
        .units
        .iter()
        .map(|u| (u.path.to_vec(), u.payload.to_vec()))
        .collect();
    assert_eq!(back, units);
    for u in &c.units {
        assert_eq!(u.gcda().unwrap().header.endian, Endian::Big);
    }
}

#[test]
fn a_dump_that_mixes_gcov_versions_is_a_warning_naming_the_units() {
    let t = Scratch::new("mixed");
    let mut units = units("gcc-12");
    let old = &self::units("gcc-11")[0];
    units[2] = (b"/build/xen/arch/x86/old.gcda".to_vec(), old.1.clone());
    std::fs::write(t.path("d"), container(Endian::Little, &units)).unwrap();
    let out = xencov(&["split", &t.s("d"), "-o", &t.s("out")]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mixes gcov versions"), "{err}");
    assert!(
        err.contains("B13* (1 unit: /build/xen/arch/x86/old.gcda)"),
        "{err}"
    );
    assert!(err.contains("B22* (3 units:"), "{err}");
    let out = xencov(&["split", &t.s("d"), "-o", &t.s("strict"), "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(files_under(&t.path("strict")).is_empty());
}

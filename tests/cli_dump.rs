//! The `dump` command: its text matches `gcov-dump -l` line for line (but for
//! the first line, where we also name the GCC release and byte order), and a
//! bad file is an error naming the file and the byte offset.

mod common;

use std::process::Command;

fn xencov(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn text_matches_gcov_dump_after_the_first_line() {
    for (set, tool) in [
        ("gcc-11", "gcov-dump-11"),
        ("gcc-12", "gcov-dump-12"),
        ("ppc64-gcc-12", "gcov-dump-12"),
        ("gcc-11-pg", "gcov-dump-11"),
        ("gcc-12-pg", "gcov-dump-12"),
    ] {
        for path in common::files_with_suffix(&common::samples().join(set), ".gcda") {
            let ours = xencov(&["dump".as_ref(), path.as_os_str()]);
            assert!(ours.status.success());
            let theirs = Command::new(tool).arg("-l").arg(&path).output().unwrap();
            let ours = String::from_utf8(ours.stdout).unwrap();
            let theirs = String::from_utf8(theirs.stdout).unwrap();
            let theirs: Vec<&str> = theirs
                .lines()
                .filter(|l| !l.contains(":warning:"))
                .collect();
            let ours: Vec<&str> = ours.lines().collect();
            assert!(ours[0].contains(":data:magic `gcda':version `B"));
            assert_eq!(ours[1..], theirs[1..], "{}", path.display());
        }
    }
}

#[test]
fn a_truncated_file_is_an_error_naming_file_and_offset() {
    let dir = std::env::temp_dir().join(format!("xencov-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = common::samples().join("gcc-12/calc/run1/main.gcda");
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.join("cut.gcda");
    std::fs::write(&bad, &bytes[..bytes.len() - 9]).unwrap();
    let out = xencov(&["dump".as_ref(), good.as_os_str(), bad.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{}: at byte offset", bad.display())),
        "{err}"
    );
    assert!(
        err.contains("bytes remain") || err.contains("input ends inside"),
        "{err}"
    );
    // The good file is still printed.
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("FUNCTION ident=")
    );

    let notgcda = dir.join("not.gcda");
    std::fs::write(&notgcda, b"hello world, not coverage").unwrap();
    let out = xencov(&["dump".as_ref(), "--json".as_ref(), notgcda.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("at byte offset 0") && err.contains("not a gcda file"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_version_is_refused_with_what_it_looks_like() {
    let dir = std::env::temp_dir().join(format!("xencov-cli-v-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = std::fs::read(common::samples().join("gcc-12/calc/run1/main.gcda")).unwrap();
    bytes[4..8].copy_from_slice(&u32::from_be_bytes(*b"B72*").to_le_bytes());
    let f = dir.join("future.gcda");
    std::fs::write(&f, &bytes).unwrap();
    let out = xencov(&["dump".as_ref(), f.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("at byte offset 4") && err.contains("looks like GCC 17.2"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_xen_dump_given_to_dump_says_to_split_it() {
    let out = xencov(&[
        "dump".as_ref(),
        common::samples()
            .join("xen/gcc-12/calc-run1.xcov")
            .as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("it is a Xen coverage dump: `xencov-rs split` it"),
        "{err}"
    );
}

/// Rows of counters past index 99 keep gcov-dump's columns too.
#[test]
fn long_counter_sections_match_gcov_dump() {
    use xencov_rs::gcda::{Gcda, Record, Values};
    let dir = std::env::temp_dir().join(format!("xencov-cli-long-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g =
        Gcda::decode(&std::fs::read(common::samples().join("gcc-12/calc/run1/ops.gcda")).unwrap())
            .unwrap();
    for r in &mut g.records {
        if let Record::Function(f) = r {
            f.counters[0].values = Values::Stored((0..1234).collect());
            break;
        }
    }
    let path = dir.join("long.gcda");
    std::fs::write(&path, g.encode()).unwrap();
    let ours = String::from_utf8(xencov(&["dump".as_ref(), path.as_os_str()]).stdout).unwrap();
    let theirs = String::from_utf8(
        Command::new("gcov-dump-12")
            .arg("-l")
            .arg(&path)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let ours: Vec<&str> = ours.lines().skip(1).collect();
    let theirs: Vec<&str> = theirs.lines().skip(1).collect();
    assert!(
        theirs.iter().any(|l| l.ends_with("1232 1233 ")),
        "{theirs:?}"
    );
    assert_eq!(ours, theirs);
    std::fs::remove_dir_all(&dir).unwrap();
}

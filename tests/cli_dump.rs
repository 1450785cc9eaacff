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
    let tmp = common::Tmp::new("cli");
    let dir = tmp.0.clone();
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
}

#[test]
fn unknown_version_is_refused_with_what_it_looks_like() {
    let tmp = common::Tmp::new("cli-v");
    let dir = tmp.0.clone();
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
}

/// `gcov-dump -l FILE` without its first line, every line's `FILE:`
/// prefix replaced by `label:` (to compare with what we print under another name).
fn gcov_dump(tool: &str, file: &std::path::Path, label: &str) -> Vec<String> {
    let o = Command::new(tool).arg("-l").arg(file).output().unwrap();
    assert!(o.status.success(), "{tool} {}", file.display());
    let prefix = format!("{}:", file.display());
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(":warning:"))
        .skip(1)
        .map(|l| format!("{label}:{}", l.strip_prefix(&prefix).unwrap_or(l)))
        .collect()
}

/// Notes files print as `gcov-dump -l` prints them (issue 10 item 8):
/// every .gcno of the samples, gcc-11 and gcc-12, both byte orders.
#[test]
fn notes_match_gcov_dump_after_the_first_line() {
    let mut n = 0;
    for (set, tool) in [
        ("gcc-11", "gcov-dump-11"),
        ("gcc-12", "gcov-dump-12"),
        ("ppc64-gcc-12", "gcov-dump-12"),
        ("gcc-11-pg", "gcov-dump-11"),
        ("gcc-12-pg", "gcov-dump-12"),
    ] {
        for path in common::files_with_suffix(&common::samples().join(set), ".gcno") {
            let ours = xencov(&["dump".as_ref(), path.as_os_str()]);
            assert!(
                ours.status.success(),
                "{}",
                String::from_utf8_lossy(&ours.stderr)
            );
            let ours = String::from_utf8(ours.stdout).unwrap();
            let ours: Vec<&str> = ours.lines().collect();
            assert!(
                ours[0].contains(":note:magic `gcno':version `B"),
                "{}",
                ours[0]
            );
            let label = path.display().to_string();
            assert_eq!(ours[1..], gcov_dump(tool, &path, &label)[..], "{label}");
            n += 1;
        }
    }
    assert_eq!(n, 80);
}

/// A Xen dump prints each unit headed by its record and recorded path; each
/// unit's text is what gcov-dump prints for the gcda that `split` writes.
#[test]
fn a_xen_dump_prints_each_unit_as_gcov_dump_prints_the_split_file() {
    let t = common::Tmp::new("dump-xen");
    let dump = common::samples().join("xen/gcc-12/calc-run1.xcov");
    let o = xencov(&[
        "split".as_ref(),
        dump.as_os_str(),
        "-o".as_ref(),
        t.0.as_os_str(),
    ]);
    assert!(o.status.success());
    let out = xencov(&["dump".as_ref(), dump.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let heads: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(": record "))
        .collect();
    assert_eq!(heads.len(), 4, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    for (k, (at, head)) in heads.iter().enumerate() {
        let recorded = head.rsplit(": ").next().unwrap();
        assert!(
            head.starts_with(&format!("{}: record {k} at byte offset ", dump.display())),
            "{head}"
        );
        let end = heads.get(k + 1).map_or(lines.len(), |(e, _)| *e);
        let split = t.0.join(recorded.trim_start_matches('/'));
        // The unit's first line (magic) names release and byte order, as for a file.
        assert!(lines[at + 1].starts_with(&format!("{recorded}:data:magic `gcda'")));
        assert_eq!(
            lines[at + 2..end],
            gcov_dump("gcov-dump-12", &split, recorded)[..],
            "{recorded}"
        );
    }
}

/// `-` reads standard input; a directory stands for every .gcda and .gcno
/// below it, sorted.
#[test]
fn standard_input_and_directories() {
    let run1 = common::samples().join("gcc-12/calc/run1");
    let main = run1.join("main.gcda");
    let by_name = xencov(&["dump".as_ref(), main.as_os_str()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(["dump", "-"])
        .stdin(std::fs::File::open(&main).unwrap())
        .output()
        .unwrap();
    assert!(child.status.success());
    let named = String::from_utf8(by_name.stdout).unwrap();
    let piped = String::from_utf8(std::mem::take(&mut child.stdout)).unwrap();
    assert_eq!(piped, named.replace(&main.display().to_string(), "-"));

    let dir = xencov(&["dump".as_ref(), run1.as_os_str()]);
    assert!(dir.status.success());
    let mut each = String::new();
    let mut files = common::files_with_suffix(&run1, ".gcda");
    files.extend(common::files_with_suffix(&run1, ".gcno"));
    files.sort();
    assert_eq!(files.len(), 8);
    for f in files {
        each += &String::from_utf8(xencov(&["dump".as_ref(), f.as_os_str()]).stdout).unwrap();
    }
    assert_eq!(String::from_utf8(dir.stdout).unwrap(), each);

    // check reads standard input too.
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(["check", "--json", "-", "--gcov", "gcov-12"])
        .stdin(std::fs::File::open(common::samples().join("xen/gcc-12/calc-run1.xcov")).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let data = j["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"] == "data")
        .unwrap();
    assert_eq!(data["count"], 4, "{j}");
    assert_eq!(data["chars"], "B22*");
}

/// Rows of counters past index 99 keep gcov-dump's columns too.
#[test]
fn long_counter_sections_match_gcov_dump() {
    use xencov::gcov::gcda::{Gcda, Record, Values};
    let tmp = common::Tmp::new("cli-long");
    let dir = tmp.0.clone();
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
}

/// `--json` of a notes file: its functions, named as gcov-dump names them.
#[test]
fn notes_as_json_list_the_functions_gcov_dump_lists() {
    let path = common::samples().join("gcc-12/calc/run1/ops.gcno");
    let out = xencov(&["dump".as_ref(), "--json".as_ref(), path.as_os_str()]);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<String> = j[0]["notes"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    let theirs: Vec<String> = gcov_dump("gcov-dump-12", &path, "x")
        .iter()
        .filter_map(|l| l.split(", `").nth(1))
        .map(|r| r.split('\'').next().unwrap().to_string())
        .collect();
    assert!(!theirs.is_empty());
    assert_eq!(names, theirs);
}

/// Notes of GCC 13-16 print as that release's `gcov-dump -l` prints them
/// (in the chroots of scripts/chroot), with GCC 14+'s CONDITIONS records
/// (block and number of terms of each decision), GCC 16's PATHS records and
/// GCC 15+'s true/false arc flags; GCC 13 and 15 name the tags they do not
/// know UNKNOWN.
#[test]
fn notes_of_gcc_13_to_16_match_their_gcov_dump() {
    let mut n = 0;
    let mut conditions = 0;
    let mut paths = 0;
    for (set, major) in [
        ("gcc-13", 13),
        ("gcc-14", 14),
        ("ppc64-gcc-14", 14),
        ("gcc-15", 15),
        ("gcc-16", 16),
        ("gcc-13-pg", 13),
        ("gcc-14-pg", 14),
        ("gcc-15-pg", 15),
        ("gcc-16-pg", 16),
    ] {
        let g = common::gcc(major);
        if !g.available() {
            continue;
        }
        let files = common::files_with_suffix(&common::samples().join(set), ".gcno");
        assert!(!files.is_empty(), "{set}");
        for path in files {
            let ours = xencov(&["dump".as_ref(), path.as_os_str()]);
            assert!(
                ours.status.success(),
                "{}",
                String::from_utf8_lossy(&ours.stderr)
            );
            let ours = String::from_utf8(ours.stdout).unwrap();
            let theirs = common::run(g.tool("gcov-dump").arg("-l").arg(&path));
            let theirs = String::from_utf8(theirs.stdout).unwrap();
            let theirs: Vec<&str> = theirs
                .lines()
                .filter(|l| !l.contains(":warning:"))
                .skip(1)
                .collect();
            let ours: Vec<&str> = ours.lines().skip(1).collect();
            assert_eq!(ours, theirs, "{}", path.display());
            conditions += ours.iter().filter(|l| l.contains(":CONDITIONS ")).count();
            paths += ours.iter().filter(|l| l.contains(":PATHS ")).count();
            n += 1;
        }
    }
    if n > 0 {
        // The calc sets of 14-16 are built with -fcondition-coverage, 15-16
        // with -fpath-coverage: the comparison above saw those records.
        assert!(conditions > 0 && paths > 0, "{conditions} {paths}");
    }
}

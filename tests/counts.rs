//! Counts that gcov's signed 64 bits and a naive sum get wrong, checked on
//! programs gcc-12 builds and runs here, against gcov-12 and lcov 1.16:
//! counts past 2^63 (combined and in one unit), negative counts from
//! inconsistent counters, one source compiled under two names, lcov's rule
//! for test names, the summary table's layout with non-ASCII names, and a
//! loop of thousands of blocks on one line.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Tmp, run, sorted_lines};
use unicode_width::UnicodeWidthStr;
use xencov::gcov::gcda::{Gcda, Record, Values};

fn xencov(args: &[&std::ffi::OsStr]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// `xencov-rs lcov DIR --gcno-dir DIR -o OUT`, its stderr.
fn lcov_ours(dir: &Path, out: &Path) -> String {
    let o = xencov(&[
        "lcov".as_ref(),
        dir.as_os_str(),
        "--gcno-dir".as_ref(),
        dir.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path, format: &str) -> String {
    let o = xencov(&[
        "report".as_ref(),
        dir.as_os_str(),
        "--gcno-dir".as_ref(),
        dir.as_os_str(),
        "--format".as_ref(),
        format.as_ref(),
    ]);
    String::from_utf8(o.stdout).unwrap()
}

/// Compiles each (source, object, extra flags) with `gcc-12 --coverage -O0`
/// in `dir`, links them and runs the program once.
fn build_and_run(dir: &Path, units: &[(&str, &str, &[&str])]) {
    for (src, obj, flags) in units {
        run(Command::new("gcc-12")
            .current_dir(dir)
            .args(["--coverage", "-O0", "-c", src, "-o", obj])
            .args(*flags));
    }
    run(Command::new("gcc-12")
        .current_dir(dir)
        .args(["--coverage", "-o", "prog"])
        .args(units.iter().map(|u| u.1)));
    // The programs return 0 or 1 on purpose; only the counters matter.
    let o = Command::new(dir.join("prog")).output().unwrap();
    assert!(o.status.code().is_some(), "{o:?}");
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A static inline header function used by two units: its lines appear in
/// both units' notes, and `lcov -a` adds their counts.
fn header_program(dir: &Path) {
    write(
        dir,
        "hdr.h",
        "static inline int hot(int x)\n{\n\tif (x > 0)\n\t\treturn x + 1;\n\treturn x - 1;\n}\n",
    );
    write(
        dir,
        "a.c",
        "#include \"hdr.h\"\nint fa(int x)\n{\n\treturn hot(x);\n}\n",
    );
    write(
        dir,
        "main.c",
        "#include \"hdr.h\"\nint fa(int x);\nint main(int argc, char **argv)\n{\n\t(void)argv;\n\
         \treturn hot(argc) + fa(argc) - 4;\n}\n",
    );
    build_and_run(dir, &[("a.c", "a.o", &[]), ("main.c", "main.o", &[])]);
}

/// The notes beside gcov-tool's output, so lcov and gcov find them.
fn copy_notes(from: &Path, to: &Path) {
    for n in common::files_with_suffix(from, ".gcno") {
        std::fs::copy(&n, to.join(n.file_name().unwrap())).unwrap();
    }
}

fn values_of(info: &[String], tag: &str) -> Vec<String> {
    info.iter()
        .filter_map(|l| l.strip_prefix(tag))
        .map(|v| v.rsplit(',').next().unwrap().to_string())
        .collect()
}

/// No report format may print a negative count.
fn no_negative_numbers(dir: &Path) {
    let json = report(dir, "json");
    // One document per unit, one to a line.
    let docs: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    fn walk(v: &serde_json::Value) {
        match v {
            serde_json::Value::Number(n) => {
                assert!(!n.to_string().starts_with('-'), "negative number {n}")
            }
            serde_json::Value::Array(a) => a.iter().for_each(walk),
            serde_json::Value::Object(o) => o.values().for_each(walk),
            _ => {}
        }
    }
    assert!(!docs.is_empty());
    docs.iter().for_each(walk);
    let xml = report(dir, "cobertura");
    assert!(!xml.contains("=\"-"), "{xml}");
    let summary = report(dir, "summary");
    let negative = summary
        .split(|c: char| c.is_whitespace() || c == '/')
        .any(|w| w.starts_with('-') && w.len() > 1);
    assert!(!negative, "{summary}");
}

/// Issue 10.1: a header function run 5e18 times from each of two units.
/// gcov-tool scales a real run; the combined count (1e19) is past 2^63 and
/// must equal what `lcov -a` writes, not wrap to a negative number.
#[test]
fn counts_past_2_63_combine_as_lcov_combines_them() {
    let t = Tmp::new("counts-2-63");
    let build = t.p("build");
    std::fs::create_dir_all(&build).unwrap();
    header_program(&build);
    let scaled = t.p("scaled");
    run(Command::new("gcov-tool-12")
        .args(["rewrite", "-s", "5000000000000000000", "-o"])
        .arg(&scaled)
        .arg(&build));
    copy_notes(&build, &scaled);

    let theirs = common::lcov_capture(&scaled, "gcov-12", &t.0);
    let out = t.p("ours.info");
    lcov_ours(&scaled, &out);
    assert_eq!(common::tracefile_by_file(&out), theirs);
    let ours = sorted_lines(&out);
    // The header's lines: two units of about 5e18 each, past i64::MAX.
    let da: Vec<u128> = values_of(&ours, "DA:")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(da.iter().any(|&c| c > i64::MAX as u128), "{ours:?}");
    assert!(values_of(&ours, "LH:").iter().all(|v| v != "0"), "{ours:?}");
    no_negative_numbers(&scaled);
    let summary = report(&scaled, "summary");
    let total = summary.lines().find(|l| l.starts_with("total")).unwrap();
    assert!(total.contains("7/8") && total.contains("3/3"), "{summary}");
}

/// A counter of 2^63 or more in one unit: gcov reads counters as signed
/// 64-bit numbers and prints it negative, which lcov then turns into 0 (a
/// run line reported as never run). We keep the counter's unsigned value,
/// and sums past 2^64 stay exact where lcov rounds them to 15 digits.
#[test]
fn a_counter_past_2_63_keeps_its_value_where_gcov_turns_negative() {
    let t = Tmp::new("counts-u64");
    let build = t.p("build");
    std::fs::create_dir_all(&build).unwrap();
    header_program(&build);
    let scaled = t.p("scaled");
    run(Command::new("gcov-tool-12")
        .args(["rewrite", "-s", "5000000000000000000", "-o"])
        .arg(&scaled)
        .arg(&build));
    // gcov-tool's merge adds the counters as libgcov does (modulo 2^64).
    let big = t.p("big");
    run(Command::new("gcov-tool-12")
        .arg("merge")
        .arg(&scaled)
        .arg(&scaled)
        .arg("-o")
        .arg(&big));
    copy_notes(&build, &big);
    let gcda = Gcda::decode(&std::fs::read(big.join("a.gcda")).unwrap()).unwrap();
    let counter = gcda.functions().next().unwrap().counters[0]
        .values
        .iter()
        .next()
        .unwrap();
    assert!(counter > i64::MAX as u64, "{counter}");

    // The oracle's view: gcov-12 prints the count negative.
    let o = run(Command::new("gcov-12").current_dir(&big).args([
        "--json-format",
        "--stdout",
        "a.gcda",
    ]));
    let theirs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fa = &theirs["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "a.c")
        .unwrap()["functions"][0];
    assert_eq!(fa["execution_count"].as_i64(), Some(counter as i64));
    assert!(fa["execution_count"].as_i64().unwrap() < 0);

    // gcov-dump prints the counter signed; `dump` prints the same bits unsigned.
    let theirs = run(Command::new("gcov-dump-12")
        .arg("-l")
        .arg(big.join("a.gcda")));
    assert!(String::from_utf8_lossy(&theirs.stdout).contains(&format!(" {} ", counter as i64)));
    let o = xencov(&["dump".as_ref(), big.join("a.gcda").as_os_str()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!(" {counter} ")));

    let out = t.p("ours.info");
    lcov_ours(&big, &out);
    let ours = std::fs::read_to_string(&out).unwrap();
    assert!(ours.contains(&format!("FNDA:{counter},fa")), "{ours}");
    // hot() ran `counter` times from each unit: the sum passes 2^64.
    let sum = 2 * u128::from(counter);
    assert!(sum > u128::from(u64::MAX));
    assert!(ours.contains(&format!("DA:1,{sum}")), "{ours}");
    assert!(!ours.contains(",-") && !ours.contains("LH:0"), "{ours}");
    let json = report(&big, "json");
    assert!(json.contains(&format!("\"execution_count\": {counter}")));
    no_negative_numbers(&big);

    // lcov reads such a number as a floating-point value and writes it with
    // 15 significant digits: the same number, rounded.
    let comb = t.p("comb.info");
    run(Command::new("lcov")
        .args(["--quiet", "--rc", "lcov_branch_coverage=1", "-a"])
        .arg(&out)
        .arg("-o")
        .arg(&comb));
    let lcov_says = std::fs::read_to_string(&comb).unwrap();
    let da1: f64 = lcov_says
        .lines()
        .find_map(|l| l.strip_prefix("DA:1,"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        ((da1 - sum as f64) / sum as f64).abs() < 1e-14,
        "{lcov_says}"
    );
}

/// A loop whose counters, edited as a non-atomic snapshot of a running
/// system can leave them, no longer conserve flow: gcov computes a negative
/// line count (-24) and negative branch counts, which lcov writes as 0 and
/// `-`. We must write what `lcov -a` writes, and warn once naming the unit.
#[test]
fn negative_counts_are_written_as_lcov_writes_them() {
    let t = Tmp::new("counts-negative");
    let dir = t.p("build");
    write(
        &dir,
        "loop.c",
        "int work(int n)\n{\n\tint s = 0;\n\tfor (int i = 0; i < n; i++) {\n\t\tif (i & 1) {\n\
         \t\t\ts += i;\n\t\t\tcontinue;\n\t\t}\n\t\ts -= 1;\n\t\tif (s > 100)\n\t\t\tbreak;\n\t}\n\
         \treturn s;\n}\n\nint main(int argc, char **argv)\n{\n\t(void)argv;\n\
         \treturn work(argc + 4) == 6 ? 0 : 1;\n}\n",
    );
    build_and_run(&dir, &[("loop.c", "loop.o", &[])]);
    // work()'s arc counters are [1, 2, 3, 0]; the last is the `break` taken.
    let path = dir.join("loop.gcda");
    let mut gcda = Gcda::decode(&std::fs::read(&path).unwrap()).unwrap();
    let mut edited = 0;
    for r in &mut gcda.records {
        let Record::Function(f) = r else { continue };
        if let Some(c) = f.counters.first_mut()
            && c.values.iter().collect::<Vec<_>>() == [1, 2, 3, 0]
        {
            c.values = Values::Stored(vec![1, 2, 3, 30]);
            edited += 1;
        }
    }
    assert_eq!(edited, 1);
    std::fs::write(&path, gcda.encode()).unwrap();

    // gcov itself computes negative counts from these counters.
    let o = run(Command::new("gcov-12").current_dir(&dir).args([
        "--json-format",
        "--stdout",
        "-b",
        "loop.gcda",
    ]));
    let g: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let line4 = g["files"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["line_number"] == 4)
        .unwrap();
    assert_eq!(line4["count"], -24);

    let theirs = common::lcov_capture(&dir, "gcov-12", &t.0);
    assert!(theirs.iter().any(|l| l.ends_with(": DA:4,0")), "{theirs:?}");
    assert!(
        theirs.iter().any(|l| l.ends_with(": BRDA:4,0,1,-")),
        "{theirs:?}"
    );
    let out = t.p("ours.info");
    let err = lcov_ours(&dir, &out);
    assert_eq!(common::tracefile_by_file(&out), theirs);
    assert_eq!(err.matches("negative counts").count(), 1, "{err}");
    assert!(
        err.contains("negative counts in 1 unit (loop.gcda)")
            && err.contains("-fprofile-update=atomic"),
        "{err}"
    );
    // The warning is of the unit's counts, in files --exclude leaves out
    // too (a unit's files are folded one by one, those left out only
    // looked at): said before the error that nothing is left.
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("lcov")
        .arg(&dir)
        .arg("--gcno-dir")
        .arg(&dir)
        .args(["--exclude", ".*loop", "-o"])
        .arg(t.p("none.info"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    let (warned, nothing) = (
        err.find("negative counts in 1 unit (loop.gcda)"),
        err.find("leave no source file"),
    );
    assert!(warned.is_some() && warned < nothing, "{err}");
    no_negative_numbers(&dir);
    let xml = report(&dir, "cobertura");
    assert!(xml.contains("<line number=\"4\" hits=\"0\""), "{xml}");
}

/// Issue 14.4: one source compiled under two names (`common/x.c` and
/// `common/compat/../x.c`, as Xen compiles `common/xenoprof.c` twice).
/// Once the build tree has moved, gcov cannot resolve the `..` and reports
/// the second name as it is; geninfo folds it, so `lcov -a` shows one file.
#[test]
fn one_source_under_two_names_is_one_record() {
    let t = Tmp::new("counts-two-names");
    let old = t.p("old");
    write(
        &old,
        "common/x.c",
        "#ifdef COMPAT\n#define NAME compat_f\n#else\n#define NAME native_f\n#endif\n\
         int NAME(int a)\n{\n\tif (a > 1)\n\t\treturn a * 2;\n\treturn a;\n}\n",
    );
    write(
        &old,
        "main.c",
        "int compat_f(int);\nint native_f(int);\nint main(int argc, char **argv)\n{\n\
         \t(void)argv;\n\treturn compat_f(argc) + native_f(argc + 1) - 4;\n}\n",
    );
    std::fs::create_dir_all(old.join("common/compat")).unwrap();
    let abs = |rel: &str| old.join(rel).display().to_string();
    build_and_run(
        &old,
        &[
            (&abs("common/x.c"), "common/x.o", &[]),
            (
                &abs("common/compat/../x.c"),
                "common/compat/x.o",
                &["-DCOMPAT"],
            ),
            (&abs("main.c"), "main.o", &[]),
        ],
    );
    let dir = t.p("moved");
    std::fs::rename(&old, &dir).unwrap();

    let o = run(Command::new("gcov-12")
        .current_dir(dir.join("common/compat"))
        .args(["--json-format", "--stdout", "x.gcda"]));
    let g: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        g["files"][0]["file"].as_str().unwrap(),
        abs("common/compat/../x.c")
    );

    let theirs = common::lcov_capture(&dir, "gcov-12", &t.0);
    let out = t.p("ours.info");
    lcov_ours(&dir, &out);
    assert_eq!(common::tracefile_by_file(&out), theirs);
    let ours = sorted_lines(&out);
    let sf: Vec<&String> = ours.iter().filter(|l| l.starts_with("SF:")).collect();
    assert_eq!(
        sf,
        [
            &format!("SF:{}", abs("common/x.c")),
            &format!("SF:{}", abs("main.c"))
        ]
    );
    assert!(ours.contains(&"FNDA:1,compat_f".to_string()));
    assert!(ours.contains(&"FNDA:1,native_f".to_string()));
    // The JSON report names the file once too.
    let json = report(&dir, "json");
    assert!(!json.contains("/../"), "{json}");
}

/// Issue 10.5: lcov stores a test name with every character but letters,
/// digits and `_` replaced (byte by byte), and warns.
#[test]
fn test_names_are_cleaned_as_lcov_cleans_them() {
    let t = Tmp::new("counts-tn");
    let dir = t.p("build");
    write(&dir, "m.c", "int main(void)\n{\n\treturn 0;\n}\n");
    build_and_run(&dir, &[("m.c", "m.o", &[])]);
    let name = "nightly run-1 é,x.y";
    let cap = t.p("cap.info");
    let o = run(Command::new("lcov")
        .args(["--capture", "--gcov-tool", "gcov-12", "-t", name, "-d"])
        .arg(&dir)
        .arg("-o")
        .arg(&cap));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid characters removed"));
    let theirs = std::fs::read_to_string(&cap).unwrap();
    let theirs = theirs.lines().next().unwrap();
    let out = t.p("ours.info");
    let o = xencov(&[
        "lcov".as_ref(),
        dir.as_os_str(),
        "--gcno-dir".as_ref(),
        dir.as_os_str(),
        "--test-name".as_ref(),
        name.as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    let ours = std::fs::read_to_string(&out).unwrap();
    assert_eq!(ours.lines().next().unwrap(), theirs);
    assert_eq!(theirs, "TN:nightly_run_1____x_y");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("invalid characters in the test name"), "{err}");
    // genhtml takes it without a word (it warns on the raw name).
    let o = run(Command::new("genhtml")
        .args(["--no-source", "-o"])
        .arg(t.p("html"))
        .arg(&out));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!all.contains("WARNING"), "{all}");
}

/// Issue 10.15: the summary's columns line up whatever the directory names
/// are made of (padding by display width), and counts of one are singular.
#[test]
fn summary_aligns_non_ascii_directories_and_messages_count_in_the_singular() {
    let t = Tmp::new("counts-summary");
    let dir = t.p("build");
    write(
        &dir,
        "main.c",
        "int f(void);\nint g(void);\nint main(void)\n{\n\treturn f() + g();\n}\n",
    );
    write(&dir, "café/f.c", "int f(void)\n{\n\treturn 0;\n}\n");
    write(&dir, "源码/g.c", "int g(void)\n{\n\treturn 0;\n}\n");
    build_and_run(
        &dir,
        &[
            ("main.c", "main.o", &[]),
            ("café/f.c", "café/f.o", &[]),
            ("源码/g.c", "源码/g.o", &[]),
        ],
    );
    let summary = report(&dir, "summary");
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(rows.len(), 5, "{summary}");
    let widths: Vec<usize> = rows[1..].iter().map(|r| r.width()).collect();
    assert!(widths.iter().all(|&w| w == widths[0]), "{summary}");
    let col = |r: &str| r.find('%').map(|i| r[..i].width()).unwrap();
    assert!(
        rows[1..].iter().all(|r| col(r) == col(rows[1])),
        "{summary}"
    );

    // One unit, one source file.
    let one = t.p("one");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::copy(dir.join("café/f.gcda"), one.join("f.gcda")).unwrap();
    std::fs::copy(dir.join("café/f.gcno"), one.join("f.gcno")).unwrap();
    let err = lcov_ours(&one, &t.p("one.info"));
    assert!(err.contains("lcov: 1 unit, 1 source file"), "{err}");
    let o = xencov(&[
        "merge".as_ref(),
        one.as_os_str(),
        "-o".as_ref(),
        t.p("one.xcov").as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("merged 1 input into 1 unit"), "{err}");
    let o = xencov(&[
        "split".as_ref(),
        t.p("one.xcov").as_os_str(),
        "-o".as_ref(),
        t.p("split").as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(": 1 gcda file under"), "{err}");
}

/// A loop whose body is 1,500 `if`s on one line (what a macro's expansion
/// gives): the line's count is the flow around a cycle of some 3,000
/// blocks. The cycle search followed paths 2,048 blocks deep at most, cut
/// this one, warned "too many cycles" and counted the line 1 where gcov
/// counts 4 (the loop ran 3 times, plus the entry). The whole tracefile is
/// lcov's (through gcov-12), record by record, without a warning.
#[test]
fn a_loop_of_thousands_of_blocks_on_one_line_is_counted_as_gcov_counts_it() {
    let t = Tmp::new("counts-long-cycle");
    let dir = t.p("src");
    let body: String = (0..1500)
        .map(|k| format!("if (v[{}] > {}) s += {k}; ", k % 4, k % 3))
        .collect();
    write(
        &dir,
        "long.c",
        &format!(
            "volatile int v[4] = {{5, 6, 7, 8}};\n\
             int run(int times) {{ int s = 0; for (int t = 0; t < times; t++) {{ {body}}} return s; }}\n\
             int main(void) {{ return run(3) & 1; }}\n"
        ),
    );
    build_and_run(&dir, &[("long.c", "long.o", &[])]);
    let theirs = common::lcov_capture(&dir, "gcov-12", &t.0);
    let out = t.p("ours.info");
    let stderr = lcov_ours(&dir, &out);
    assert!(!stderr.contains("too many cycles"), "{stderr}");
    assert!(
        sorted_lines(&out).contains(&"DA:2,4".to_string()),
        "line 2 counted as gcov counts it"
    );
    assert_eq!(common::tracefile_by_file(&out), theirs);
}

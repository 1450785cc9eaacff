//! `report --format json` against the real `gcov-N -t --json-format -b`,
//! byte for byte, on programs built here by gcc-11, gcc-12 and g++-12 with
//! the cases where gcov's `function_name` rules matter (a static function
//! defined after its caller and inlined at -O2, an always_inline function, a
//! GCC nested function: tests/report_json/inline_nested.c) and C++ names for
//! `demangled_name` (tests/report_json/cxx.cc); and the framing: one document
//! per unit, one per line, as `gcov -t` prints several data files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Tmp, run};

fn ours(dir: &Path, inputs: &[PathBuf]) -> String {
    let out = dir.join("ours.json");
    run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("report")
        .args(inputs)
        .arg("--gcno-dir")
        .arg(dir)
        .args(["--format", "json", "-o"])
        .arg(&out));
    std::fs::read_to_string(&out).unwrap()
}

/// Builds `src` with `cc FLAGS`, runs it once and returns the build
/// directory (which holds the gcda and gcno files).
fn build(t: &Tmp, name: &str, cc: &str, flags: &[&str], src: &str) -> PathBuf {
    let dir = t.p(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = Path::new(src).file_name().unwrap();
    std::fs::copy(
        common::root().join("tests/report_json").join(src),
        dir.join(file),
    )
    .unwrap();
    let obj = Path::new(file).with_extension("o");
    run(Command::new(cc)
        .current_dir(&dir)
        .args(flags)
        .args(["--coverage", "-c"])
        .arg(file)
        .arg("-o")
        .arg(&obj));
    run(Command::new(cc)
        .current_dir(&dir)
        .arg("--coverage")
        .arg(&obj)
        .args(["-o", "prog"]));
    run(Command::new(dir.join("prog")).current_dir(&dir));
    dir
}

fn gcov(dir: &Path, gcov: &str, gcda: &str) -> String {
    let o = run(Command::new(gcov)
        .current_dir(dir)
        .args(["-t", "--json-format", "-b", gcda]));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn function_names_after_inlined_and_nested_functions_equal_gcov() {
    let t = Tmp::new("json-inline");
    for (cc, gcov_n) in [("gcc-11", "gcov-11"), ("gcc-12", "gcov-12")] {
        for opt in ["-O0", "-O2"] {
            let dir = build(&t, &format!("{cc}{opt}"), cc, &[opt], "inline_nested.c");
            let theirs = gcov(&dir, gcov_n, "inline_nested.gcda");
            let mine = ours(&dir, &[dir.join("inline_nested.gcda")]);
            // data_file is the argument as given: ours names the input.
            let path = dir.join("inline_nested.gcda").display().to_string();
            let mine = mine.replace(
                &format!("\"data_file\": \"{path}\""),
                "\"data_file\": \"inline_nested.gcda\"",
            );
            assert_eq!(mine, theirs, "{cc} {opt}");
            // The cases are there: lines after a function's end without a
            // name, and the outer function's lines after the nested one.
            let doc: serde_json::Value = serde_json::from_str(&theirs).unwrap();
            let lines = doc["files"][0]["lines"].as_array().unwrap();
            let name_at = |n: u64| {
                lines
                    .iter()
                    .find(|l| l["line_number"] == n)
                    .map(|l| l.get("function_name").cloned())
            };
            assert_eq!(name_at(15), Some(Some("outer".into())), "{cc} {opt}");
            assert!(
                lines
                    .iter()
                    .any(|l| l["line_number"].as_u64() > Some(30)
                        && l.get("function_name").is_none()),
                "{cc} {opt}"
            );
            assert!(
                lines.iter().any(|l| l["function_name"] == "nested.0"),
                "{cc} {opt}"
            );
        }
    }
}

/// demangled_name is libiberty's demangling (gcov writes it with or without
/// --demangled-names); ours is the cpp_demangle crate's, corrected where it
/// drops a constructor template's first parameter. Byte-identical.
#[test]
fn cxx_demangled_names_equal_gcov() {
    let t = Tmp::new("json-cxx");
    for opt in ["-O0", "-O2"] {
        let dir = build(&t, &format!("cxx{opt}"), "g++-12", &[opt], "cxx.cc");
        let theirs = gcov(&dir, "gcov-12", "cxx.gcda");
        let mine = ours(&dir, &[dir.join("cxx.gcda")]);
        let path = dir.join("cxx.gcda").display().to_string();
        let mine = mine.replace(
            &format!("\"data_file\": \"{path}\""),
            "\"data_file\": \"cxx.gcda\"",
        );
        assert_eq!(mine, theirs, "{opt}");
        let g: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        let demangled = g["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["functions"].as_array().unwrap())
            .filter(|f| f["demangled_name"] != f["name"])
            .count();
        assert!(demangled >= 3, "{opt}: too few C++ names");
        if opt != "-O0" {
            continue; // the names below are inlined away at -O2
        }
        assert!(demangled > 10, "{opt}: too few C++ names");
        for want in [
            "ns::Box::get() const",
            "long ns::twice<long>(long)",
            "main::{lambda(int)#1}::operator()(int) const",
            "(anonymous namespace)::hidden(std::vector<int, std::allocator<int> > const&)",
            "ns::Box::operator+(ns::Box const&) const",
            "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<std::allocator<char> >(unsigned long, char, std::allocator<char> const&)",
        ] {
            assert!(
                mine.contains(&format!("\"demangled_name\": \"{want}\"")),
                "{opt}: {want}"
            );
        }
        assert!(mine.contains("\"name\": \"plain_c\", \"blocks_executed\""));
        assert!(mine.contains("\"demangled_name\": \"plain_c\""));
    }
}

/// Several units: one document per unit, each followed by a newline, as
/// `gcov -t --json-format` prints several data files; `-o FILE` holds the
/// same text. Each equals gcov's output for its unit.
#[test]
fn one_document_per_unit_per_line_as_gcov_t() {
    for (set, gcov_n) in [
        ("gcc-12-pg/vp/run2", "gcov-12"),
        ("gcc-11/calc/run3", "gcov-11"),
    ] {
        let t = Tmp::new(&format!("json-units-{}", set.replace('/', "-")));
        let dir = t.p("data");
        std::fs::create_dir_all(&dir).unwrap();
        for f in std::fs::read_dir(common::samples().join(set)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
        }
        let text = ours(&dir, std::slice::from_ref(&dir));
        assert!(text.ends_with("}\n"), "{set}");
        let docs: Vec<&str> = text.lines().collect();
        assert_eq!(docs.len(), 4, "{set}");
        for doc in docs {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            let data = v["data_file"].as_str().unwrap().to_string();
            let gcda = Path::new(&data).file_name().unwrap().to_str().unwrap();
            let theirs = gcov(&dir, gcov_n, gcda);
            let mine = doc.replace(
                &format!("\"data_file\": \"{data}\""),
                &format!("\"data_file\": \"{gcda}\""),
            ) + "\n";
            assert_eq!(mine, theirs, "{set} {gcda}");
        }
    }
}

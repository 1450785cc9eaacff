//! `report --format cobertura` against the real `gcovr --cobertura` (gcovr 8.8
//! from PyPI, installed by scripts/setup; Debian's gcovr 5.2 writes no
//! `<method>` figures at all) run with the matching gcov on the same sample
//! data: every figure of the coverage element, every package, class, method
//! and line (hits, branch, condition-coverage, rates) must be the same, and
//! our report must validate against the Cobertura DTD.
//!
//! gcovr reads the sources (it fails without them), so each run gets a scratch
//! build directory with the data files and the sources of `samples/src`;
//! ours reads the same data with `--root` set to the directory the samples
//! were built in, so both write the same relative file names.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Tmp, run};

/// Everything of a Cobertura document that is a figure, keyed so that two
/// documents can be compared element by element.
#[derive(Debug, PartialEq, Default)]
struct Report {
    coverage: Vec<(String, String)>,
    packages: BTreeMap<String, (String, String)>,
    classes: BTreeMap<String, Class>,
}

#[derive(Debug, PartialEq, Default)]
struct Class {
    rates: (String, String),
    methods: BTreeMap<String, Method>,
    lines: Vec<Line>,
}

#[derive(Debug, PartialEq, Default)]
struct Method {
    rates: (String, String),
    lines: Vec<Line>,
}

/// number, hits, branch, condition-coverage, the conditions' coverage.
type Line = (String, String, String, String, Vec<String>);

fn attr(n: roxmltree::Node<'_, '_>, a: &str) -> String {
    n.attribute(a)
        .unwrap_or_else(|| panic!("<{}> without {a}", n.tag_name().name()))
        .to_string()
}

fn children<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    tag: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children().filter(move |c| c.has_tag_name(tag))
}

fn lines(n: roxmltree::Node<'_, '_>) -> Vec<Line> {
    let lines = children(n, "lines").next().expect("<lines>");
    children(lines, "line")
        .map(|l| {
            (
                attr(l, "number"),
                attr(l, "hits"),
                l.attribute("branch").unwrap_or("false").to_string(),
                l.attribute("condition-coverage").unwrap_or("").to_string(),
                l.descendants()
                    .filter(|c| c.has_tag_name("condition"))
                    .map(|c| {
                        format!(
                            "{} {} {}",
                            attr(c, "number"),
                            attr(c, "type"),
                            attr(c, "coverage")
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

fn rates(n: roxmltree::Node<'_, '_>) -> (String, String) {
    (attr(n, "line-rate"), attr(n, "branch-rate"))
}

fn parse(path: &Path, dotted_packages: bool) -> Report {
    let text = std::fs::read_to_string(path).unwrap();
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = doc.root_element();
    let mut r = Report {
        coverage: [
            "line-rate",
            "branch-rate",
            "lines-covered",
            "lines-valid",
            "branches-covered",
            "branches-valid",
            "complexity",
        ]
        .iter()
        .map(|a| (a.to_string(), attr(root, a)))
        .collect(),
        ..Report::default()
    };
    for p in root.descendants().filter(|n| n.has_tag_name("package")) {
        // gcovr writes a package's directory with dots; we keep the slashes.
        let mut name = attr(p, "name");
        if !dotted_packages {
            name = name.replace('/', ".");
        }
        assert!(r.packages.insert(name, rates(p)).is_none());
        for c in p.descendants().filter(|n| n.has_tag_name("class")) {
            let mut class = Class {
                rates: rates(c),
                lines: lines(c),
                ..Class::default()
            };
            let methods = children(c, "methods").next().expect("<methods>");
            for m in children(methods, "method") {
                let method = Method {
                    rates: rates(m),
                    lines: lines(m),
                };
                assert!(class.methods.insert(attr(m, "name"), method).is_none());
            }
            assert!(r.classes.insert(attr(c, "filename"), class).is_none());
        }
    }
    r
}

/// One comparison: `data` holds the gcda and gcno files gcovr reads (through
/// `gcov`), `inputs` what we read, `set` the build directory the samples
/// record, `src` the sources.
fn compare(name: &str, data: &Path, inputs: &[PathBuf], gcov: &str, set: &str, src: &str) {
    let t = Tmp::new(&format!("cob-gcovr-{}", name.replace('/', "-")));
    let build = t.p("build");
    std::fs::create_dir_all(&build).unwrap();
    for dir in [data, &common::samples().join("src").join(src)] {
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, build.join(f.file_name().unwrap())).unwrap();
        }
    }
    let theirs = t.p("gcovr.xml");
    run(Command::new(common::gcovr())
        .current_dir(&build)
        .args(["--gcov-executable", gcov, "--timestamp", "0", "-r"])
        .arg(&build)
        .arg("--cobertura")
        .arg(&theirs)
        .arg(&build));
    let ours = t.p("ours.xml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
    cmd.arg("report")
        .args(inputs)
        .arg("--gcno-dir")
        .arg(&inputs[0])
        .args(["--format", "cobertura", "--root"])
        .arg(format!("/tmp/xencov-samples-build/{set}"))
        .arg("-o")
        .arg(&ours);
    run(&mut cmd);
    same_report(name, &ours, &theirs);
}

/// Our report `ours` validates, and equals gcovr's `theirs` figure for figure.
fn same_report(name: &str, ours: &Path, theirs: &Path) {
    run(Command::new("xmllint")
        .args(["--noout", "--nonet", "--dtdvalid"])
        .arg(common::root().join("tests/cobertura/coverage-04.dtd"))
        .arg(ours));
    let (o, g) = (parse(ours, false), parse(theirs, true));
    assert!(g.classes.len() >= 4, "{name}: {g:?}");
    assert!(
        g.classes.values().map(|c| c.methods.len()).sum::<usize>() >= 8,
        "{name}: gcovr wrote too few methods"
    );
    // A file outside the root (a system header's inline function at -O2)
    // is left out by both: the root is also the default filter.
    assert_eq!(o.coverage, g.coverage, "{name}: <coverage>");
    assert_eq!(
        o.classes.keys().collect::<Vec<_>>(),
        g.classes.keys().collect::<Vec<_>>(),
        "{name}: classes"
    );
    for (file, gc) in &g.classes {
        let oc = &o.classes[file];
        assert_eq!(oc.lines, gc.lines, "{name}: {file}: lines");
        assert_eq!(oc.rates, gc.rates, "{name}: {file}: rates");
        assert_eq!(
            oc.methods.keys().collect::<Vec<_>>(),
            gc.methods.keys().collect::<Vec<_>>(),
            "{name}: {file}: methods"
        );
        for (m, gm) in &gc.methods {
            assert_eq!(&oc.methods[m], gm, "{name}: {file}: method {m}");
        }
    }
    assert_eq!(o.packages, g.packages, "{name}: packages");
    // The data is not trivial: some lines ran, some did not, some branches.
    let hits: Vec<u64> = g
        .classes
        .values()
        .flat_map(|c| c.lines.iter().map(|l| l.1.parse::<u64>().unwrap()))
        .collect();
    assert!(hits.iter().any(|&h| h > 1) && hits.contains(&0), "{name}");
}

fn samples(rel: &str) -> PathBuf {
    common::samples().join(rel)
}

#[test]
fn cobertura_equals_gcovr_on_gcc_11() {
    let d = samples("gcc-11/calc/run1");
    compare(
        "gcc-11",
        &d,
        std::slice::from_ref(&d),
        "gcov-11",
        "gcc-11/calc",
        "calc",
    );
}

#[test]
fn cobertura_equals_gcovr_on_gcc_12() {
    let d = samples("gcc-12/calc/run2");
    compare(
        "gcc-12",
        &d,
        std::slice::from_ref(&d),
        "gcov-12",
        "gcc-12/calc",
        "calc",
    );
}

/// Big-endian data of a powerpc64 build: gcov-12 reads it as well.
#[test]
fn cobertura_equals_gcovr_on_ppc64() {
    let d = samples("ppc64-gcc-12/calc/run3");
    compare(
        "ppc64",
        &d,
        std::slice::from_ref(&d),
        "gcov-12",
        "ppc64-gcc-12/calc",
        "calc",
    );
}

/// -O2 builds with value profiling (-fprofile-generate): inlined functions,
/// gcc-11 and gcc-12.
#[test]
fn cobertura_equals_gcovr_on_o2_builds() {
    for (set, gcov) in [("gcc-11-pg/vp", "gcov-11"), ("gcc-12-pg/vp", "gcov-12")] {
        let d = samples(&format!("{set}/run2"));
        compare(set, &d, std::slice::from_ref(&d), gcov, set, "vp");
    }
}

/// Two runs merged by us, against gcovr on gcov-tool's merge of the same runs.
#[test]
fn cobertura_equals_gcovr_on_a_merged_run() {
    let t = Tmp::new("cob-gcovr-merge-in");
    let (r1, r2) = (samples("gcc-12/calc/run1"), samples("gcc-12/calc/run4"));
    let merged = t.p("merged");
    run(Command::new("gcov-tool-12")
        .arg("merge")
        .arg(&r1)
        .arg(&r2)
        .arg("-o")
        .arg(&merged));
    for gcno in common::files_with_suffix(&r1, ".gcno") {
        std::fs::copy(&gcno, merged.join(gcno.file_name().unwrap())).unwrap();
    }
    compare(
        "merged",
        &merged,
        &[r1, r2],
        "gcov-12",
        "gcc-12/calc",
        "calc",
    );
}

/// Where gcovr's methods differ by design: gcovr (reading gcov's text
/// output) gives a line to the last function that started before it, so the
/// outer function's lines after a GCC nested function go to the nested one,
/// and the inlined bodies of functions defined after `main` go to `main`.
/// Ours give each line to the function gcov 11/12 name in their JSON (the
/// innermost one still open there). Built here by gcc-12 at -O0 and -O2 from
/// tests/report_json/inline_nested.c; every class and line figure still
/// equals gcovr's.
#[test]
fn cobertura_methods_follow_gcovs_function_names() {
    let t = Tmp::new("cob-gcovr-nested");
    for opt in ["-O0", "-O2"] {
        let dir = t.p(opt);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            common::root().join("tests/report_json/inline_nested.c"),
            dir.join("inline_nested.c"),
        )
        .unwrap();
        run(Command::new("gcc-12").current_dir(&dir).args([
            opt,
            "--coverage",
            "inline_nested.c",
            "-o",
            "prog",
        ]));
        run(Command::new(dir.join("prog")).current_dir(&dir));
        let gcda = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "gcda"))
            .unwrap();
        let json = run(Command::new("gcov-12")
            .current_dir(&dir)
            .args(["-t", "--json-format", "-b"])
            .arg(&gcda));
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in json["files"].as_array().unwrap() {
            if f["file"] != "inline_nested.c" {
                continue;
            }
            for l in f["lines"].as_array().unwrap() {
                if let Some(n) = l["function_name"].as_str() {
                    named
                        .entry(n.to_string())
                        .or_default()
                        .push(l["line_number"].to_string());
                }
            }
        }
        let ours = t.p(&format!("ours{opt}.xml"));
        run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
            .arg("report")
            .arg(&dir)
            .arg("--gcno-dir")
            .arg(&dir)
            .args(["--format", "cobertura", "--root"])
            .arg(&dir)
            .arg("-o")
            .arg(&ours));
        let theirs = t.p(&format!("gcovr{opt}.xml"));
        run(Command::new(common::gcovr())
            .current_dir(&dir)
            .args(["--gcov-executable", "gcov-12", "--timestamp", "0", "-r"])
            .arg(&dir)
            .arg("--cobertura")
            .arg(&theirs)
            .arg(&dir));
        let (o, g) = (parse(&ours, false), parse(&theirs, true));
        let (oc, gc) = (&o.classes["inline_nested.c"], &g.classes["inline_nested.c"]);
        assert_eq!(oc.lines, gc.lines, "{opt}");
        assert_eq!(oc.rates, gc.rates, "{opt}");
        let method_lines = |c: &Class| -> BTreeMap<String, Vec<String>> {
            c.methods
                .iter()
                .map(|(n, m)| (n.clone(), m.lines.iter().map(|l| l.0.clone()).collect()))
                .filter(|(_, l): &(String, Vec<String>)| !l.is_empty())
                .collect()
        };
        assert_eq!(method_lines(oc), named, "{opt}");
        // The difference is real: gcovr gives line 15 (outer's loop, after
        // the nested function) to nested.0.
        assert!(
            method_lines(gc)["nested.0"].contains(&"15".to_string()),
            "{opt}"
        );
        assert!(named["outer"].contains(&"15".to_string()), "{opt}");
    }
}

/// `--root`: paths under it relative to it (its relative directory as the
/// package); paths outside it left out (gcovr's default filter), or, kept by
/// `--include`, relative to a second `<source>/</source>`; without it
/// everything is relative to `/`.
#[test]
fn root_makes_paths_relative_to_the_project() {
    let t = Tmp::new("cob-root");
    let dir = samples("gcc-12/calc/run1");
    let report = |root: Option<&str>, include: &[&str], out: &str| -> String {
        let out = t.p(out);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
        cmd.arg("report")
            .arg(&dir)
            .arg("--gcno-dir")
            .arg(&dir)
            .args(["--format", "cobertura", "-o"])
            .arg(&out);
        if let Some(r) = root {
            cmd.args(["--root", r]);
        }
        for i in include {
            cmd.args(["--include", i]);
        }
        run(&mut cmd);
        run(Command::new("xmllint")
            .args(["--noout", "--nonet", "--dtdvalid"])
            .arg(common::root().join("tests/cobertura/coverage-04.dtd"))
            .arg(&out));
        std::fs::read_to_string(&out).unwrap()
    };
    let sources = |xml: &str| -> Vec<String> {
        xml.lines()
            .filter(|l| l.starts_with("<source>"))
            .map(String::from)
            .collect()
    };
    let inside = report(Some("/tmp/xencov-samples-build/"), &[], "inside.xml");
    assert_eq!(
        sources(&inside),
        ["<source>/tmp/xencov-samples-build</source>"]
    );
    assert!(
        inside.contains("<package name=\"gcc-12/calc\" "),
        "{inside}"
    );
    assert!(
        inside.contains("<class name=\"main.c\" filename=\"gcc-12/calc/main.c\" "),
        "{inside}"
    );
    let outside = report(
        Some("/tmp/xencov-samples-build/gcc-12/calc/sub"),
        &["/"],
        "outside.xml",
    );
    assert_eq!(
        sources(&outside),
        [
            "<source>/tmp/xencov-samples-build/gcc-12/calc/sub</source>",
            "<source>/</source>"
        ]
    );
    assert!(
        outside.contains("filename=\"tmp/xencov-samples-build/gcc-12/calc/main.c\" "),
        "{outside}"
    );
    assert!(
        outside.contains("<package name=\"/tmp/xencov-samples-build/gcc-12/calc\" "),
        "{outside}"
    );
    let none = report(None, &[], "none.xml");
    assert_eq!(sources(&none), ["<source>/</source>"]);
    // The figures do not depend on where the paths are relative to.
    let figures = |xml: &str| -> Vec<String> {
        xml.lines()
            .filter(|l| l.starts_with("<line ") || l.starts_with("<method "))
            .map(String::from)
            .collect()
    };
    assert_eq!(figures(&inside), figures(&none));
    assert_eq!(figures(&outside), figures(&none));
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("report")
        .arg(&dir)
        .arg("--gcno-dir")
        .arg(&dir)
        .args(["--root", "/tmp/xencov-samples-build/gcc-12/calc/sub"])
        .output()
        .unwrap();
    // Without --include, nothing is below that root: an error, not an empty report.
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("leave no source file"));
}

/// GCC 14 `-fcondition-coverage` data: samples/src/calc built here by
/// trixie's gcc-14 with it and run twice. gcovr 8.8 reads the conditions
/// (it runs gcov with `--conditions`) but its Cobertura writer puts only
/// branch figures in `condition-coverage` and `<condition>` (the DTD has no
/// other place, and gcovr none for MC/DC), so ours must equal it there as
/// well. gcovr runs the chroot's gcov-14 through a wrapper. Built here, not
/// read from samples/gcc-14: gcovr takes gcov 14's JSON, whose absolute
/// source paths must lie under its root.
#[test]
fn cobertura_equals_gcovr_on_gcc_14_condition_coverage() {
    let g = common::gcc(14);
    if !g.available() {
        return;
    }
    let t = Tmp::new("cob-gcovr-gcc14");
    let wrapper = t.p("gcov-14");
    // gcovr runs gcov in the build directory (under the temp dir): the
    // chroot binds it and the temp dir at their own paths.
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} run trixie \"$PWD:{}\" gcov-14 \"$@\"\n",
            common::root().join("scripts/chroot").display(),
            std::env::temp_dir().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let build = t.p("build");
    std::fs::create_dir_all(&build).unwrap();
    let src = common::samples().join("src/calc");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, build.join(f.file_name().unwrap())).unwrap();
    }
    let mut objects = Vec::new();
    for c in common::files_with_suffix(&build, ".c") {
        let o = c.with_extension("o");
        run(g
            .command("gcc-14")
            .args(["-Wall", "--coverage", "-fcondition-coverage", "-O0", "-c"])
            .arg(&c)
            .arg("-o")
            .arg(&o));
        objects.push(o);
    }
    let prog = build.join("calc");
    run(g
        .command("gcc-14")
        .arg("--coverage")
        .args(&objects)
        .arg("-o")
        .arg(&prog));
    // The arguments of scripts/gen-samples' run1 and run2.
    for args in [
        &["3", "4", "+", "5", "*", "6", "!", "10", "F"][..],
        &[
            "2", "10", "^", "7", "%", "12", "F", "3", "-", "15", "4", "/", "n", "9", "x",
        ][..],
    ] {
        run(g.command(prog.to_str().unwrap()).args(args));
    }
    let theirs = t.p("gcovr.xml");
    run(Command::new(common::gcovr())
        .current_dir(&build)
        .arg("--gcov-executable")
        .arg(&wrapper)
        .args(["--timestamp", "0", "-r"])
        .arg(&build)
        .arg("--cobertura")
        .arg(&theirs)
        .arg(&build));
    let ours = t.p("ours.xml");
    run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("report")
        .arg(&build)
        .args(["--format", "cobertura", "--root"])
        .arg(&build)
        .arg("-o")
        .arg(&ours));
    same_report("gcc-14 -fcondition-coverage", &ours, &theirs);
    // The data has conditions: our summary shows them.
    let o = run(Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("report")
        .arg(&build));
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.lines().next().unwrap().contains("conditions"),
        "{table}"
    );
}

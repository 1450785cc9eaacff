//! `report --format html`, read back from a real browser: headless Chromium
//! (Debian's `chromium`) loads the index and file pages from disk, and the
//! figures in the DOM it renders are compared with the real lcov's: the
//! totals with `lcov --summary`, each file's row with the LF/LH, FNF/FNH and
//! BRF/BRH of `lcov --capture` (gcov-12), and a file page's line counts and
//! branch markers with that capture's DA and BRDA records. Data: the gcc-12
//! calc sample and the tests/large tree (SQLite and Lua).
//!
//! A missing browser fails these tests when XENCOV_REQUIRE_BROWSER=1 or
//! XENCOV_REQUIRE_CHROOTS=1 (CI); otherwise they say NOT RUN and pass.

mod common;

use common::{FileCounts, Tmp, run};
use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn xencov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
}

/// Whether Chromium is here; when it is not, fails under
/// XENCOV_REQUIRE_BROWSER=1 / XENCOV_REQUIRE_CHROOTS=1, else says NOT RUN.
fn have_browser(test: &str) -> bool {
    let ok = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = ["XENCOV_REQUIRE_BROWSER", "XENCOV_REQUIRE_CHROOTS"]
            .iter()
            .any(|v| std::env::var(v).as_deref() == Ok("1"));
        assert!(
            !required,
            "{test}: no `chromium` (scripts/setup installs it) and XENCOV_REQUIRE_BROWSER=1 or XENCOV_REQUIRE_CHROOTS=1"
        );
        common::not_run(&format!(
            "{test}: no `chromium` on PATH (scripts/setup installs it); set XENCOV_REQUIRE_BROWSER=1 to make this a failure"
        ));
    }
    ok
}

/// Headless Chromium with a fresh profile, nothing fetched from a network.
fn chromium(profile: &Path) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The DOM Chromium built from a page on disk.
fn dump_dom(page: &Path, work: &Path) -> String {
    let profile = tempfile::tempdir_in(work).unwrap();
    let o = run(chromium(profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display())));
    let dom = String::from_utf8(o.stdout).unwrap();
    assert!(dom.contains("</html>"), "{}: no DOM dumped", page.display());
    dom
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Hit and found per metric of a row.
type Figures = BTreeMap<String, (u64, u64)>;

/// The rows of the index's tables: (class, data-name) -> figures.
fn index_rows(dom: &str) -> BTreeMap<(String, String), Figures> {
    let row = Regex::new(r#"(?s)<tr class="(total|dir|file)"(?: data-name="([^"]*)")?>(.*?)</tr>"#)
        .unwrap();
    let cell = Regex::new(
        r#"(?s)<td class="(lines|functions|branches|conditions) \w+">.*?<span class="hit">(\d+)</span>/<span class="found">(\d+)</span></td>"#,
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for r in row.captures_iter(dom) {
        let figures: Figures = cell
            .captures_iter(&r[3])
            .map(|c| {
                (
                    c[1].to_string(),
                    (c[2].parse().unwrap(), c[3].parse().unwrap()),
                )
            })
            .collect();
        let name = r.get(2).map_or(String::new(), |m| unescape(m.as_str()));
        let prev = out.insert((r[1].to_string(), name.clone()), figures);
        assert!(prev.is_none(), "two rows for {name}");
    }
    out
}

/// lcov's own per-file figures, from a tracefile's LF/LH, FNF/FNH, BRF/BRH.
fn lcov_figures(c: &FileCounts) -> Figures {
    let t = |k: &str| c.totals.get(k).copied().unwrap_or(0);
    [
        ("lines", (t("LH"), t("LF"))),
        ("functions", (t("FNH"), t("FNF"))),
        ("branches", (t("BRH"), t("BRF"))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `lcov --summary` of a tracefile: metric -> (hit, found).
fn lcov_summary(info: &Path) -> Figures {
    let o = run(Command::new("lcov")
        .args(["--rc", "lcov_branch_coverage=1", "--summary"])
        .arg(info));
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    let re = Regex::new(r"(lines|functions|branches)\.*: [\d.]+% \((\d+) of (\d+) ").unwrap();
    let s: Figures = re
        .captures_iter(&text)
        .map(|c| {
            (
                c[1].to_string(),
                (c[2].parse().unwrap(), c[3].parse().unwrap()),
            )
        })
        .collect();
    assert_eq!(s.len(), 3, "lcov --summary: {text}");
    s
}

/// The real lcov's capture of `dir` (gcov-12, branches on, combined per
/// file) and its file name.
fn capture(dir: &Path, work: &Path) -> (BTreeMap<String, FileCounts>, PathBuf) {
    std::fs::create_dir_all(work).unwrap();
    common::lcov_capture(dir, "gcov-12", work);
    let info = work.join("combined.info");
    (common::tracefile_counts(&info), info)
}

/// Checks the index against lcov: totals, one row per source file (its
/// name shown as `shown(SF)`) with lcov's figures, and each directory's
/// row the sum of its files'.
fn check_index(
    dom: &str,
    lcov: &BTreeMap<String, FileCounts>,
    info: &Path,
    shown: impl Fn(&str) -> String,
) {
    let rows = index_rows(dom);
    let summary = lcov_summary(info);
    let totals: Vec<_> = rows.iter().filter(|((c, _), _)| c == "total").collect();
    assert_eq!(totals.len(), 1, "one total row");
    assert_eq!(totals[0].1, &summary, "totals vs lcov --summary");
    let files: BTreeMap<String, Figures> = rows
        .iter()
        .filter(|((c, _), _)| c == "file")
        .map(|((_, n), f)| (n.clone(), f.clone()))
        .collect();
    let want: BTreeMap<String, Figures> = lcov
        .iter()
        .map(|(sf, c)| (shown(sf), lcov_figures(c)))
        .collect();
    assert_eq!(files, want, "per-file rows vs lcov's LF/LH FNF/FNH BRF/BRH");
    // Each directory row adds up its files (and the directories the total).
    let mut dirs: BTreeMap<String, Figures> = BTreeMap::new();
    for (name, f) in &files {
        let dir = match name.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => name[..i].to_string(),
            None => ".".to_string(),
        };
        let d = dirs.entry(dir).or_default();
        for (k, (h, n)) in f {
            let e = d.entry(k.clone()).or_default();
            e.0 += h;
            e.1 += n;
        }
    }
    let got_dirs: BTreeMap<String, Figures> = rows
        .iter()
        .filter(|((c, _), _)| c == "dir")
        .map(|((_, n), f)| (n.clone(), f.clone()))
        .collect();
    assert_eq!(got_dirs, dirs, "directory rows");
}

/// Checks a file page against lcov's record of the file: every line's
/// count (DA), every line's branch markers (`+` taken, `-` not taken, `#`
/// never executed: BRDA), and, when the source is given, its text.
fn check_file_page(dom: &str, lcov: &FileCounts, source: Option<&str>) {
    let row = Regex::new(
        r#"(?s)<tr id="L(\d+)"(?: class="(\w+)")?><td class="n">.*?</td>(?:<td class="b">(.*?)</td>)?<td class="c">(\d*)</td><td class="s">(.*?)</td></tr>"#,
    )
    .unwrap();
    let span = Regex::new(r#"<span class="(bt|bn|bx)"[^>]*>"#).unwrap();
    let mut lines = BTreeMap::new();
    let mut branches: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for r in row.captures_iter(dom) {
        let n: u32 = r[1].parse().unwrap();
        if !r[4].is_empty() {
            lines.insert(n, r[4].to_string());
            let class = r.get(2).map_or("", |m| m.as_str());
            let want = if &r[4] == "0" { "miss" } else { "" };
            if want == "miss" {
                assert_eq!(class, "miss", "line {n}: class");
            } else {
                assert!(class == "hit" || class == "part", "line {n}: class {class}");
            }
        }
        if let Some(b) = r.get(3) {
            let mut v: Vec<String> = span
                .captures_iter(b.as_str())
                .map(|c| c[1].to_string())
                .collect();
            if !v.is_empty() {
                v.sort();
                branches.insert(n, v);
            }
        }
        texts.insert(
            n,
            unescape(r[5].split(" <span class=\"cu\">").next().unwrap()),
        );
    }
    assert!(!lines.is_empty(), "no line rows in the DOM");
    assert_eq!(lines, lcov.lines, "line counts vs lcov's DA");
    let want: BTreeMap<u32, Vec<String>> = lcov
        .branches
        .iter()
        .map(|(l, v)| {
            let mut m: Vec<String> = v
                .iter()
                .map(|t| match t.as_str() {
                    "-" => "bx",
                    "0" => "bn",
                    _ => "bt",
                })
                .map(String::from)
                .collect();
            m.sort();
            (*l, m)
        })
        .collect();
    assert_eq!(branches, want, "branch markers vs lcov's BRDA");
    if let Some(src) = source {
        let want: BTreeMap<u32, String> = src
            .lines()
            .enumerate()
            .map(|(i, l)| (i as u32 + 1, l.to_string()))
            .collect();
        assert_eq!(texts, want, "source text");
    }
}

const SAMPLE_BUILD: &str = "/tmp/xencov-samples-build/gcc-12/calc";

#[test]
fn sample_report_renders_with_lcovs_figures() {
    if !have_browser("sample_report_renders_with_lcovs_figures") {
        return;
    }
    let t = Tmp::new("html-sample");
    let data = common::samples().join("gcc-12/calc/run2");
    let src = common::samples().join("src/calc");
    let (lcov, info) = capture(&data, &t.p("lcov"));
    let out = t.p("report");
    // -r makes the names relative; --source-root finds the moved sources.
    run(xencov()
        .args(["report", "--format", "html", "-r", SAMPLE_BUILD])
        .arg(&data)
        .arg("--source-root")
        .arg(&src)
        .arg("-o")
        .arg(&out));
    let dom = dump_dom(&out.join("index.html"), &t.0);
    check_index(&dom, &lcov, &info, |sf| {
        sf.strip_prefix(&format!("{SAMPLE_BUILD}/"))
            .unwrap()
            .to_string()
    });
    // The total row shows the summary's percentages.
    let summary = run(xencov().arg("report").args(["-r", SAMPLE_BUILD]).arg(&data));
    let total = String::from_utf8(summary.stdout).unwrap();
    let total = total.lines().last().unwrap().to_string();
    let pct = Regex::new(r#"<tr class="total">.*?</tr>"#).unwrap();
    let row = pct.find(&dom).unwrap().as_str();
    let shown: Vec<&str> = Regex::new(r#"<span class="pct">([^<]*)</span>"#)
        .unwrap()
        .captures_iter(row)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    let printed: Vec<&str> = total
        .split_whitespace()
        .filter(|w| w.ends_with('%'))
        .collect();
    assert_eq!(shown, printed, "percentages vs report --format summary");
    // Each file page: its counts and branches as lcov has them, the source.
    for (sf, c) in &lcov {
        let leaf = sf.rsplit('/').next().unwrap();
        let dom = dump_dom(&out.join(format!("{leaf}.html")), &t.0);
        let text = std::fs::read_to_string(src.join(leaf)).unwrap();
        check_file_page(&dom, c, Some(&text));
    }
}

#[test]
fn large_tree_report_renders_with_lcovs_figures() {
    if !have_browser("large_tree_report_renders_with_lcovs_figures") {
        return;
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("large");
    run(Command::new("bash")
        .arg(common::root().join("tests/large/build.sh"))
        .arg(&out)
        .arg("gcc-12"));
    let t = Tmp::new("html-large");
    for tree in ["lua", "sqlite"] {
        let dir = out.join(format!("build-gcc-12/{tree}"));
        let (lcov, info) = capture(&dir, &t.p(&format!("lcov-{tree}")));
        let report = t.p(&format!("report-{tree}"));
        let start = std::time::Instant::now();
        run(xencov()
            .args(["report", "--format", "html"])
            .arg(&dir)
            .arg("--gcno-dir")
            .arg(&dir)
            .arg("-o")
            .arg(&report));
        eprintln!("{tree}: report in {:?}", start.elapsed());
        let dom = dump_dom(&report.join("index.html"), &t.0);
        // Without -r the names are the absolute paths lcov has.
        check_index(&dom, &lcov, &info, str::to_string);
        // One file page: Lua's virtual machine, and SQLite's driver.
        let (sf, c) = lcov
            .iter()
            .find(|(sf, _)| {
                sf.ends_with(if tree == "lua" {
                    "/lvm.c"
                } else {
                    "/sqlite_driver.c"
                })
            })
            .unwrap();
        let page = report.join(format!("{}.html", sf.trim_start_matches('/')));
        let dom = dump_dom(&page, &t.0);
        let text = std::fs::read(sf).unwrap();
        check_file_page(&dom, c, Some(&String::from_utf8_lossy(&text)));
    }
}

/// What `-o DIR` may be, and what the selection, thresholds and a missing
/// source do (no browser needed: the files themselves are read).
#[test]
fn html_output_directory_selection_thresholds_and_missing_sources() {
    let t = Tmp::new("html-cli");
    let data = common::samples().join("gcc-12/calc/run2");
    let report = |out: &Path, extra: &[&str]| {
        xencov()
            .args(["report", "--format", "html", "-r", SAMPLE_BUILD])
            .arg(&data)
            .args(extra)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    // No -o: refused before anything is read.
    let o = xencov()
        .args(["report", "--format", "html"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-o DIR"));
    // A directory holding something else is refused and left alone.
    let other = t.p("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let o = report(&other, &[]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("refused"));
    assert_eq!(
        std::fs::read_to_string(other.join("notes.txt")).unwrap(),
        "mine"
    );
    // A new report; its sources are not at the recorded paths: pages by
    // line number with a note, and one warning.
    let out = t.p("html");
    let o = report(&out, &[]);
    assert!(o.status.success(), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("5 source files not readable"), "{err}");
    let ops = std::fs::read_to_string(out.join("ops.c.html")).unwrap();
    assert!(ops.contains("Source not available: /tmp/xencov-samples-build/gcc-12/calc/ops.c"));
    assert!(
        ops.contains("<tr id=\"L17\" class=\"miss\">"),
        "factorial never ran"
    );
    // Replaced by a selected report (an earlier report of ours may be), with
    // a missed threshold: written, exit status 3, the left-out page gone.
    let src = common::samples().join("src/calc");
    let o = report(
        &out,
        &[
            "--exclude",
            "ops",
            "--fail-under-line",
            "99",
            "--source-root",
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("FAILED: line coverage"));
    assert!(!out.join("ops.c.html").exists());
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!index.contains("ops.c"));
    assert!(index.contains("data-name=\"main.c\""));
    let main = std::fs::read_to_string(out.join("main.c.html")).unwrap();
    assert!(!main.contains("Source not available"));
    // Nothing left beside it from the temporary directories.
    let beside: Vec<_> = std::fs::read_dir(&t.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".xencov"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

/// Condition coverage (GCC 14 `-fcondition-coverage`, the gcc-14 calc
/// sample): each file's `conditions` cell in the rendered index and each
/// line's uncovered outcomes on its page equal what `gcov-14 -g` reports
/// (files compiled into one unit only: a header's decisions in several
/// units are combined as lcov combines them, which gcov does not).
#[test]
fn conditions_render_as_gcov_14_reports_them() {
    if !have_browser("conditions_render_as_gcov_14_reports_them") {
        return;
    }
    let g = common::gcc(14);
    if !g.available() {
        return;
    }
    let build = "/tmp/xencov-samples-build/gcc-14/calc";
    let t = Tmp::new("html-mcdc");
    let data = common::samples().join("gcc-14/calc/run2");
    let files = common::files_with_suffix(&data, ".gcda");
    let o = run(g
        .tool("gcov")
        .args(["-t", "-g", "--json-format"])
        .args(&files));
    // file -> line -> (covered, outcomes, uncovered outcomes); and how many
    // units name each file.
    let mut gcov: BTreeMap<String, BTreeMap<u64, (u64, u64, u64)>> = BTreeMap::new();
    let mut units: BTreeMap<String, usize> = BTreeMap::new();
    for doc in String::from_utf8(o.stdout).unwrap().lines() {
        if doc.trim().is_empty() {
            continue;
        }
        let d: serde_json::Value = serde_json::from_str(doc).unwrap();
        for f in d["files"].as_array().unwrap() {
            let name = f["file"].as_str().unwrap();
            let name = name
                .strip_prefix(&format!("{build}/"))
                .unwrap_or(name)
                .to_string();
            *units.entry(name.clone()).or_default() += 1;
            for l in f["lines"].as_array().unwrap() {
                for c in l
                    .get("conditions")
                    .and_then(|c| c.as_array())
                    .into_iter()
                    .flatten()
                {
                    let e = gcov
                        .entry(name.clone())
                        .or_default()
                        .entry(l["line_number"].as_u64().unwrap())
                        .or_default();
                    e.0 += c["covered"].as_u64().unwrap();
                    e.1 += c["count"].as_u64().unwrap();
                    e.2 += (c["not_covered_true"].as_array().unwrap().len()
                        + c["not_covered_false"].as_array().unwrap().len())
                        as u64;
                }
            }
        }
    }
    let out = t.p("report");
    run(xencov()
        .args(["report", "--format", "html", "-r", build])
        .arg(&data)
        .arg("--source-root")
        .arg(common::samples().join("src/calc"))
        .arg("-o")
        .arg(&out));
    let rows = index_rows(&dump_dom(&out.join("index.html"), &t.0));
    let cu = Regex::new(r#"(?s)<tr id="L(\d+)"[^>]*>.*?</tr>"#).unwrap();
    let mut compared = 0;
    for (name, lines) in &gcov {
        if units[name] != 1 {
            continue;
        }
        let (hit, found) = lines
            .values()
            .fold((0, 0), |(h, n), (c, o, _)| (h + c, n + o));
        let row = &rows[&("file".to_string(), name.clone())];
        assert_eq!(row["conditions"], (hit, found), "{name}: conditions cell");
        // The page: per line, the uncovered outcomes listed.
        let dom = dump_dom(&out.join(format!("{name}.html")), &t.0);
        let mut listed: BTreeMap<u64, u64> = BTreeMap::new();
        for r in cu.captures_iter(&dom) {
            // Only the note's words, not the source text's.
            let n = r
                .get(0)
                .unwrap()
                .as_str()
                .split("<span class=\"cu\">")
                .nth(1)
                .map_or(0, |note| note.matches(" never ").count()) as u64;
            if n > 0 {
                listed.insert(r[1].parse().unwrap(), n);
            }
        }
        let want: BTreeMap<u64, u64> = lines
            .iter()
            .filter(|(_, v)| v.2 > 0)
            .map(|(l, v)| (*l, v.2))
            .collect();
        assert_eq!(
            listed, want,
            "{name}: uncovered condition outcomes per line"
        );
        compared += 1;
    }
    assert!(
        compared >= 2,
        "only {compared} files with conditions compared"
    );
}

/// `report --format html --object`: a clang-built program's report, rendered
/// in Chromium, has llvm-cov's figures: the index's rows are the records of
/// `llvm-cov-19 export -format=lcov` (samples/llvm/clang-19/*.lcov, both
/// runs merged) counted as lcov counts them, the totals `lcov --summary` of
/// it, each page its DA and BRDA, with the sources (found under
/// --source-root).
#[test]
fn clang_report_renders_with_llvm_covs_figures() {
    if !have_browser("clang_report_renders_with_llvm_covs_figures") {
        return;
    }
    let t = Tmp::new("html-clang");
    let set = common::samples().join("llvm/clang-19");
    let src = common::samples().join("llvm/src");
    const BUILD: &str = "/tmp/xencov-llvm-samples";
    for prog in ["calc", "multi"] {
        let info = set.join(format!("{prog}.lcov"));
        let mut lcov = common::tracefile_counts(&info);
        // llvm-cov's LF/FNF/BRF lines count a header's code once for all
        // units (multi.h: LF:5 beside 8 DA records); lcov and genhtml count
        // the records, as the report does: the figures lcov computes.
        for c in lcov.values_mut() {
            let nonzero = |v: &String| v != "0" && v != "-";
            let count = |n: usize| n as u64;
            c.totals = [
                ("LF", count(c.lines.len())),
                ("LH", count(c.lines.values().filter(|v| nonzero(v)).count())),
                ("FNF", count(c.functions.len())),
                (
                    "FNH",
                    count(c.functions.values().filter(|f| nonzero(&f.1)).count()),
                ),
                ("BRF", count(c.branches.values().map(Vec::len).sum())),
                (
                    "BRH",
                    count(c.branches.values().flatten().filter(|v| nonzero(v)).count()),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        }
        let out = t.p(prog);
        run(xencov()
            .args(["report", "--format", "html", "-r", BUILD])
            .arg(set.join(format!("{prog}-run1.profraw")))
            .arg(set.join(format!("{prog}-run2.profraw")))
            .arg("--object")
            .arg(set.join(prog))
            .arg("--source-root")
            .arg(&src)
            .arg("-o")
            .arg(&out));
        let dom = dump_dom(&out.join("index.html"), &t.0);
        check_index(&dom, &lcov, &info, |sf| {
            sf.strip_prefix(&format!("{BUILD}/")).unwrap().to_string()
        });
        for (sf, c) in &lcov {
            let leaf = sf.rsplit('/').next().unwrap();
            let dom = dump_dom(&out.join(format!("{leaf}.html")), &t.0);
            let text = std::fs::read_to_string(src.join(leaf)).unwrap();
            check_file_page(&dom, c, Some(&text));
        }
    }
}

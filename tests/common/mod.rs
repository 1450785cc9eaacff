//! Helpers shared by the integration tests: where the real data lives.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The project's top directory (the library's package; the command line's
/// tests are built from crates/cli, two levels below it).
pub fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("formats").is_dir() && d.join("samples").is_dir())
        .unwrap_or(here)
        .to_path_buf()
}

/// The shared corpus of public gcda/gcno files, beside the project root.
pub fn corpus() -> PathBuf {
    let dir = root().join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests need ../shared beside the project",
        dir.display()
    );
    dir
}

/// Whether a missing corpus must fail the tests (CI sets it in `.ci/run`).
pub fn corpus_required() -> bool {
    std::env::var_os("XENCOV_REQUIRE_CORPUS").is_some_and(|v| v == "1")
}

/// The shared corpus, or `None` when `../shared/corpus` is missing: a fresh
/// clone without it still passes `cargo test`, and `test` says on stderr
/// that it did NOT RUN. With `XENCOV_REQUIRE_CORPUS=1` a missing corpus
/// fails the test instead.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !corpus_required(),
        "{}: {} is missing and XENCOV_REQUIRE_CORPUS=1",
        test,
        dir.display()
    );
    not_run(&format!(
        "{test}: {} is missing (the shared corpus beside the project); \
         set XENCOV_REQUIRE_CORPUS=1 to make this a failure",
        dir.display()
    ));
    None
}

/// Says on the terminal that (part of) a test did not run. Written to the
/// stderr handle itself, which the test harness does not capture, so the
/// line shows in a plain `cargo test` even though the test passes.
pub fn not_run(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOT RUN: {why}");
}

pub fn samples() -> PathBuf {
    root().join("samples")
}

/// Every file below `dir` whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct Tmp(pub PathBuf);

impl Tmp {
    /// `xencov-<name>-<pid>`, emptied first.
    pub fn new(name: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("xencov-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }

    pub fn p(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tracefile as a sorted list of `SF-path: line` entries: every line of
/// a record (TN, FN, FNDA, BRDA, DA, the totals) carries the source file of
/// its `SF` record, so two tracefiles are equal only when each source file's
/// record holds the same lines, whatever their order, and a line that
/// moved to another file's record is a difference. A line outside any
/// record (or a record without `end_of_record`) fails the comparison.
pub fn tracefile_by_file(p: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut out = Vec::new();
    let mut tn: Option<&str> = None;
    let mut sf: Option<&str> = None;
    for line in text.lines() {
        if line.starts_with("TN:") {
            assert!(sf.is_none(), "{}: TN inside a record", p.display());
            tn = Some(line);
        } else if let Some(file) = line.strip_prefix("SF:") {
            assert!(sf.is_none(), "{}: SF inside a record", p.display());
            sf = Some(file);
            out.push(format!("{file}: {}", tn.unwrap_or("TN:")));
        } else if line == "end_of_record" {
            let file = sf
                .take()
                .unwrap_or_else(|| panic!("{}: stray end", p.display()));
            out.push(format!("{file}: end_of_record"));
        } else {
            let file = sf.unwrap_or_else(|| panic!("{}: {line} outside a record", p.display()));
            out.push(format!("{file}: {line}"));
        }
    }
    assert!(
        sf.is_none(),
        "{}: a record without end_of_record",
        p.display()
    );
    out.sort();
    out
}

/// The lines of a text file, sorted.
pub fn sorted_lines(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// Runs a command that must succeed.
pub fn run(cmd: &mut std::process::Command) -> std::process::Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// lcov's own tracefile of `dir` with `gcov` (branch coverage on), combined
/// per source file by `lcov -a`, as [`tracefile_by_file`] gives it; `work`
/// holds the intermediate files.
pub fn lcov_capture(dir: &Path, gcov: &str, work: &Path) -> Vec<String> {
    lcov_capture_with(dir, gcov, work, &[]).0
}

/// [`lcov_capture`] with `extra` options for `lcov --capture` (such as
/// `--no-markers`), and lcov's standard error beside the records.
pub fn lcov_capture_with(
    dir: &Path,
    gcov: &str,
    work: &Path,
    extra: &[&str],
) -> (Vec<String>, String) {
    use std::process::Command;
    let (cap, comb) = (work.join("capture.info"), work.join("combined.info"));
    let o = run(Command::new("lcov")
        .args(["--capture", "--quiet", "--rc", "lcov_branch_coverage=1"])
        .args(extra)
        .args(["--gcov-tool", gcov, "-d"])
        .arg(dir)
        .arg("-o")
        .arg(&cap));
    run(Command::new("lcov")
        .args(["--quiet", "--rc", "lcov_branch_coverage=1", "-a"])
        .arg(&cap)
        .arg("-o")
        .arg(&comb));
    (
        tracefile_by_file(&comb),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Whether the Debian chroot `suite` of `scripts/chroot` is set up. A
/// missing one fails the test when XENCOV_REQUIRE_CHROOTS=1 (CI); otherwise
/// it is reported loudly (`what` not run) and the caller skips.
pub fn have_chroot(suite: &str, what: &str) -> bool {
    let have = std::process::Command::new(root().join("scripts/chroot"))
        .args(["have", suite])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var("XENCOV_REQUIRE_CHROOTS").as_deref() != Ok("1"),
            "no {suite} chroot (run scripts/setup), and XENCOV_REQUIRE_CHROOTS=1"
        );
        // Written to the stderr handle, not with eprintln!, so that the
        // test harness does not capture it: a skip must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no {suite} chroot (run scripts/setup): {what} not run"
        );
    }
    have
}

/// A GCC release used as an oracle, and where its tools run: gcc-11 and
/// gcc-12 on the host (Debian 12), gcc-13 to 16 in the Debian chroots of
/// `scripts/chroot` (trixie: gcc-14; sid: gcc-13, 15 and 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcc {
    pub major: u8,
    pub suite: Option<&'static str>,
}

/// Every release the oracle tests run, oldest first.
pub const GCCS: [Gcc; 6] = [
    Gcc {
        major: 11,
        suite: None,
    },
    Gcc {
        major: 12,
        suite: None,
    },
    Gcc {
        major: 13,
        suite: Some("sid"),
    },
    Gcc {
        major: 14,
        suite: Some("trixie"),
    },
    Gcc {
        major: 15,
        suite: Some("sid"),
    },
    Gcc {
        major: 16,
        suite: Some("sid"),
    },
];

pub fn gcc(major: u8) -> Gcc {
    *GCCS
        .iter()
        .find(|g| g.major == major)
        .unwrap_or_else(|| panic!("no oracle for GCC {major}"))
}

impl Gcc {
    /// Whether this release's tools can run here. A missing chroot fails the
    /// test when XENCOV_REQUIRE_CHROOTS=1 (CI); otherwise it is reported
    /// loudly and the caller skips.
    pub fn available(&self) -> bool {
        match self.suite {
            None => true,
            Some(suite) => have_chroot(suite, &format!("GCC {} oracle", self.major)),
        }
    }

    /// `TOOL-N` (gcov-dump-14, gcov-tool-16, ...) ready to take arguments. In a
    /// chroot, the project root and the temp directory are bind-mounted at
    /// their own paths (so every path a test passes is the same inside), and
    /// the working directory is the project root.
    pub fn tool(&self, tool: &str) -> std::process::Command {
        self.command(&format!("{tool}-{}", self.major))
    }

    /// Any program of this release's environment (`lcov`, ...).
    pub fn command(&self, program: &str) -> std::process::Command {
        match self.suite {
            None => std::process::Command::new(program),
            Some(suite) => {
                let mut c = std::process::Command::new(root().join("scripts/chroot"));
                let binds = format!("{}:{}", root().display(), std::env::temp_dir().display());
                c.args(["run", suite]).arg(binds).arg(program);
                c
            }
        }
    }

    /// gcov's name as lcov's `--gcov-tool` wants it.
    pub fn gcov(&self) -> String {
        format!("gcov-{}", self.major)
    }

    /// The lcov of this release's environment is 2.x (trixie, sid), which
    /// stops on what it calls inconsistencies unless told to go on.
    pub fn lcov2(&self) -> bool {
        self.suite.is_some()
    }
}

/// The counts of a tracefile, per source file, in a form that lcov 1.x and
/// lcov 2.x output share: lcov 2 writes functions as FNL/FNA and other branch
/// ids (`f0`, `2 -> 3`), so counts are compared, not syntax.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// DA: line -> count.
    pub lines: std::collections::BTreeMap<u32, String>,
    /// function name -> (start line, hits).
    pub functions: std::collections::BTreeMap<String, (u32, String)>,
    /// line -> the taken counts of its branches, sorted.
    pub branches: std::collections::BTreeMap<u32, Vec<String>>,
    /// LF, LH, FNF, FNH, BRF, BRH.
    pub totals: std::collections::BTreeMap<String, u64>,
}

pub type Counts = std::collections::BTreeMap<String, FileCounts>;

/// Reads an lcov tracefile of either dialect into [`Counts`]; a source file
/// that appears twice is an error (both sides are combined per file).
pub fn tracefile_counts(p: &Path) -> Counts {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut all = Counts::new();
    let mut file = String::new();
    let mut cur = FileCounts::default();
    // lcov 2: FNL:index,start[,end] then FNA:index,hits,name.
    let mut fnl: std::collections::BTreeMap<String, u32> = Default::default();
    // lcov 1: FN:line,name then FNDA:hits,name.
    for line in text.lines() {
        let (tag, rest) = line.split_once(':').unwrap_or((line, ""));
        let f: Vec<&str> = rest.split(',').collect();
        match tag {
            "SF" => file = rest.to_string(),
            "DA" => {
                cur.lines.insert(f[0].parse().unwrap(), f[1].to_string());
            }
            "FN" => {
                cur.functions
                    .insert(f[1].to_string(), (f[0].parse().unwrap(), String::new()));
            }
            "FNDA" => {
                cur.functions.get_mut(f[1]).unwrap().1 = f[0].to_string();
            }
            "FNL" => {
                fnl.insert(f[0].to_string(), f[1].parse().unwrap());
            }
            "FNA" => {
                cur.functions
                    .insert(f[2].to_string(), (fnl[f[0]], f[1].to_string()));
            }
            "BRDA" => {
                // The taken count is the last field (lcov 2's ids may hold commas? no: " -> ").
                cur.branches
                    .entry(f[0].parse().unwrap())
                    .or_default()
                    .push(f[f.len() - 1].to_string());
            }
            "LF" | "LH" | "FNF" | "FNH" | "BRF" | "BRH" => {
                cur.totals.insert(tag.to_string(), rest.parse().unwrap());
            }
            "end_of_record" => {
                for b in cur.branches.values_mut() {
                    b.sort();
                }
                let done = std::mem::take(&mut cur);
                fnl.clear();
                assert!(
                    all.insert(std::mem::take(&mut file), done).is_none(),
                    "{}: a source file twice",
                    p.display()
                );
            }
            _ => {}
        }
    }
    all
}

/// lcov's own capture of `dir` with the gcov of `g` (branch coverage on),
/// combined per source file by `lcov -a`, as [`Counts`]. lcov 2 (the
/// chroots) is told to go on without the sources, which the samples lack.
pub fn lcov_capture_counts(g: Gcc, dir: &Path, work: &Path) -> Counts {
    let (cap, comb) = (work.join("capture.info"), work.join("combined.info"));
    let mut common_args: Vec<&str> = vec!["--quiet", "--rc"];
    if g.lcov2() {
        common_args.extend(["branch_coverage=1", "--ignore-errors", "source,source"]);
    } else {
        common_args.push("lcov_branch_coverage=1");
    }
    run(g
        .command("lcov")
        .arg("--capture")
        .args(&common_args)
        .arg("--gcov-tool")
        .arg(g.gcov())
        .arg("-d")
        .arg(dir)
        .arg("-o")
        .arg(&cap));
    if g.lcov2() {
        // lcov 2 combines the records of one source file while capturing.
        return tracefile_counts(&cap);
    }
    run(g
        .command("lcov")
        .args(&common_args)
        .arg("-a")
        .arg(&cap)
        .arg("-o")
        .arg(&comb));
    tracefile_counts(&comb)
}

/// The pinned gcovr 8.8 oracle: `XENCOV_GCOVR`, or where scripts/setup
/// installs it (a virtualenv under ~/.cache/xencov-rs).
pub fn gcovr() -> PathBuf {
    let p = match std::env::var_os("XENCOV_GCOVR") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME"))
            .join(".cache/xencov-rs/gcovr-8.8/bin/gcovr"),
    };
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup (it installs gcovr 8.8 from PyPI)",
        p.display()
    );
    let o = run(std::process::Command::new(&p).arg("--version"));
    let v = String::from_utf8_lossy(&o.stdout);
    assert!(v.starts_with("gcovr 8.8"), "{}: {v}", p.display());
    p
}

/// A notes file through [`xencov::gcov::gcno::Decoder`] as a reader with a
/// buffer of `size` bytes gives it: each piece holds the bytes from where
/// the decoder stands, as many as the buffer holds (grown to what the
/// decoder needs); the last one is fed, then given to `finish` once the
/// reader finds the end.
pub fn gcno_in_pieces(data: &[u8], size: usize) -> xencov::Result<xencov::gcov::gcno::Gcno> {
    let mut d = xencov::gcov::gcno::Decoder::new();
    loop {
        let at = d.offset();
        let to = at.saturating_add(size.max(d.needed())).min(data.len());
        let used = d.feed(&data[at..to])?;
        assert_eq!(d.offset(), at + used);
        if to == data.len() {
            let at = d.offset();
            return d.finish(&data[at..]);
        }
        // A record decoded, or more bytes asked for than the piece had: a
        // reader never loops on the same bytes.
        assert!(used > 0 || d.needed() > to - at, "stuck at {at}");
    }
}

/// A notes file fed up to `cut`, then from where the decoder stands to the
/// end, then finished with what that left: the record across the cut waits.
pub fn gcno_split(data: &[u8], cut: usize) -> xencov::Result<xencov::gcov::gcno::Gcno> {
    let mut d = xencov::gcov::gcno::Decoder::new();
    d.feed(&data[..cut])?;
    d.feed(&data[d.offset()..])?;
    let at = d.offset();
    d.finish(&data[at..])
}

/// Whole, in pieces of 1, 3, 7, 64 and 4096 bytes, and split at each of
/// `cuts`, a notes file decodes to the same model or fails with the same
/// error (offset and kind); returns that result.
pub fn gcno_same_in_pieces(
    data: &[u8],
    cuts: impl IntoIterator<Item = usize>,
    what: &str,
) -> xencov::Result<xencov::gcov::gcno::Gcno> {
    let whole = xencov::gcov::gcno::Gcno::decode(data);
    for size in [1, 3, 7, 64, 4096] {
        assert!(
            gcno_in_pieces(data, size) == whole,
            "{what}: in pieces of {size}, not as whole ({:?})",
            whole.as_ref().err()
        );
    }
    for cut in cuts {
        assert!(
            gcno_split(data, cut) == whole,
            "{what}: cut at {cut}, not as whole ({:?})",
            whole.as_ref().err()
        );
    }
    whole
}

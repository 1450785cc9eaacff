//! Helpers shared by the integration tests: where the real data lives.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// The lines of a text file, sorted (tracefiles are compared this way).
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
/// per source file by `lcov -a`, sorted; `work` holds the intermediate files.
pub fn lcov_capture(dir: &Path, gcov: &str, work: &Path) -> Vec<String> {
    use std::process::Command;
    let (cap, comb) = (work.join("capture.info"), work.join("combined.info"));
    run(Command::new("lcov")
        .args([
            "--capture",
            "--quiet",
            "--rc",
            "lcov_branch_coverage=1",
            "--gcov-tool",
            gcov,
            "-d",
        ])
        .arg(dir)
        .arg("-o")
        .arg(&cap));
    run(Command::new("lcov")
        .args(["--quiet", "--rc", "lcov_branch_coverage=1", "-a"])
        .arg(&cap)
        .arg("-o")
        .arg(&comb));
    sorted_lines(&comb)
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
        let Some(suite) = self.suite else {
            return true;
        };
        let have = std::process::Command::new(root().join("scripts/chroot"))
            .args(["have", suite])
            .status()
            .is_ok_and(|s| s.success());
        if !have {
            assert!(
                std::env::var("XENCOV_REQUIRE_CHROOTS").as_deref() != Ok("1"),
                "no {suite} chroot (run scripts/setup), and XENCOV_REQUIRE_CHROOTS=1"
            );
            eprintln!(
                "SKIPPED: no {suite} chroot (run scripts/setup): GCC {} oracle not run",
                self.major
            );
        }
        have
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

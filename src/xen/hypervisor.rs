//! Is it safe to ask this hypervisor for its coverage? A pure decision from
//! what dom0 can read before making any coverage sysctl: Xen's release
//! (`/sys/hypervisor/version/{major,minor}`) and the compiler that built it
//! (`/sys/hypervisor/compilation/compiler`, the first line of `$(CC)
//! --version` at build time). The CLI reads the files; this module only
//! judges their contents. The table and where it comes from are in
//! `formats/xen-sysctl.md` section 11.
//!
//! Why it matters: Xen's gcov code declares its own copy of GCC's
//! `struct gcov_info`, sized by a count of counter kinds per GCC release.
//! When the copy does not match what the compiler emitted, every field after
//! the `merge[]` array is read from the wrong place:
//! - Xen 4.9–4.17 use 9 counter kinds for every GCC >= 7 and know nothing of
//!   the checksum field GCC 12 added; GCC 10 and later emit 8 kinds, so the
//!   function count and the function array are read from the wrong words and
//!   the first coverage sysctl (size, read or reset) dereferences garbage: a
//!   fatal page fault in the hypervisor (seen on a stock 4.17.7 built with
//!   gcc-12). Upstream fixed it for 4.18 (commits 745bf2b7de, 7ee3a44971).
//! - Xen 4.18–4.20 use 8 kinds for every GCC >= 10; GCC 14 emits 9 and GCC 15
//!   10, so the function count is read from `merge[8]`: the dump is not the
//!   coverage (zero functions per unit, or garbage when that slot is set).
//!   Xen 4.21 counts 9 for GCC 14 and 10 for GCC 15 and later.
//!
//! The file stays whole (about 410 lines): 250 lines of decision table, and
//! the tests below that pin each row of it to the Xen and GCC releases it
//! comes from.

use crate::gcov::version::{Version, release_in_banner};

/// Xen's release, from `/sys/hypervisor/version/{major,minor}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    /// Xen major release (4 for every release so far).
    pub major: u32,
    /// Xen minor release (21 in 4.21).
    pub minor: u32,
}

impl Release {
    /// Parses the two sysfs files' contents (decimal, trailing newline allowed).
    pub fn parse(major: &str, minor: &str) -> Option<Release> {
        Some(Release {
            major: major.trim().parse().ok()?,
            minor: minor.trim().parse().ok()?,
        })
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The compiler named by `/sys/hypervisor/compilation/compiler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiler {
    /// GCC, whose release fixes the gcov format and the counter-kind count Xen must know.
    Gcc {
        /// GCC major release.
        major: u32,
        /// GCC minor release.
        minor: u32,
    },
    /// clang, whose coverage Xen exports as a raw LLVM profile.
    Clang {
        /// clang major release.
        major: u32,
    },
    /// Neither recognisably GCC nor clang, or no version in it.
    Unknown,
}

impl std::fmt::Display for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compiler::Gcc { major, minor } => write!(f, "GCC {major}.{minor}"),
            Compiler::Clang { major } => write!(f, "clang {major}"),
            Compiler::Unknown => f.write_str("an unrecognised compiler"),
        }
    }
}

/// Recognises `gcc (Debian 12.2.0-14+deb12u1) 12.2.0`,
/// `x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0`,
/// `gcc (GCC) 13.2.1 20231205 (Red Hat 13.2.1-6)`,
/// `Debian clang version 19.1.7 (3)`. Xen keeps 64 bytes of the line, so a
/// cut-off line whose release is only inside the parentheses still counts.
pub fn parse_compiler(line: &str) -> Compiler {
    let line = line.trim();
    let lower = line.to_ascii_lowercase();
    let release = release_in_banner(line).or_else(|| {
        // Cut inside the parentheses: take the first M.m token anywhere.
        release_in_banner(&line.replace(['(', ')'], " "))
    });
    let Some((major, minor, _)) = release else {
        return Compiler::Unknown;
    };
    let (major, minor) = (u32::from(major), u32::from(minor));
    if lower.contains("clang") {
        Compiler::Clang { major }
    } else if lower.contains("gcc") || lower.contains("gnu") {
        Compiler::Gcc { major, minor }
    } else {
        Compiler::Unknown
    }
}

/// What reading (or resetting) coverage from such a hypervisor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// No known problem: go on.
    None,
    /// The first coverage sysctl takes a fatal page fault in the hypervisor.
    Crash,
    /// The hypervisor answers, but what it returns is not the coverage.
    Untrustworthy,
    /// The combination is outside what this table knows: go on, and say so.
    Unknown,
}

/// A verdict with the reason and what to do, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// How bad asking this hypervisor for coverage would be.
    pub risk: Risk,
    /// Why, naming the Xen and compiler releases.
    pub why: String,
    /// What to do instead (or that nothing needs doing).
    pub what_to_do: String,
}

fn verdict(risk: Risk, why: String, what_to_do: &str) -> Verdict {
    Verdict {
        risk,
        why,
        what_to_do: what_to_do.to_owned(),
    }
}

/// The newest GCC major whose `gcov_info` layout the table knows for Xen
/// 4.21 and later (10 counter kinds from GCC 15 on).
pub const NEWEST_KNOWN_GCC: u32 = 15;

/// Judges a Xen release built by a compiler. Releases before 4.9 (the
/// legacy coverage op, with gcov code for GCC 3.4–4.6 only) and major
/// versions other than 4 are outside the table.
pub fn judge(release: Release, compiler: Compiler) -> Verdict {
    let xen = format!("Xen {release}");
    let gcc = match compiler {
        Compiler::Clang { .. } => {
            return verdict(
                Risk::None,
                format!("{xen} built with {compiler} returns a raw LLVM profile"),
                "",
            );
        }
        Compiler::Unknown => {
            return verdict(
                Risk::Unknown,
                format!("the compiler that built {xen} is not recognised"),
                "",
            );
        }
        Compiler::Gcc { major, .. } => major,
    };
    let (lo, hi) = (
        Release { major: 4, minor: 9 },
        Release {
            major: 4,
            minor: 17,
        },
    );
    if release.major != 4 || release < lo {
        return verdict(
            Risk::Unknown,
            format!("the table of known-bad builds covers Xen 4.9 to 4.x only, not {xen}"),
            "",
        );
    }
    if release <= hi {
        if gcc >= 10 {
            return verdict(
                Risk::Crash,
                format!(
                    "{xen} built with {compiler} crashes on the first coverage sysctl: its gcov \
                     code lays out struct gcov_info for 9 counter kinds and no checksum field, \
                     GCC 10+ emits 8 kinds (and GCC 12+ a checksum), so the hypervisor follows \
                     garbage pointers and takes a fatal page fault (any reader, Debian's xencov \
                     too)"
                ),
                "rebuild Xen with GCC 9 or older, or apply upstream commits 745bf2b7de and \
                 7ee3a44971 (in Xen 4.18 and later), or use Xen 4.18 or newer",
            );
        }
        return verdict(Risk::None, String::new(), "");
    }
    if release.minor <= 20 {
        if gcc >= 14 {
            return verdict(
                Risk::Untrustworthy,
                format!(
                    "{xen} built with {compiler} returns data that is not its coverage: its gcov \
                     code lays out struct gcov_info for at most 8 counter kinds, GCC 14 emits 9 \
                     and GCC 15+ 10, so each unit's function count is read from the wrong word"
                ),
                "rebuild Xen with GCC 13 or older, or use Xen 4.21 or newer",
            );
        }
        return verdict(Risk::None, String::new(), "");
    }
    if gcc > NEWEST_KNOWN_GCC {
        return verdict(
            Risk::Unknown,
            format!(
                "{compiler} is newer than the newest GCC whose gcov_info layout {xen} is known to \
                 match (GCC {NEWEST_KNOWN_GCC})"
            ),
            "",
        );
    }
    verdict(Risk::None, String::new(), "")
}

/// What the dump itself shows after a read, when the release could only be
/// told from the sysctl interface version: a hypervisor of Xen 4.20 or
/// older (interface 0x15 or lower) whose units were compiled by GCC 14 or
/// newer returns a dump that cannot be trusted. `newest` is the newest
/// GCC version word among the dump's units.
pub fn judge_dump(interface_version: u32, newest: Version) -> Option<String> {
    if interface_version <= 0x15 && newest.major() >= 14 {
        Some(format!(
            "this dump cannot be trusted: its units were compiled by GCC {} and the hypervisor \
             speaks sysctl interface {interface_version:#04x} (Xen 4.20 or older), whose gcov code \
             lays out struct gcov_info for at most 8 counter kinds (GCC 14 emits 9, GCC 15+ 10); \
             use Xen 4.21 or newer, or build Xen with GCC 13 or older",
            newest.gcc()
        ))
    } else {
        None
    }
}

/// The newest GCC version word among the units of a Xen 4.9+ dump (the word
/// at offset 4 of each payload: Xen writes it from `gcov_info.version`, the
/// first field, which a wrong layout does not move). `None` for other dumps
/// or when no unit has a known version word.
pub fn newest_gcc_in_dump(data: &[u8]) -> Option<Version> {
    let container = crate::xen::dump::Container::parse(data).ok()?;
    container
        .units
        .iter()
        .filter_map(|u| {
            let word: [u8; 4] = u.payload.get(4..8)?.try_into().ok()?;
            Version::from_word(container.endian.u32_from(word)).ok()
        })
        .max_by_key(|v| (v.major(), v.minor()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_lines_as_xen_records_them() {
        let cases: &[(&str, Compiler)] = &[
            (
                "gcc (Debian 12.2.0-14+deb12u1) 12.2.0",
                Compiler::Gcc {
                    major: 12,
                    minor: 2,
                },
            ),
            (
                "x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0\n",
                Compiler::Gcc {
                    major: 14,
                    minor: 2,
                },
            ),
            (
                "gcc (GCC) 13.2.1 20231205 (Red Hat 13.2.1-6)",
                Compiler::Gcc {
                    major: 13,
                    minor: 2,
                },
            ),
            (
                "gcc-9 (Ubuntu 9.4.0-1ubuntu1~20.04.2) 9.4.0",
                Compiler::Gcc { major: 9, minor: 4 },
            ),
            // Cut at 64 bytes inside the parentheses.
            (
                "x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1 some long vendor",
                Compiler::Gcc {
                    major: 12,
                    minor: 2,
                },
            ),
            (
                "Debian clang version 19.1.7 (3)",
                Compiler::Clang { major: 19 },
            ),
            ("", Compiler::Unknown),
            ("icc 2021.1", Compiler::Unknown),
            ("gcc", Compiler::Unknown),
        ];
        for (line, want) in cases {
            assert_eq!(parse_compiler(line), *want, "{line:?}");
        }
    }

    #[test]
    fn release_files() {
        assert_eq!(
            Release::parse("4\n", "17\n"),
            Some(Release {
                major: 4,
                minor: 17
            })
        );
        assert_eq!(Release::parse("4", "x"), None);
        assert_eq!(Release::parse("", "17"), None);
    }

    /// The table of formats/xen-sysctl.md section 11, row by row, with both
    /// sides of every boundary.
    #[test]
    fn the_decision_table() {
        use Risk::*;
        let gcc = |major| Compiler::Gcc { major, minor: 1 };
        let rows: &[((u32, u32), Compiler, Risk)] = &[
            // 4.9-4.17: 9 kinds for GCC >= 7, no checksum field.
            ((4, 9), gcc(9), None),
            ((4, 9), gcc(10), Crash),
            ((4, 10), gcc(10), Crash),
            ((4, 16), gcc(11), Crash),
            ((4, 17), gcc(7), None),
            ((4, 17), gcc(9), None),
            ((4, 17), gcc(10), Crash),
            ((4, 17), gcc(12), Crash),
            ((4, 17), gcc(14), Crash),
            ((4, 17), gcc(16), Crash),
            ((4, 17), gcc(5), None),
            // 4.18-4.20: 8 kinds for GCC >= 10.
            ((4, 18), gcc(10), None),
            ((4, 18), gcc(12), None),
            ((4, 18), gcc(13), None),
            ((4, 18), gcc(14), Untrustworthy),
            ((4, 20), gcc(13), None),
            ((4, 20), gcc(14), Untrustworthy),
            ((4, 20), gcc(15), Untrustworthy),
            ((4, 20), gcc(16), Untrustworthy),
            // 4.21 and later: 9 kinds for GCC 14, 10 for 15+.
            ((4, 21), gcc(14), None),
            ((4, 21), gcc(15), None),
            ((4, 21), gcc(16), Unknown),
            ((4, 23), gcc(12), None),
            ((4, 23), gcc(15), None),
            // Outside the table.
            ((4, 8), gcc(12), Unknown),
            ((4, 3), gcc(4), Unknown),
            ((5, 0), gcc(12), Unknown),
            ((4, 17), Compiler::Unknown, Unknown),
            // clang builds return an LLVM profile: no gcov_info at all.
            ((4, 17), Compiler::Clang { major: 19 }, None),
            ((4, 20), Compiler::Clang { major: 19 }, None),
        ];
        for &((major, minor), compiler, risk) in rows {
            let v = judge(Release { major, minor }, compiler);
            assert_eq!(v.risk, risk, "Xen {major}.{minor} with {compiler}: {v:?}");
            match risk {
                Crash | Untrustworthy => {
                    assert!(v.why.contains(&format!("Xen {major}.{minor}")), "{v:?}");
                    assert!(!v.what_to_do.is_empty(), "{v:?}");
                }
                Unknown => assert!(!v.why.is_empty(), "{v:?}"),
                None => {}
            }
        }
    }

    #[test]
    fn a_dump_from_an_old_interface_and_a_new_compiler_is_flagged() {
        let v = |major, minor| {
            Version::new(major, minor, crate::gcov::version::Status::Release).unwrap()
        };
        assert!(judge_dump(0x15, v(14, 2)).is_some());
        assert!(judge_dump(0x0e, v(15, 1)).is_some());
        assert!(judge_dump(0x15, v(13, 3)).is_none());
        assert!(judge_dump(0x16, v(14, 2)).is_none());
        assert!(judge_dump(0x16, v(15, 1)).is_none());
    }

    #[test]
    fn the_newest_compiler_of_a_real_dump() {
        for (bytes, gcc) in [
            (
                &include_bytes!("../../samples/xen/gcc-12/calc-run1.xcov")[..],
                "12.2",
            ),
            (
                &include_bytes!("../../samples/xen/gcc-11/calc-run1.xcov")[..],
                "11.3",
            ),
            (
                &include_bytes!("../../samples/xen/ppc64-gcc-12/calc-run1.xcov")[..],
                "12.2",
            ),
        ] {
            assert_eq!(newest_gcc_in_dump(bytes).map(|v| v.gcc()), Some(gcc.into()));
        }
        assert_eq!(newest_gcc_in_dump(b"XCOV"), None);
        assert_eq!(newest_gcc_in_dump(b"not a dump"), None);
    }
}

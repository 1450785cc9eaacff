//! Verdicts on every pair of what `check` saw: GCC versions ([`judge`]),
//! clang releases and raw LLVM profile versions ([`judge_llvm`]), a
//! hypervisor against its compiler ([`xen_gcc`]), and which pairs decide
//! the outcome. Pairs are named by the caller's indices, never by label
//! text; the caller renders them.

use super::judge::{Agreement, Role, Verdict, judge};
use crate::gcov::version::Version;
use crate::llvm::{clangs_of_raw_version, raw_version_of_clang};

/// What an LLVM side says: a clang release (compiler) or a raw profile
/// version (data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Llvm {
    /// A clang compiler; `None` when its `.comment` string names no release.
    Clang(Option<u32>),
    /// A raw LLVM profile of this version.
    RawProfile(u32),
}

/// One thing seen, as the verdicts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    /// Where it was seen.
    pub role: Role,
    /// Its gcov version; `None` for a clang compiler or an LLVM profile.
    pub version: Option<Version>,
    /// The clang release or raw-profile version of an LLVM side.
    pub llvm: Option<Llvm>,
}

/// The verdict on two sides, named by their indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The first side's index.
    pub a: usize,
    /// The second side's index.
    pub b: usize,
    /// How they get along.
    pub verdict: Verdict,
    /// False when another compiler listed in the same ELF file agrees with
    /// `b`, so that this pair alone does not make the inputs incompatible.
    pub decisive: bool,
}

impl Pair {
    /// Whether this pair makes the inputs incompatible (`check`'s exit
    /// status 1): a decisive incompatible verdict.
    pub fn fails(&self) -> bool {
        self.decisive && self.verdict.agreement == Agreement::Incompatible
    }
}

/// The verdicts on every pair of `sides` that can disagree, in order
/// (`a` before `b`). Compilers among themselves and two sides of one role
/// other than data are not compared; nor is the gcov on PATH when an LLVM
/// side is present (gcov reads no raw profile, and a GCC name in a
/// clang-built ELF file comes from start-up objects).
pub fn verdicts(sides: &[Side]) -> Vec<Pair> {
    let mut out = Vec::new();
    let llvm_data = sides
        .iter()
        .any(|s| matches!(s.llvm, Some(Llvm::RawProfile(_))));
    for (i, a) in sides.iter().enumerate() {
        for (j, b) in sides.iter().enumerate().skip(i + 1) {
            if a.role == Role::Compiler && b.role == Role::Compiler {
                continue;
            }
            if a.role == b.role && a.role != Role::Data {
                continue;
            }
            let gcov_pair = a.role == Role::Gcov || b.role == Role::Gcov;
            if gcov_pair && (llvm_data || a.llvm.is_some() || b.llvm.is_some()) {
                continue;
            }
            let verdict = match (a.version, b.version, a.llvm, b.llvm) {
                (Some(va), Some(vb), _, _) => judge((a.role, va), (b.role, vb)),
                (_, _, Some(la), Some(lb)) => judge_llvm(la, lb),
                _ => gcc_against_llvm(),
            };
            out.push(Pair {
                a: i,
                b: j,
                verdict,
                decisive: true,
            });
        }
    }
    // A compiler pair is not decisive when another compiler agrees with the other side.
    let is_compiler = |i: usize| sides.get(i).is_some_and(|s| s.role == Role::Compiler);
    let agreeing: Vec<usize> = out
        .iter()
        .filter(|p| is_compiler(p.a) && p.verdict.agreement != Agreement::Incompatible)
        .map(|p| p.b)
        .collect();
    for p in &mut out {
        if is_compiler(p.a)
            && p.verdict.agreement == Agreement::Incompatible
            && agreeing.contains(&p.b)
        {
            p.decisive = false;
        }
    }
    out
}

/// One side GCC or gcov, the other clang or LLVM.
fn gcc_against_llvm() -> Verdict {
    Verdict {
        agreement: Agreement::Incompatible,
        why: "one side is GCC/gcov, the other clang/LLVM: a GCC build writes gcov data, a clang \
              build a raw LLVM profile"
            .into(),
        advice: Some(
            "the files come from different builds: check which hypervisor each was read from"
                .into(),
        ),
    }
}

/// Two LLVM sides: a clang release and the raw profile version it writes
/// (LLVM's table, [`raw_version_of_clang`]), or two profiles.
pub fn judge_llvm(a: Llvm, b: Llvm) -> Verdict {
    let written_by = |v: u32| {
        let c = clangs_of_raw_version(v);
        match (c.first(), c.last()) {
            (Some(x), Some(y)) if x == y => format!("clang {x}"),
            (Some(x), Some(y)) => format!("clang {x}-{y}"),
            _ => "no clang release from 11 to 21".to_string(),
        }
    };
    let incompatible = |why: String, advice: String| Verdict {
        agreement: Agreement::Incompatible,
        why,
        advice: Some(advice),
    };
    match (a, b) {
        (Llvm::Clang(c), Llvm::RawProfile(v)) | (Llvm::RawProfile(v), Llvm::Clang(c)) => match c {
            None => incompatible(
                "the .comment string names no clang release to compare with the profile".into(),
                "check the hypervisor's `.comment` (readelf -p .comment xen-syms)".into(),
            ),
            Some(m) => match raw_version_of_clang(m) {
                Some(w) if w == v => Verdict {
                    agreement: Agreement::Same,
                    why: format!("clang {m} writes raw profile version {v}"),
                    advice: None,
                },
                Some(w) => incompatible(
                    format!(
                        "clang {m} writes raw profile version {w}, but this profile is version {v} (written by {})",
                        written_by(v)
                    ),
                    "the profile comes from another build: read it again from the hypervisor this xen-syms belongs to"
                        .into(),
                ),
                None => incompatible(
                    format!(
                        "clang {m} is outside the releases whose raw profile version is known (clang 11 to 21; Xen's coverage code supports 11 to 20)"
                    ),
                    "build the hypervisor with clang 11 to 20 (the releases Xen supports)".into(),
                ),
            },
        },
        (Llvm::RawProfile(x), Llvm::RawProfile(y)) if x == y => Verdict {
            agreement: Agreement::Same,
            why: format!("both are raw profile version {x}"),
            advice: None,
        },
        (Llvm::RawProfile(x), Llvm::RawProfile(y)) => incompatible(
            format!(
                "raw profile versions {x} ({}) and {y} ({}) come from different clang releases",
                written_by(x),
                written_by(y)
            ),
            "profiles of different builds cannot be merged or reported together".into(),
        ),
        (Llvm::Clang(_), Llvm::Clang(_)) => Verdict {
            agreement: Agreement::Same,
            why: "two clang compilers".into(),
            advice: None,
        },
    }
}

/// The newest Xen release whose gcov code (`xen/common/coverage/gcc_4_7.c`)
/// lays out `struct gcov_info` for at most eight counter kinds: GCC 14 emits
/// nine and GCC 15 ten, which Xen 4.21 was the first to know.
#[cfg(feature = "elf")]
pub const LAST_XEN_WITH_EIGHT_KINDS: super::elf::XenRelease = super::elf::XenRelease {
    major: 4,
    minor: 20,
};

/// What the hypervisor's own gcov code makes of counters of its compiler
/// `gcc` (the newest GCC its `.comment` names). Only GCC 14 and later need
/// a word (`None` before): every Xen with coverage knows the `gcov_info`
/// layouts of GCC 4.7 to 13.
#[cfg(feature = "elf")]
pub fn xen_gcc(release: super::elf::XenRelease, gcc: Version) -> Option<Verdict> {
    if gcc.major() < 14 {
        return None;
    }
    let kinds = gcc.format().counter_kinds.len();
    Some(if release <= LAST_XEN_WITH_EIGHT_KINDS {
        Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "Xen {} and older lay out struct gcov_info for at most 8 counter kinds, GCC {} \
                 emits {kinds}: the hypervisor reads each unit's function count and table from \
                 the wrong place, so its coverage dump cannot be trusted (empty units, wrong or \
                 missing counters, or a crash on the coverage sysctl)",
                release,
                gcc.gcc()
            ),
            advice: Some(
                "build the hypervisor with Xen 4.21 or newer (its gcov code knows GCC 14's nine \
                 and GCC 15's ten counter kinds), or with GCC 13 or older"
                    .into(),
            ),
        }
    } else {
        Verdict {
            agreement: Agreement::Compatible,
            why: format!(
                "Xen {} lays out struct gcov_info for GCC {}'s {kinds} counter kinds",
                release,
                gcc.gcc()
            ),
            advice: None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcov::version::Status;

    fn gcc(major: u8, minor: u8, role: Role) -> Side {
        Side {
            role,
            version: Version::new(major, minor, Status::Release).ok(),
            llvm: None,
        }
    }

    /// Two compilers in one ELF file (start-up objects of another GCC):
    /// the one that disagrees with the data does not decide.
    #[test]
    fn a_compiler_that_another_compiler_outvotes_is_not_decisive() {
        let sides = [
            gcc(4, 8, Role::Compiler),
            gcc(13, 2, Role::Compiler),
            gcc(13, 2, Role::Data),
        ];
        let v = verdicts(&sides);
        let pairs: Vec<(usize, usize, Agreement, bool)> = v
            .iter()
            .map(|p| (p.a, p.b, p.verdict.agreement, p.decisive))
            .collect();
        assert_eq!(
            pairs,
            [
                (0, 2, Agreement::Incompatible, false),
                (1, 2, Agreement::Same, true)
            ]
        );
        assert!(!v.iter().any(Pair::fails));
    }

    #[test]
    fn llvm_sides_are_judged_by_llvms_table_and_gcov_is_left_out() {
        let clang = |m| Side {
            role: Role::Compiler,
            version: None,
            llvm: Some(Llvm::Clang(Some(m))),
        };
        let profile = |v| Side {
            role: Role::Data,
            version: None,
            llvm: Some(Llvm::RawProfile(v)),
        };
        let v = raw_version_of_clang(18).unwrap();
        let sides = [clang(18), profile(v), gcc(12, 2, Role::Gcov)];
        let pairs = verdicts(&sides);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!(pairs[0].verdict.agreement, Agreement::Same);
        let other = [clang(18), profile(v + 1)];
        let pairs = verdicts(&other);
        assert_eq!(pairs[0].verdict.agreement, Agreement::Incompatible);
        let mixed = [gcc(12, 2, Role::Data), profile(v)];
        assert_eq!(
            verdicts(&mixed)[0].verdict.agreement,
            Agreement::Incompatible
        );
    }

    #[cfg(feature = "elf")]
    #[test]
    fn xen_4_20_cannot_count_for_gcc_14() {
        use crate::check::elf::XenRelease;
        let v = |m| Version::new(m, 1, Status::Release).unwrap();
        let xen = |minor| XenRelease { major: 4, minor };
        assert_eq!(xen_gcc(xen(20), v(13)), None);
        assert_eq!(
            xen_gcc(xen(20), v(14)).map(|v| v.agreement),
            Some(Agreement::Incompatible)
        );
        assert_eq!(
            xen_gcc(xen(21), v(15)).map(|v| v.agreement),
            Some(Agreement::Compatible)
        );
    }
}

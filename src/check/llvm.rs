//! Whether the coverage mapping of a clang-built ELF file belongs with the
//! rest of its build: the mapping version of its `__llvm_covmap` section
//! against the clang release named in its `.comment`, and against the
//! version of a raw profile said to come from it.
//!
//! clang writes one mapping version per release range
//! ([`clangs_of_version`]) and one raw-profile version per release range
//! ([`crate::llvm::raw_version_of_clang`]); two sightings agree when some release writes
//! both. A mismatch means objects of another clang were linked in, the
//! profile comes from another build, or the file was altered: llvm-cov
//! refuses or misreads such a pair. The verdicts are data
//! ([`Verdict`]); the caller prints them.

use super::judge::{Agreement, Verdict};
use crate::llvm::clangs_of_raw_version;
use crate::llvm::covmap::clangs_of_version;
#[cfg(test)]
use crate::llvm::raw_version_of_clang;

/// The clang releases this module knows (the range of LLVM's tables in
/// [`crate::llvm::raw_version_of_clang`] and [`clangs_of_version`]).
pub const KNOWN_CLANGS: std::ops::RangeInclusive<u32> = 11..=21;

/// A coverage mapping version field as LLVM names it: the field counts from
/// 0 for `Version1`, so field 6 is `Version7`.
pub fn llvm_name(field: u32) -> String {
    format!("Version{}", u64::from(field) + 1)
}

/// "clang 18-21", "clang 12" or "no clang release from 11 to 21".
fn releases(range: Option<std::ops::RangeInclusive<u32>>) -> String {
    match range {
        Some(r) if r.start() == r.end() => format!("clang {}", r.start()),
        Some(r) => format!("clang {}-{}", r.start(), r.end()),
        None => format!(
            "no clang release from {} to {}",
            KNOWN_CLANGS.start(),
            KNOWN_CLANGS.end()
        ),
    }
}

/// The clang releases that write raw profile version `v`, as a range.
fn raw_releases(v: u32) -> Option<std::ops::RangeInclusive<u32>> {
    let c = clangs_of_raw_version(v);
    Some(*c.first()?..=*c.last()?)
}

/// The mapping version clang `major` writes, if it is a known release.
fn mapping_of_clang(major: u32) -> Option<u32> {
    (0..=16).find(|&f| clangs_of_version(f).is_some_and(|r| r.contains(&major)))
}

/// The mapping versions of one ELF file (`versions`: distinct, as
/// [`unit_versions`](crate::llvm::covmap::unit_versions) gives them)
/// against the clang release its `.comment` names (`None`: the string names
/// no release). `file` names the ELF file in the sentence.
pub fn judge_mapping_clang(file: &str, versions: &[u32], clang: Option<u32>) -> Verdict {
    if let [a, b, ..] = versions {
        return Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "{file}'s __llvm_covmap holds units of two mapping versions, {a} ({}, written by \
                 {}) and {b} ({}, written by {}): objects of different clang releases were linked \
                 together, and llvm-cov refuses such a file",
                llvm_name(*a),
                releases(clangs_of_version(*a)),
                llvm_name(*b),
                releases(clangs_of_version(*b))
            ),
            advice: Some("rebuild every object with one clang release".into()),
        };
    }
    let Some(&field) = versions.first() else {
        return Verdict {
            agreement: Agreement::Incompatible,
            why: format!("{file}'s __llvm_covmap section holds no unit"),
            advice: Some(
                "build with clang's -fprofile-instr-generate -fcoverage-mapping and keep the \
                 section"
                    .into(),
            ),
        };
    };
    let writers = clangs_of_version(field);
    let Some(m) = clang else {
        return Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "the .comment string names no clang release to compare with {file}'s coverage \
                 mapping version {field} ({}, written by {})",
                llvm_name(field),
                releases(writers)
            ),
            advice: Some(format!(
                "check the file's `.comment` (readelf -p .comment {file})"
            )),
        };
    };
    match mapping_of_clang(m) {
        Some(w) if w == field => Verdict {
            agreement: Agreement::Same,
            why: format!(
                "clang {m} writes coverage mapping version {field} ({})",
                llvm_name(field)
            ),
            advice: None,
        },
        Some(w) => Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "clang {m} writes coverage mapping version {w} ({}), but {file}'s __llvm_covmap is \
                 version {field} ({}, written by {}): the mapping is not that compiler's",
                llvm_name(w),
                llvm_name(field),
                releases(writers.clone())
            ),
            advice: Some(match writers {
                Some(r) => format!(
                    "objects of another clang were linked in, or the file was altered: rebuild \
                     with one clang; llvm-cov of {} reads this mapping",
                    releases(Some(r))
                ),
                None => "objects of another clang were linked in, or the file was altered: \
                         rebuild with one clang"
                    .into(),
            }),
        },
        None => Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "clang {m} is outside the releases whose coverage mapping version is known \
                 (clang {} to {}); {file}'s is version {field} ({}, written by {})",
                KNOWN_CLANGS.start(),
                KNOWN_CLANGS.end(),
                llvm_name(field),
                releases(writers)
            ),
            advice: Some(format!(
                "build with clang {} to {}, whose mappings `lcov --object` reads",
                KNOWN_CLANGS.start(),
                KNOWN_CLANGS.end()
            )),
        },
    }
}

/// The mapping version of an ELF file (`field`) against the version of a
/// raw profile (`raw`): they belong to one build only if some clang
/// release writes both.
pub fn judge_mapping_profile(file: &str, field: u32, raw: u32) -> Verdict {
    let (maps, raws) = (clangs_of_version(field), raw_releases(raw));
    let both = match (&maps, &raws) {
        (Some(a), Some(b)) => {
            let (lo, hi) = ((*a.start()).max(*b.start()), (*a.end()).min(*b.end()));
            (lo <= hi).then_some(lo..=hi)
        }
        _ => None,
    };
    match both {
        Some(r) => Verdict {
            agreement: Agreement::Same,
            why: format!(
                "raw profile version {raw} and {file}'s coverage mapping version {field} ({}) are \
                 both written by {}",
                llvm_name(field),
                releases(Some(r))
            ),
            advice: None,
        },
        None => Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "raw profile version {raw} is written by {}, {file}'s coverage mapping version \
                 {field} ({}) by {}: the profile does not come from this binary's build",
                releases(raws),
                llvm_name(field),
                releases(maps.clone())
            ),
            advice: Some(format!(
                "read the profile again from the build this {file} belongs to{}",
                match maps {
                    Some(r) => format!(" (llvm-cov of {} reads this mapping)", releases(Some(r))),
                    None => String::new(),
                }
            )),
        },
    }
}

/// Why an ELF file's mapping versions cannot be read.
#[cfg(feature = "elf")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// Not an ELF file `object` can read.
    #[error(transparent)]
    Elf(#[from] super::elf::ElfError),
    /// A unit header that lies (the error carries its file offset).
    #[error("__llvm_covmap: {0}")]
    Covmap(crate::error::Error),
}

/// The mapping versions of an ELF file's `__llvm_covmap` section (distinct,
/// in the order first seen); `None` when it has no such section (not built
/// with `-fcoverage-mapping`, or a GCC build).
#[cfg(feature = "elf")]
pub fn mapping_versions(data: &[u8]) -> Result<Option<Vec<u32>>, MappingError> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(data).map_err(super::elf::ElfError::from)?;
    let Some(section) = file.section_by_name("__llvm_covmap") else {
        return Ok(None);
    };
    let bytes = section.data().map_err(super::elf::ElfError::from)?;
    let offset = section.file_range().map_or(0, |(o, _)| o);
    let endian = if file.is_little_endian() {
        crate::bytes::endian::Endian::Little
    } else {
        crate::bytes::endian::Endian::Big
    };
    crate::llvm::covmap::unit_versions((bytes, offset), endian)
        .map(Some)
        .map_err(MappingError::Covmap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_known_clang_agrees_with_its_own_mapping() {
        for m in KNOWN_CLANGS {
            let field = mapping_of_clang(m).unwrap();
            let v = judge_mapping_clang("x", &[field], Some(m));
            assert_eq!(v.agreement, Agreement::Same, "clang {m}: {}", v.why);
            let raw = raw_version_of_clang(m).unwrap();
            let v = judge_mapping_profile("x", field, raw);
            assert_eq!(v.agreement, Agreement::Same, "clang {m}: {}", v.why);
        }
    }

    #[test]
    fn mismatches_name_the_writers() {
        let v = judge_mapping_clang("xen-syms", &[5], Some(21));
        assert_eq!(v.agreement, Agreement::Incompatible);
        assert!(
            v.why
                .contains("clang 21 writes coverage mapping version 6 (Version7)")
        );
        assert!(
            v.why
                .contains("version 5 (Version6, written by clang 13-17)")
        );
        assert!(v.advice.unwrap().contains("llvm-cov of clang 13-17"));
        let v = judge_mapping_clang("xen-syms", &[6, 5], Some(19));
        assert_eq!(v.agreement, Agreement::Incompatible);
        // Raw version 8 (clang 14-17) with a clang 18-21 mapping.
        let v = judge_mapping_profile("xen-syms", 6, 8);
        assert_eq!(v.agreement, Agreement::Incompatible);
        assert!(v.why.contains("written by clang 14-17"), "{}", v.why);
        assert!(v.why.contains("by clang 18-21"), "{}", v.why);
        // An unknown field: no writer.
        let v = judge_mapping_clang("a", &[9], Some(19));
        assert!(
            v.why.contains("no clang release from 11 to 21"),
            "{}",
            v.why
        );
    }
}

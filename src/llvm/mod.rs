//! LLVM's coverage data: the raw profiles (`.profraw`) that clang-built
//! programs, and a clang-built Xen, write; and which clang release writes
//! which raw-profile version.

pub mod coverage;
pub mod covmap;
pub mod names;
pub mod raw;

use crate::error::{Error, LlvmError};

/// The raw profile versions a clang release writes (from LLVM's
/// `INSTR_PROF_RAW_VERSION` at each release branch; Xen's `llvm.c` keeps the
/// same table for 11–20; 14, 18, 19 and 21 checked on profiles Debian's clang
/// wrote, samples/llvm/). `None` for other releases, whose profiles we do
/// not know (LLVM 23 moved to version 11).
pub fn raw_version_of_clang(major: u32) -> Option<u32> {
    match major {
        11 | 12 => Some(5),
        13 => Some(7),
        14..=17 => Some(8),
        18 => Some(9),
        19..=21 => Some(10),
        _ => None,
    }
}

/// The raw-profile version clang `clang_major` writes, when a profile
/// header says another one (`header_version`, the format version without
/// the variant flags). A clang-built Xen writes its profile itself
/// (`xen/common/coverage/llvm.c`), choosing the header's version and the
/// record layout from a table of clang releases: a clang newer than that
/// table gets an older release's header over its own, larger records, and
/// the profile cannot validate (Xen master and clang 21: a version 8 header
/// over version 10 records). `None` when they agree or the release is not
/// known.
pub fn header_of_another_clang(clang_major: u32, header_version: u32) -> Option<u32> {
    raw_version_of_clang(clang_major).filter(|&written| written != header_version)
}

/// The clang major release in an ELF `.comment` string such as
/// `Debian clang version 19.1.7 (3+b1)` or `clang version 14.0.6`.
pub fn clang_major_in_banner(text: &str) -> Option<u32> {
    let rest = text.split("clang version ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The clang releases that write raw version `version` (inverse of [`raw_version_of_clang`]).
pub fn clangs_of_raw_version(version: u32) -> Vec<u32> {
    (11..=21)
        .filter(|&m| raw_version_of_clang(m) == Some(version))
        .collect()
}

/// An error `e` at `offset` of a raw profile or a binary's sections.
pub(crate) fn fail(offset: u64, e: LlvmError) -> Error {
    Error::new(usize::try_from(offset).unwrap_or(usize::MAX), e.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Xen master's llvm.c with clang 21 wrote a version 8 header; clang 21
    /// writes version 10. A release we do not know is no evidence either way.
    #[test]
    fn a_header_of_another_clang_is_named() {
        assert_eq!(header_of_another_clang(21, 8), Some(10));
        assert_eq!(header_of_another_clang(21, 10), None);
        assert_eq!(header_of_another_clang(18, 10), Some(9));
        assert_eq!(header_of_another_clang(99, 8), None);
    }
}

//! Which compilers built an ELF file, from its `.comment` section (one
//! NUL-terminated string per producer: `GCC: (Debian 12.2.0-14) 12.2.0`,
//! `clang version 14.0.6`, linker notes).

use object::{Object, ObjectSection};

/// One producer string of `.comment`, interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Producer {
    /// The string as stored, without its NUL and surrounding blanks.
    pub text: String,
    /// Which compiler (and GCC release) the string names.
    pub kind: ProducerKind,
}

/// The compiler a `.comment` string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case", tag = "compiler"))]
pub enum ProducerKind {
    /// A `GCC: (…) X.Y.Z` banner, with the release it names.
    Gcc {
        /// GCC major release (for example 12).
        major: u8,
        /// GCC minor release.
        minor: u8,
        /// GCC patch level.
        patch: u8,
    },
    /// A `clang version …` banner (the release is read by [`crate::llvm::clang_major_in_banner`]).
    Clang,
    /// A linker or anything else that left a note.
    Other,
}

/// An ELF file that `object` cannot parse; the parser's error is kept as
/// the [source](std::error::Error::source) (the command line prints it after
/// this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable ELF file")]
#[non_exhaustive]
pub struct ElfError {
    /// What `object` found wrong.
    #[source]
    pub source: object::Error,
}

impl From<object::Error> for ElfError {
    fn from(source: object::Error) -> Self {
        ElfError { source }
    }
}

/// The distinct producer strings of `data`'s `.comment`, in order; empty
/// when the section is missing (a stripped file).
pub fn producers(data: &[u8]) -> Result<Vec<Producer>, ElfError> {
    let file = object::File::parse(data)?;
    let Some(section) = file.section_by_name(".comment") else {
        return Ok(Vec::new());
    };
    let bytes = section.data()?;
    let mut out: Vec<Producer> = Vec::new();
    for text in bytes.split(|&b| b == 0).filter(|s| !s.is_empty()) {
        let text = String::from_utf8_lossy(text).trim().to_string();
        if out.iter().any(|p| p.text == text) {
            continue;
        }
        let kind = if let Some(rest) = text.strip_prefix("GCC:") {
            match crate::gcov::version::release_in_banner(rest) {
                Some((major, minor, patch)) => ProducerKind::Gcc {
                    major,
                    minor,
                    patch,
                },
                None => ProducerKind::Other,
            }
        } else if text.contains("clang version") {
            ProducerKind::Clang
        } else {
            ProducerKind::Other
        };
        out.push(Producer { text, kind });
    }
    Ok(out)
}

/// A Xen release as `major.minor` (e.g. 4.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct XenRelease {
    /// Xen major release (4 for every release so far).
    pub major: u32,
    /// Xen minor release (20 in 4.20).
    pub minor: u32,
}

impl std::fmt::Display for XenRelease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The Xen release of a hypervisor ELF file with symbols (`xen-syms`), or
/// `None` when it cannot be told (not Xen, stripped, another architecture).
///
/// No string in `xen-syms` holds the release (the banner is figlet art, the
/// version macros are numbers), but `xen_major_version()` and
/// `xen_minor_version()` in `common/version.c` return them as constants: on
/// x86-64 the functions load them with `mov $imm32,%eax` right before the
/// return (`ret`, `jmp __x86_return_thunk`, or a frame pop), on arm64 with
/// `movz w0,#imm` before `ret`, after whatever coverage instrumentation the
/// compiler put first.
pub fn xen_release(data: &[u8]) -> Result<Option<XenRelease>, ElfError> {
    use object::ObjectSymbol;
    let file = object::File::parse(data)?;
    let constant = |name: &str| -> Option<u32> {
        let sym = file.symbol_by_name(name)?;
        let section = file.section_by_index(sym.section_index()?).ok()?;
        let code = section.data_range(sym.address(), sym.size()).ok()??;
        match file.architecture() {
            object::Architecture::X86_64 => x86_64_return_constant(code),
            object::Architecture::Aarch64 => aarch64_return_constant(code, file.is_little_endian()),
            _ => None,
        }
    };
    Ok(
        match (constant("xen_major_version"), constant("xen_minor_version")) {
            (Some(major), Some(minor)) if (3..=9).contains(&major) && minor < 100 => {
                Some(XenRelease { major, minor })
            }
            _ => None,
        },
    )
}

/// The last `mov $imm32,%eax` (`b8 imm32`) followed by a return, a jump to
/// the return thunk or a frame pop.
fn x86_64_return_constant(code: &[u8]) -> Option<u32> {
    code.windows(6).rev().find_map(|w| match w {
        [0xb8, a, b, c, d, 0xc3 | 0xe9 | 0x5d | 0xc9] => Some(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => None,
    })
}

/// The last `movz w0,#imm16` (no shift) followed directly by `ret`.
fn aarch64_return_constant(code: &[u8], little: bool) -> Option<u32> {
    let word = |b: &[u8]| -> Option<u32> {
        let b: [u8; 4] = b.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let words: Vec<u32> = code.chunks_exact(4).filter_map(word).collect();
    words.windows(2).rev().find_map(|w| match w {
        [mov, 0xd65f_03c0] if mov & 0xffe0_001f == 0x5280_0000 => Some((mov >> 5) & 0xffff),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_error_is_kept_as_the_source() {
        let e = producers(b"\x7fELF but no more").unwrap_err();
        assert_eq!(e.to_string(), "not a readable ELF file");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert!(source.is_some_and(|s| !s.is_empty()), "{e:?}");
    }

    /// `xen_minor_version` of real Xen builds with gcc-14 (objdump of
    /// common/version.o): 4.20.4 (plain counter update) and 4.21.2 (atomic).
    #[test]
    fn the_constant_before_the_return_is_found() {
        let xen_4_20 = [
            0x48, 0x83, 0x05, 0, 0, 0, 0, 0x01, 0xb8, 0x14, 0, 0, 0, 0xe9, 0, 0, 0, 0,
        ];
        assert_eq!(x86_64_return_constant(&xen_4_20), Some(20));
        let xen_4_21 = [
            0xf0, 0x48, 0x83, 0x05, 0, 0, 0, 0, 0x01, 0xb8, 0x15, 0, 0, 0, 0xe9, 0, 0, 0, 0,
        ];
        assert_eq!(x86_64_return_constant(&xen_4_21), Some(21));
        assert_eq!(x86_64_return_constant(&[0xb8, 0x15, 0, 0, 0]), None);
        // arm64: movz w0, #21; ret
        let arm = [0xa0, 0x02, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6];
        assert_eq!(aarch64_return_constant(&arm, true), Some(21));
    }
}

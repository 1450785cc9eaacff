//! What an input is, recognised once from its first bytes: a Xen dump of
//! either era, a raw LLVM profile, a gcda or gcno file in either byte order —
//! and, for the messages that tell a user they gave the wrong file, what else
//! it looks like (an ELF object, an lcov tracefile, compressed data, text).
//!
//! Every command that takes "a dump, a gcda file or a tree" branches on
//! [`recognise`]; nothing else sniffs magic numbers.

use crate::bytes::endian::Endian;
use crate::gcov::{gcda, gcno};
use crate::xen::dump::{Identified, identify};

/// The kinds of input the commands meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A Xen 4.9+ coverage dump (`XCOV` container), in this byte order.
    XenDump(Endian),
    /// A Xen 4.3–4.8 coverage dump (tagged blob), in this byte order.
    LegacyXenDump(Endian),
    /// A raw LLVM profile (a clang-built program or hypervisor) and the
    /// version word of its header (0 when the input ends before it).
    LlvmRawProfile {
        /// The byte order the profile was written in.
        endian: Endian,
        /// The raw-profile format version.
        version: u64,
    },
    /// A gcov counter file (`.gcda`), in this byte order.
    Gcda(Endian),
    /// A gcov notes file (`.gcno`), in this byte order.
    Gcno(Endian),
    /// An indexed LLVM profile (`.profdata`, what `llvm-profdata merge` writes).
    LlvmIndexedProfile,
    /// An ELF object or executable.
    Elf,
    /// gzip-compressed data.
    Gzip,
    /// xz, bzip2 or zstd compressed data.
    Compressed,
    /// An lcov tracefile (text starting with `TN:` or `SF:`).
    LcovTracefile,
    /// An XML document.
    Xml,
    /// Other text (a source file, a report).
    Text,
    /// No bytes at all.
    Empty,
    /// None of the above.
    Unknown,
}

/// Magic of an indexed LLVM profile (`\xfflprofi\x81`), either byte order.
const LLVM_INDEXED_MAGIC: u64 = 0x8169_666f_7270_6cff;

/// Tells what `data` is from its first bytes (and, for text, its first 4 KiB).
pub fn recognise(data: &[u8]) -> Kind {
    let first: &[u8] = data.get(..4).unwrap_or(data);
    let magic = |m: &[u8; 4]| first == m || first.iter().rev().eq(m.iter());
    let endian_of = |m: &[u8; 4]| {
        if first == m {
            Endian::Big
        } else {
            Endian::Little
        }
    };
    if data.is_empty() {
        return Kind::Empty;
    }
    if magic(gcda::MAGIC) {
        return Kind::Gcda(endian_of(gcda::MAGIC));
    }
    if magic(gcno::MAGIC) {
        return Kind::Gcno(endian_of(gcno::MAGIC));
    }
    if first == b"\x7fELF" {
        return Kind::Elf;
    }
    if data.starts_with(&LLVM_INDEXED_MAGIC.to_le_bytes())
        || data.starts_with(&LLVM_INDEXED_MAGIC.to_be_bytes())
    {
        return Kind::LlvmIndexedProfile;
    }
    match identify(data) {
        Ok(Identified::Container(e)) => return Kind::XenDump(e),
        Ok(Identified::Legacy(e)) => return Kind::LegacyXenDump(e),
        Ok(Identified::LlvmProfile { endian, version }) => {
            return Kind::LlvmRawProfile { endian, version };
        }
        Err(_) => {}
    }
    if first.starts_with(b"\x1f\x8b") {
        Kind::Gzip
    } else if first.starts_with(b"\xfd7zX")
        || first.starts_with(b"BZh")
        || first.starts_with(b"\x28\xb5\x2f\xfd")
    {
        Kind::Compressed
    } else if data.starts_with(b"TN:") || data.starts_with(b"SF:") {
        Kind::LcovTracefile
    } else if data.starts_with(b"<?xml") {
        Kind::Xml
    } else if looks_like_text(data) {
        Kind::Text
    } else {
        Kind::Unknown
    }
}

impl Kind {
    /// Whether this is a coverage dump a hypervisor hands out (either Xen
    /// era, or a clang-built Xen's raw LLVM profile).
    pub fn is_dump(self) -> bool {
        matches!(
            self,
            Kind::XenDump(_) | Kind::LegacyXenDump(_) | Kind::LlvmRawProfile { .. }
        )
    }

    /// What the input is, as a phrase for messages ("a .gcda counter file").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::XenDump(_) => "a Xen coverage dump (Xen 4.9+)",
            Kind::LegacyXenDump(_) => "a Xen 4.3-4.8 coverage dump",
            Kind::LlvmRawProfile { .. } => "a raw LLVM profile (.profraw) of a clang-built program",
            Kind::Gcda(_) => "a .gcda counter file",
            Kind::Gcno(_) => "a GCC notes file (.gcno), not counter data",
            Kind::LlvmIndexedProfile => "an indexed LLVM profile (.profdata)",
            Kind::Elf => "an ELF file (an object or executable)",
            Kind::Gzip => "gzip-compressed data (decompress it first)",
            Kind::Compressed => "compressed data (xz, bzip2 or zstd: decompress it first)",
            Kind::LcovTracefile => "an lcov tracefile (text)",
            Kind::Xml => "an XML file",
            Kind::Text => "text (a source file or a report?)",
            Kind::Empty => "an empty file",
            Kind::Unknown => "none of the inputs xencov-rs knows",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// UTF-8 without NUL or other control bytes (tabs and line ends allowed)
/// in its first 4 KiB (a cut multi-byte character at the end is fine).
fn looks_like_text(data: &[u8]) -> bool {
    let head = data.get(..4096).unwrap_or(data);
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(head.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_from_its_first_bytes() {
        // gcov writes the magic as a word: "gcda" read big-endian, so a
        // little-endian file starts with the bytes "adcg".
        assert_eq!(
            recognise(b"adcg\x00\x00\x00\x00"),
            Kind::Gcda(Endian::Little)
        );
        assert_eq!(recognise(b"gcda\x00\x00\x00\x00"), Kind::Gcda(Endian::Big));
        assert_eq!(recognise(b"oncg"), Kind::Gcno(Endian::Little));
        // XCOV magic 0x58434f56 as a little-endian word.
        assert_eq!(recognise(b"VOCX"), Kind::XenDump(Endian::Little));
        assert_eq!(recognise(b"XCOV"), Kind::XenDump(Endian::Big));
        // The legacy END tag 0x5854432e, little-endian.
        assert_eq!(recognise(b".CTX"), Kind::LegacyXenDump(Endian::Little));
        // A raw LLVM profile: magic \xfflprofr\x81 as a little-endian u64, version 10.
        let raw = [
            0x81, 0x72, 0x66, 0x6f, 0x72, 0x70, 0x6c, 0xff, // magic
            0x0a, 0, 0, 0, 0, 0, 0, 0, // version 10
        ];
        assert_eq!(
            recognise(&raw),
            Kind::LlvmRawProfile {
                endian: Endian::Little,
                version: 10
            }
        );
        assert_eq!(recognise(b"\x7fELF\x02\x01"), Kind::Elf);
        assert_eq!(recognise(b"\x1f\x8b\x08"), Kind::Gzip);
        assert_eq!(recognise(b"TN:\nSF:/a.c\n"), Kind::LcovTracefile);
        assert_eq!(recognise(b"int main(void) {}\n"), Kind::Text);
        assert_eq!(recognise(b""), Kind::Empty);
        assert_eq!(recognise(b"\x00\x01\x02\x03\x04"), Kind::Unknown);
        assert!(recognise(b"VOCX").is_dump() && !recognise(b"adcg").is_dump());
    }
}

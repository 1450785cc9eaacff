//! The gcov version word and what it implies.
//!
//! Every gcda/gcno file stores the GCC version that wrote it as a 4-byte word,
//! four ASCII characters when read most-significant byte first:
//! - GCC 3.4 to 6: major digit, two-digit minor, status (`304*`, `407*`, `602*`);
//! - GCC 7 and later: `'A' + major / 10`, `major % 10`, minor, status
//!   (`A75*` = 7.5, `B13*` = 11.3, `B51*` = 15.1, `B62*` = 16.2).
//!
//! The status character is `*` for a release, `e` for an experimental
//! (trunk) build and `p` for a prerelease.
//!
//! [`Version::format`] turns a version into a [`Format`]: the record layout,
//! the length unit, the summaries and the counter kinds of that release.
//! A word that names no GCC release we know is an error saying what it looks
//! like; we never guess a layout.

use super::kinds::{CounterKind, counter_kinds};
use super::tag::Tag;

/// Oldest release line whose files we read: 3.4 introduced the tagged format.
pub const OLDEST: (u8, u8) = (3, 4);
/// Newest major release whose format we know.
pub const NEWEST_MAJOR: u8 = 16;

/// Release status, the last character of the version word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Status {
    /// `*`: a release.
    Release,
    /// `e`: an experimental (development trunk) build.
    Experimental,
    /// `p`: a prerelease.
    Prerelease,
}

impl Status {
    /// The status character as stored in the version word's last byte (`*`, `e` or `p`).
    pub fn char(self) -> u8 {
        match self {
            Status::Release => b'*',
            Status::Experimental => b'e',
            Status::Prerelease => b'p',
        }
    }

    fn from_char(c: u8) -> Option<Status> {
        match c {
            b'*' => Some(Status::Release),
            b'e' => Some(Status::Experimental),
            b'p' => Some(Status::Prerelease),
            _ => None,
        }
    }
}

/// Why a version word was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The word is not shaped like any gcov version.
    #[error("version word {word:#010x} ({shown}) is not a gcov version: {why}")]
    Malformed {
        /// The word as read.
        word: u32,
        /// Its four bytes as characters, most significant first.
        shown: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The word names a GCC release whose files we do not read.
    #[error("version word {word:#010x} ({shown}) looks like GCC {major}.{minor}, {why}")]
    Unsupported {
        /// The word as read.
        word: u32,
        /// Its four bytes as characters, most significant first.
        shown: String,
        /// The GCC major release it names.
        major: u16,
        /// The GCC minor release it names.
        minor: u8,
        /// Why it is refused (too old, newer than we know).
        why: &'static str,
    },
}

/// A decoded gcov version word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    major: u8,
    minor: u8,
    status: Status,
}

impl Version {
    /// Decodes a version word (as read in the file's byte order).
    pub fn from_word(word: u32) -> Result<Version, VersionError> {
        let [a, b, c, d] = word.to_be_bytes();
        // The characters are spelled out only for an error: every decoded
        // file passes here, and most are small.
        let malformed = |why| VersionError::Malformed {
            word,
            shown: show_word(word),
            why,
        };
        let status = Status::from_char(d)
            .ok_or_else(|| malformed("the status character is not *, e or p"))?;
        if !b.is_ascii_digit() || !c.is_ascii_digit() {
            return Err(malformed("the middle characters are not digits"));
        }
        let (b, c) = (b - b'0', c - b'0');
        let (major, minor, letter_form) = match a {
            b'0'..=b'9' => (u16::from(a - b'0'), b * 10 + c, false),
            b'A'..=b'Z' => (u16::from(a - b'A') * 10 + u16::from(b), c, true),
            _ => {
                return Err(malformed(
                    "the first character is neither a digit nor a letter",
                ));
            }
        };
        let unsupported = |why| VersionError::Unsupported {
            word,
            shown: show_word(word),
            major,
            minor,
            why,
        };
        // GCC switched from the digit to the letter form with GCC 7; a word in
        // the other form for its major names no real compiler.
        if letter_form && major < 7 {
            return Err(unsupported(
                "but GCC releases before 7 wrote the digit form (e.g. 409*)",
            ));
        }
        if !letter_form && major >= 7 {
            return Err(unsupported(
                "but GCC 7 and later write the letter form (e.g. A75*)",
            ));
        }
        if (major, minor) < (u16::from(OLDEST.0), OLDEST.1) {
            return Err(unsupported(
                "older than GCC 3.4, whose gcov format (before the tagged records) is not supported",
            ));
        }
        if major == 3 && minor > 4 || major == 4 && minor > 9 {
            return Err(unsupported("a release that never existed"));
        }
        let major = match u8::try_from(major) {
            Ok(m) if m <= NEWEST_MAJOR => m,
            _ => {
                return Err(unsupported(
                    "newer than the newest format this build knows (GCC 16); its layout is not guessed",
                ));
            }
        };
        Ok(Version {
            major,
            minor,
            status,
        })
    }

    /// The version of a GCC release; errors as [`Version::from_word`] would.
    pub fn new(major: u8, minor: u8, status: Status) -> Result<Version, VersionError> {
        let word = encode(major, minor, status).ok_or(VersionError::Malformed {
            word: 0,
            shown: format!("GCC {major}.{minor}"),
            why: "the version cannot be written as a version word",
        })?;
        Version::from_word(word)
    }

    /// The version word, as it is stored (in the file's byte order).
    pub fn word(self) -> u32 {
        // Every accepted version round-trips; see `from_word`.
        encode(self.major, self.minor, self.status).unwrap_or(0)
    }

    /// The GCC major release (for example 12; 3 and 4 for the 3.4 and 4.x releases).
    pub fn major(self) -> u8 {
        self.major
    }

    /// The GCC minor release.
    pub fn minor(self) -> u8 {
        self.minor
    }

    /// Whether the word marks a release, a development or a prerelease build.
    pub fn status(self) -> Status {
        self.status
    }

    /// The four characters of the word, e.g. `B13*`.
    pub fn chars(self) -> String {
        show_word(self.word())
    }

    /// `major.minor`, e.g. `11.3`.
    pub fn gcc(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// Whether this is GCC `major.minor` or later.
    pub fn at_least(self, major: u8, minor: u8) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// Everything the readers and writers need to know about this release's files.
    pub fn format(self) -> Format {
        let v = |major, minor| self.at_least(major, minor);
        Format {
            family: if v(4, 7) {
                Family::Gcc47
            } else {
                Family::Gcc34
            },
            length_unit: if v(12, 0) {
                LengthUnit::Bytes
            } else {
                LengthUnit::Words
            },
            header_checksum: v(12, 0),
            compact_zero_counters: v(11, 0),
            end_marker: v(4, 7),
            summaries: if v(9, 0) {
                Summaries::ObjectRunsSumMax
            } else if v(4, 8) {
                Summaries::ProgramWithHistogram
            } else if v(4, 7) {
                Summaries::Program
            } else {
                Summaries::ObjectAndProgram
            },
            counter_kinds: counter_kinds(self.major, self.minor),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GCC {}", self.gcc())?;
        match self.status {
            Status::Release => Ok(()),
            Status::Experimental => f.write_str(", experimental"),
            Status::Prerelease => f.write_str(", prerelease"),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Version", 5)?;
        st.serialize_field("word", &format!("{:#010x}", self.word()))?;
        st.serialize_field("chars", &self.chars())?;
        st.serialize_field("gcc", &self.gcc())?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("format", &self.format())?;
        st.end()
    }
}

fn encode(major: u8, minor: u8, status: Status) -> Option<u32> {
    let (a, b, c) = if major >= 7 {
        (b'A'.checked_add(major / 10)?, major % 10, minor)
    } else {
        (b'0' + major, minor / 10, minor % 10)
    };
    if c > 9 || b > 9 || !a.is_ascii_alphanumeric() {
        return None;
    }
    Some(u32::from_be_bytes([a, b'0' + b, b'0' + c, status.char()]))
}

/// The word as four characters, non-printable bytes as `\xNN`.
fn show_word(word: u32) -> String {
    word.to_be_bytes()
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// The two function-record layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Family {
    /// GCC 3.4–4.6: a function is identified by ident + one checksum.
    #[cfg_attr(feature = "serde", serde(rename = "3.4"))]
    Gcc34,
    /// GCC 4.7 and later: ident + line-number checksum + CFG checksum.
    #[cfg_attr(feature = "serde", serde(rename = "4.7"))]
    Gcc47,
}

impl Family {
    /// Words of a (non-placeholder) function record that we interpret.
    pub fn function_words(self) -> usize {
        match self {
            Family::Gcc34 => 2,
            Family::Gcc47 => 3,
        }
    }
}

/// Unit of a record's length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum LengthUnit {
    /// 32-bit words (before GCC 12).
    Words,
    /// Bytes (GCC 12 and later).
    Bytes,
}

impl LengthUnit {
    /// Bytes in one unit of a record's length field: 4 before GCC 12, 1 from GCC 12.
    pub fn bytes_per_unit(self) -> u64 {
        match self {
            LengthUnit::Words => 4,
            LengthUnit::Bytes => 1,
        }
    }
}

/// Which summary records a release writes (we keep them verbatim either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Summaries {
    /// GCC 3.4–4.6: object and program summaries after the functions.
    ObjectAndProgram,
    /// GCC 4.7: a program summary first.
    Program,
    /// GCC 4.8–8: a program summary with a histogram first.
    ProgramWithHistogram,
    /// GCC 9 and later: an object summary of runs and sum_max first.
    ObjectRunsSumMax,
}

/// What a release's files look like: everything the readers and writers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Format {
    /// Which record layout (function record, checksums) the release uses.
    pub family: Family,
    /// Whether record lengths count 32-bit words or bytes.
    pub length_unit: LengthUnit,
    /// A checksum word follows the stamp in the header (GCC 12+).
    pub header_checksum: bool,
    /// An all-zero counter record may be written as a negative length and no values (GCC 11+).
    pub compact_zero_counters: bool,
    /// libgcov ends the file with a zero word (GCC 4.7+; Xen's payloads omit it).
    pub end_marker: bool,
    /// Which summary records the release writes and where.
    pub summaries: Summaries,
    /// The counter kinds in tag order (`GCOV_COUNTERS` of the release).
    pub counter_kinds: &'static [CounterKind],
}

impl Format {
    /// The counter kind a counter record's tag names in this release.
    pub fn counter_kind(&self, tag: Tag) -> Option<&'static CounterKind> {
        self.counter_kinds.get(tag.counter_index()?)
    }
}

/// The GCC release a version banner names: `GCC: (Debian 12.2.0-14) 12.2.0`
/// from `.comment`, or `gcov (Debian 11.3.0-12) 11.3.0` from `gcov --version`.
/// The release is the first `M.m[.p]` token outside parentheses.
pub fn release_in_banner(banner: &str) -> Option<(u8, u8, u8)> {
    let mut depth = 0usize;
    let mut outside = String::new();
    for c in banner.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    outside.split_whitespace().find_map(|token| {
        let mut parts = token.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })?;
        Some((major, minor, patch))
    })
}

//! Record tags: the first word of every gcda and gcno record, which says
//! what the record holds (GCC's `GCOV_TAG_*`).
//!
//! A [`Tag`] is the word as read, whatever its value, so a file with a tag
//! no release defines still decodes (gcda keeps such records verbatim). The
//! tags GCC defines are associated constants; the counter tags, one per
//! counter kind, are computed from the kind's index ([`Tag::counter`]),
//! which [`crate::gcov::kinds`] numbers for each release. `Display` prints
//! the word and the name `gcov-dump` gives it: `0x01000000 (FUNCTION)`.

use std::fmt;

/// A gcov record tag.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(u32);

impl Tag {
    /// `GCOV_TAG_FUNCTION`: a function record (ident and checksums); in a
    /// gcda it is followed by that function's counter records, in a gcno by
    /// its BLOCKS, ARCS, LINES (and CONDITIONS, PATHS) records.
    pub const FUNCTION: Tag = Tag(0x0100_0000);
    /// `GCOV_TAG_BLOCKS`: the function's basic blocks (one flags word each
    /// before GCC 8, only their number from GCC 8).
    pub const BLOCKS: Tag = Tag(0x0141_0000);
    /// `GCOV_TAG_ARCS`: one block's outgoing arcs, each a destination block and a flags word.
    pub const ARCS: Tag = Tag(0x0143_0000);
    /// `GCOV_TAG_LINES`: one block's source locations, a file name followed by its line numbers.
    pub const LINES: Tag = Tag(0x0145_0000);
    /// `GCOV_TAG_CONDITIONS`: condition coverage (GCC 14+,
    /// `-fcondition-coverage`): per decision, the block that evaluates it and
    /// its number of terms.
    pub const CONDITIONS: Tag = Tag(0x0147_0000);
    /// `GCOV_TAG_PATHS`: path coverage (GCC 15+, `-fpath-coverage`): one
    /// word, the number of prime paths counted for the function.
    pub const PATHS: Tag = Tag(0x0149_0000);
    /// `GCOV_TAG_COUNTER_BASE`: the counter record of kind 0 (the arcs);
    /// kind `n` is [`Tag::counter`]`(n)`.
    pub const COUNTER_BASE: Tag = Tag(0x01a1_0000);
    /// `GCOV_TAG_OBJECT_SUMMARY`: the summary of this object's arc counters
    /// (runs, sum of maxima; more before GCC 9).
    pub const OBJECT_SUMMARY: Tag = Tag(0xa100_0000);
    /// `GCOV_TAG_PROGRAM_SUMMARY`: the whole program's summary, written by GCC 3.4–8 only.
    pub const PROGRAM_SUMMARY: Tag = Tag(0xa300_0000);

    /// Counter tags occupy `0x01a1…0x01ff` in the top half-word, two apart
    /// (GCC's `GCOV_TAG_FOR_COUNTER`): at most this many kinds.
    const COUNTER_KINDS: usize = 48;

    /// The tag of the counter record of kind `index` (`GCOV_TAG_FOR_COUNTER`):
    /// `0x01a10000 + (index << 17)`. The index of a kind in a release is
    /// [`crate::gcov::kinds::CounterKind::index`]; an index beyond the tag
    /// space wraps, as the C macro does.
    pub const fn counter(index: usize) -> Tag {
        Tag(Tag::COUNTER_BASE.0.wrapping_add((index as u32) << 17))
    }

    /// The counter kind index this tag names, if it is a counter tag
    /// (`GCOV_TAG_IS_COUNTER`).
    pub fn counter_index(self) -> Option<usize> {
        let offset = self.0.checked_sub(Tag::COUNTER_BASE.0)?;
        if offset & 0x0001_ffff != 0 {
            return None;
        }
        let index = (offset >> 17) as usize;
        (index < Tag::COUNTER_KINDS).then_some(index)
    }

    /// Whether this is a counter tag.
    pub fn is_counter(self) -> bool {
        self.counter_index().is_some()
    }

    /// The word as stored.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The name `gcov-dump` prints for this tag (`FUNCTION`, `COUNTERS`,
    /// `OBJECT_SUMMARY`, …), whatever the release; `None` for a word no
    /// release defines (gcov-dump prints `UNKNOWN`). A gcov-dump that does
    /// not know a tag yet also prints `UNKNOWN` for it (CONDITIONS before GCC
    /// 14, PATHS before 16): that choice is the caller's, which knows the
    /// version.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Tag::FUNCTION => "FUNCTION",
            Tag::BLOCKS => "BLOCKS",
            Tag::ARCS => "ARCS",
            Tag::LINES => "LINES",
            Tag::CONDITIONS => "CONDITIONS",
            Tag::PATHS => "PATHS",
            Tag::OBJECT_SUMMARY => "OBJECT_SUMMARY",
            Tag::PROGRAM_SUMMARY => "PROGRAM_SUMMARY",
            t if t.is_counter() => "COUNTERS",
            _ => return None,
        })
    }
}

impl From<u32> for Tag {
    fn from(word: u32) -> Tag {
        Tag(word)
    }
}

impl From<Tag> for u32 {
    fn from(tag: Tag) -> u32 {
        tag.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x} ({})", self.0, self.name().unwrap_or("UNKNOWN"))
    }
}

/// Debug shows the word and its name, as Display does: `Tag(0x01000000 FUNCTION)`.
impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Tag({:#010x} {name})", self.0),
            None => write!(f, "Tag({:#010x})", self.0),
        }
    }
}

/// The word in hexadecimal, so messages can keep printing `{tag:#010x}`.
impl fmt::LowerHex for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// The word as a number, as the decoded models have always shown it.
#[cfg(feature = "serde")]
impl serde::Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display() {
        assert_eq!(Tag::FUNCTION.to_string(), "0x01000000 (FUNCTION)");
        assert_eq!(Tag::from(0x0143_0000).to_string(), "0x01430000 (ARCS)");
        assert_eq!(Tag::counter(1).to_string(), "0x01a30000 (COUNTERS)");
        assert_eq!(Tag::from(0xa300_0000).name(), Some("PROGRAM_SUMMARY"));
        assert_eq!(Tag::from(0x0123_4567).to_string(), "0x01234567 (UNKNOWN)");
        assert_eq!(format!("{:08x}", Tag::BLOCKS), "01410000");
        assert_eq!(format!("{:?}", Tag::ARCS), "Tag(0x01430000 ARCS)");
    }

    #[test]
    fn counter_tags_round_trip() {
        // The tags of the formats/ notes: arcs 0x01a10000, interval
        // 0x01a30000, …, GCC 14's conditions (kind 8) 0x01b10000.
        assert_eq!(Tag::counter(0), Tag::COUNTER_BASE);
        assert_eq!(Tag::counter(8).raw(), 0x01b1_0000);
        for i in 0..48 {
            assert_eq!(Tag::counter(i).counter_index(), Some(i));
        }
        // Between two counter tags, before the base, past the 48 kinds.
        assert_eq!(Tag::from(0x01a2_0000).counter_index(), None);
        assert_eq!(Tag::from(0x01a1_0001).counter_index(), None);
        assert_eq!(Tag::ARCS.counter_index(), None);
        assert_eq!(Tag::from(0x0201_0000).counter_index(), None);
        assert!(!Tag::OBJECT_SUMMARY.is_counter());
        assert_eq!(u32::from(Tag::PATHS), 0x0149_0000);
    }
}

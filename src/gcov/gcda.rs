//! The gcda (counter data) file: decode to a typed model and encode back,
//! byte for byte, for both format families and both byte orders.
//!
//! Summary records and tags we do not interpret are kept verbatim in file
//! order, so `encode(decode(x)) == x` for every file we accept. See
//! `formats/gcda.md` for the layout.
//!
//! The file stays whole (about 450 lines): a third is the documented model,
//! and the decoder, the encoder and the JSON shape are each the mirror of
//! that model, read best side by side.

use crate::bytes::endian::Endian;
use crate::error::{Error, ErrorKind, Result};
use crate::gcov::kinds::CounterKind;
use crate::gcov::record::RecordWriter;
use crate::gcov::record::{Header, RawRecord, Records, read_header};
use crate::gcov::tag::Tag;
use crate::gcov::version::{Family, Format};
#[cfg(feature = "serde")]
use serde::ser::{SerializeSeq, SerializeStruct};

/// The magic word, spelled in big-endian order.
pub const MAGIC: &[u8; 4] = b"gcda";

/// A decoded gcda file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Gcda {
    /// The magic, version word and stamp that open the file.
    pub header: Header,
    /// Top-level records in file order; counters are nested in their function.
    pub records: Vec<Record>,
    /// Whether the records end with a zero word (libgcov writes one; Xen's payloads have none).
    pub end_marker: bool,
    /// Bytes after the end marker, ignored by gcov and kept for byte-exact
    /// encoding: stale data of a longer earlier file that older libgcov
    /// rewrote in place, or the zero length word LLVM writes after the marker.
    #[cfg_attr(feature = "serde", serde(serialize_with = "hex_bytes"))]
    pub after_end: Vec<u8>,
}

#[cfg(feature = "serde")]
fn hex_bytes<S: serde::Serializer>(b: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// A top-level record of a gcda file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "record", rename_all = "kebab-case"))]
pub enum Record {
    /// A function record with its counters.
    Function(Function),
    /// A summary or any record we do not interpret, kept verbatim.
    Other(OtherRecord),
}

/// A function record and the counter records that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Function {
    /// `None` for a length-0 placeholder (a COMDAT copy this object does not own).
    pub id: Option<FunctionId>,
    /// Words past the fields we interpret (LLVM's writers append a name here).
    pub extra: Vec<u32>,
    /// The counter records that follow the function record, in file order.
    pub counters: Vec<Counters>,
}

/// What identifies a function across profiles of the same build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FunctionId {
    /// The function's `ident` as the notes file numbers it (unique within the unit, not across units).
    pub ident: u32,
    /// The line-number checksum; the only checksum of the 3.4 family.
    pub lineno_checksum: u32,
    /// The CFG checksum of the 4.7 family; `None` in the 3.4 family.
    pub cfg_checksum: Option<u32>,
}

/// One counter record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    /// Which counter kind the record's tag names (arcs, topn, time profile, …).
    pub kind: CounterKind,
    /// The record's values.
    pub values: Values,
}

/// Counter values as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    /// Written out one by one.
    Stored(Vec<u64>),
    /// The compact all-zero form of GCC 11+: only the count is stored. Kept
    /// unexpanded so that a lying count costs no memory.
    Zero(u32),
}

impl Values {
    /// How many values the record holds (the stored ones or the compact count).
    pub fn len(&self) -> usize {
        match self {
            Values::Stored(v) => v.len(),
            Values::Zero(n) => *n as usize,
        }
    }

    /// Whether the record holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the record is in GCC 11+'s compact all-zero form (negative length, no values stored).
    pub fn is_compact(&self) -> bool {
        matches!(self, Values::Zero(_))
    }

    /// The values, zeros included for the compact form.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (stored, zeros) = match self {
            Values::Stored(v) => (v.as_slice(), 0),
            Values::Zero(n) => (&[][..], *n as usize),
        };
        stored.iter().copied().chain(std::iter::repeat_n(0, zeros))
    }
}

/// A record kept verbatim: summaries and unknown tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherRecord {
    /// The record's tag, as read in the file's byte order.
    pub tag: Tag,
    /// The record's payload as 32-bit words in the file's byte order.
    pub words: Vec<u32>,
}

impl OtherRecord {
    /// The name gcov-dump uses for this tag.
    pub fn name(&self) -> &'static str {
        match self.tag {
            Tag::OBJECT_SUMMARY => "OBJECT_SUMMARY",
            Tag::PROGRAM_SUMMARY => "PROGRAM_SUMMARY",
            _ => "UNKNOWN",
        }
    }

    /// The summary this record holds, if it is one. The layout is told by
    /// the word count (2: GCC 9+; 9: GCC 3.4-4.7; 17 + 5 per histogram
    /// bucket: GCC 4.8-8), which is unambiguous between the eras.
    pub fn summary(&self) -> Option<Summary> {
        if self.tag != Tag::OBJECT_SUMMARY && self.tag != Tag::PROGRAM_SUMMARY {
            return None;
        }
        let w = self.words.as_slice();
        let u64_at = |i: usize| Some(u64::from(*w.get(i + 1)?) << 32 | u64::from(*w.get(i)?));
        if let &[runs, sum_max] = w {
            return (self.tag == Tag::OBJECT_SUMMARY).then_some(Summary {
                checksum: None,
                num: None,
                runs,
                sum_all: None,
                run_max: None,
                sum_max: u64::from(sum_max),
                histogram: Vec::new(),
            });
        }
        let mut summary = Summary {
            checksum: Some(*w.first()?),
            num: Some(*w.get(1)?),
            runs: *w.get(2)?,
            sum_all: Some(u64_at(3)?),
            run_max: Some(u64_at(5)?),
            sum_max: u64_at(7)?,
            histogram: Vec::new(),
        };
        if w.len() == 9 {
            return Some(summary);
        }
        let bits = w.get(9..17)?;
        let mut at = 17;
        for (i, &word) in bits.iter().enumerate() {
            for bit in 0..32 {
                if word & (1 << bit) != 0 {
                    summary.histogram.push(Bucket {
                        index: (i * 32 + bit) as u32,
                        num_counters: *w.get(at)?,
                        min_value: u64_at(at + 1)?,
                        cum_value: u64_at(at + 3)?,
                    });
                    at += 5;
                }
            }
        }
        (at == w.len()).then_some(summary)
    }
}

/// An object or program summary (arc counters only), decoded from its words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Summary {
    /// Program checksum (GCC 3.4-8).
    pub checksum: Option<u32>,
    /// Number of arc counters (GCC 3.4-8).
    pub num: Option<u32>,
    /// How many runs of the program wrote into this file (`runs`).
    pub runs: u32,
    /// Sum of all arc counters over the runs (`sum_all`, GCC 3.4–8).
    pub sum_all: Option<u64>,
    /// Largest single arc counter of any one run (`run_max`, GCC 3.4–8).
    pub run_max: Option<u64>,
    /// Sum over runs of each run's largest arc counter (32 bits from GCC 9).
    pub sum_max: u64,
    /// Non-empty histogram buckets (GCC 4.8-8).
    pub histogram: Vec<Bucket>,
}

/// One non-empty bucket of a GCC 4.8-8 summary histogram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Bucket {
    /// The bucket's index (0–251) in GCC's log-linear histogram.
    pub index: u32,
    /// How many arc counters fall in this bucket.
    pub num_counters: u32,
    /// The smallest counter value in the bucket.
    pub min_value: u64,
    /// The sum of the counter values in the bucket.
    pub cum_value: u64,
}

impl Gcda {
    /// Decodes a whole gcda image.
    pub fn decode(data: &[u8]) -> Result<Gcda> {
        let (header, reader) = read_header(data, MAGIC)?;
        let format = header.version.format();
        let mut records = Records::new(reader, header.version);
        let mut out: Vec<Record> = Vec::new();
        for raw in &mut records {
            let raw = raw?;
            if raw.tag.is_counter() {
                let counters = decode_counters(&raw, &header, &format)?;
                match out.last_mut() {
                    Some(Record::Function(f)) => {
                        if f.counters.capacity() == 0 {
                            // Room for this record and the counter records
                            // right after it, so the vector never grows.
                            let next = raw.payload_offset() + raw.payload.len();
                            let more = data
                                .get(next..)
                                .map_or(0, |rest| counter_records(rest, &header, &format));
                            f.counters.reserve_exact(1 + more);
                        }
                        f.counters.push(counters)
                    }
                    _ => {
                        return Err(Error::new(
                            raw.offset,
                            ErrorKind::CounterOutsideFunction { tag: raw.tag },
                        ));
                    }
                }
                continue;
            }
            if raw.tag == Tag::FUNCTION {
                out.push(Record::Function(decode_function(&raw, &header, &format)?));
            } else {
                out.push(Record::Other(OtherRecord {
                    tag: raw.tag,
                    words: decode_words(&raw, &header)?,
                }));
            }
        }
        Ok(Gcda {
            header,
            records: out,
            end_marker: records.saw_end_marker(),
            after_end: records.after_end().to_vec(),
        })
    }

    /// Encodes the file in its own byte order and its version's layout.
    pub fn encode(&self) -> Vec<u8> {
        let format = self.header.version.format();
        let mut w = RecordWriter::new(MAGIC, &self.header, &format);
        for record in &self.records {
            match record {
                Record::Function(f) => {
                    w.record(Tag::FUNCTION, |w| {
                        if let Some(id) = f.id {
                            w.u32(id.ident);
                            w.u32(id.lineno_checksum);
                            if format.family == Family::Gcc47 {
                                w.u32(id.cfg_checksum.unwrap_or(0));
                            }
                        }
                        f.extra.iter().for_each(|&x| w.u32(x));
                    });
                    for c in &f.counters {
                        let tag = c.kind.tag();
                        match &c.values {
                            Values::Stored(v) => {
                                w.record(tag, |w| v.iter().for_each(|&x| w.u64(x)))
                            }
                            Values::Zero(n) => w.compact(tag, u64::from(*n) * 8),
                        }
                    }
                }
                Record::Other(o) => w.record(o.tag, |w| o.words.iter().for_each(|&x| w.u32(x))),
            }
        }
        w.finish(self.end_marker, &self.after_end)
    }

    /// The function records, in file order.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.records.iter().filter_map(|r| match r {
            Record::Function(f) => Some(f),
            Record::Other(_) => None,
        })
    }
}

/// How many counter records open `rest` (the bytes after a counter
/// record), read from their tags and lengths alone: room for them all in
/// the function's vector. It stops at anything unexpected (a cut record, a
/// length past the end), which the decoder then reports; a count too low
/// only means that the vector grows.
fn counter_records(mut rest: &[u8], header: &Header, format: &Format) -> usize {
    let per_unit = format.length_unit.bytes_per_unit() as usize;
    let mut n = 0;
    while let Some(([t0, t1, t2, t3, l0, l1, l2, l3], payload)) = rest.split_first_chunk::<8>() {
        let tag = Tag::from(header.endian.u32_from([*t0, *t1, *t2, *t3]));
        if !tag.is_counter() {
            break;
        }
        n += 1;
        let length = header.endian.u32_from([*l0, *l1, *l2, *l3]);
        // A negative length is the compact form: no payload.
        let bytes = if (length as i32) < 0 {
            0
        } else {
            (length as usize).saturating_mul(per_unit)
        };
        let Some(after) = payload.get(bytes..) else {
            break;
        };
        rest = after;
    }
    n
}

fn decode_function(raw: &RawRecord<'_>, header: &Header, format: &Format) -> Result<Function> {
    let mut words = words(raw, header.endian)?;
    if words.len() == 0 {
        return Ok(Function {
            id: None,
            extra: Vec::new(),
            counters: Vec::new(),
        });
    }
    let needed = format.family.function_words();
    if words.len() < needed {
        return Err(Error::new(
            raw.payload_offset(),
            ErrorKind::FunctionTooShort {
                words: words.len(),
                needed,
            },
        ));
    }
    let mut next = || words.next().unwrap_or(0);
    let id = FunctionId {
        ident: next(),
        lineno_checksum: next(),
        cfg_checksum: (format.family == Family::Gcc47).then(&mut next),
    };
    Ok(Function {
        id: Some(id),
        // GCC writes no extra word (LLVM's writers do): nothing to collect.
        extra: match words.len() {
            0 => Vec::new(),
            _ => words.collect(),
        },
        counters: Vec::new(),
    })
}

fn decode_counters(raw: &RawRecord<'_>, header: &Header, format: &Format) -> Result<Counters> {
    let Some(&kind) = format.counter_kind(raw.tag) else {
        return Err(unknown_kind(raw, header, format));
    };
    let bytes = raw.compact_bytes.unwrap_or(raw.payload.len() as u64);
    if !bytes.is_multiple_of(8) {
        return Err(Error::new(
            raw.offset + 4,
            ErrorKind::LengthNotMultiple {
                tag: raw.tag,
                bytes,
                unit: 8,
            },
        ));
    }
    let values = match raw.compact_bytes {
        // At most 2^31 units of at most 4 bytes: the count fits in u32.
        Some(_) => Values::Zero(u32::try_from(bytes / 8).unwrap_or(u32::MAX)),
        // The payload is whole 8-byte counters (checked above), so nothing
        // can be cut short: one exact allocation, one loop per byte order.
        None => Values::Stored(match header.endian {
            Endian::Little => counters::<false>(raw.payload),
            Endian::Big => counters::<true>(raw.payload),
        }),
    };
    Ok(Counters { kind, values })
}

/// The 64-bit counters of a payload of whole counters (a trailing partial
/// one is never there; it would be dropped). gcov stores each as two words
/// in the file's byte order, low word first: little-endian that is a plain
/// little-endian u64. `BIG`: the words are big-endian.
fn counters<const BIG: bool>(payload: &[u8]) -> Vec<u64> {
    payload
        .chunks_exact(8)
        .map(|c| {
            let w: [u8; 8] = c.try_into().unwrap_or([0; 8]);
            crate::bytes::endian::counter::<BIG>(w)
        })
        .collect()
}

#[cold]
fn unknown_kind(raw: &RawRecord<'_>, header: &Header, format: &Format) -> Error {
    Error::new(
        raw.offset,
        ErrorKind::UnknownCounterKind {
            tag: raw.tag,
            index: raw.tag.counter_index().unwrap_or(usize::MAX),
            gcc: header.version.gcc(),
            kinds: format.counter_kinds.len(),
        },
    )
}

/// The payload's 32-bit words, or an error when its length is not a
/// multiple of 4.
fn words<'a>(
    raw: &RawRecord<'a>,
    endian: Endian,
) -> Result<impl ExactSizeIterator<Item = u32> + use<'a>> {
    let len = raw.payload.len();
    if !len.is_multiple_of(4) {
        return Err(Error::new(
            raw.offset + 4,
            ErrorKind::LengthNotMultiple {
                tag: raw.tag,
                bytes: len as u64,
                unit: 4,
            },
        ));
    }
    Ok(raw
        .payload
        .chunks_exact(4)
        .map(move |c| endian.u32_from(c.try_into().unwrap_or([0; 4]))))
}

fn decode_words(raw: &RawRecord<'_>, header: &Header) -> Result<Vec<u32>> {
    Ok(words(raw, header.endian)?.collect())
}

#[cfg(feature = "serde")]
impl serde::Serialize for Counters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Counters", 6)?;
        st.serialize_field("tag", &format!("{:#010x}", self.kind.tag()))?;
        st.serialize_field("kind", self.kind.name)?;
        st.serialize_field("merge", &self.kind.merge)?;
        st.serialize_field("count", &self.values.len())?;
        st.serialize_field("compact", &self.values.is_compact())?;
        st.serialize_field("values", &ValuesSeq(&self.values))?;
        st.end()
    }
}

/// Streams the values (zeros of a compact record included) without collecting them.
#[cfg(feature = "serde")]
struct ValuesSeq<'a>(&'a Values);

#[cfg(feature = "serde")]
impl serde::Serialize for ValuesSeq<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0.iter() {
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for OtherRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("OtherRecord", 4)?;
        st.serialize_field("tag", &format!("{:#010x}", self.tag))?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("words", &self.words)?;
        st.serialize_field("summary", &self.summary())?;
        st.end()
    }
}

#[cfg(test)]
mod tests;

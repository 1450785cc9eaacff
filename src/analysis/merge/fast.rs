//! The common case of a merge, done without decoding: an input of the same
//! build as the accumulated profile, whose functions and counter sections
//! line up one for one with it, is added in place straight from its bytes.
//!
//! [`add_in_place`] walks the input's records with the zero-copy framing of
//! [`crate::gcov::record`] to check that everything lines up (nothing is
//! changed if it does not), then adds. [`add_with_layout`] keeps what it
//! learnt of an input that lined up (its [`Layout`]): the next input of the
//! same framing is checked by one comparison of bytes and added without a
//! walk. No counter is copied out and nothing is allocated per function. Anything else — another
//! stamp or version, a function missing, moved or of other checksums, a
//! counter section of another kind or length, a summary, a placeholder, a
//! kind other than the element-wise sum and bitwise or, or input the
//! decoder would refuse — returns [`Fast::Declined`], and the caller takes
//! the general road ([`Gcda::decode`] and [`super::merge_unit`]), which
//! reports conflicts and malformed input as before. So the result, the
//! overflows reported and the errors are the same on both roads.

use super::checked;
use super::{MAX_COUNT, Overflow};
use crate::bytes::endian::Endian;
use crate::gcov::gcda::{Function, FunctionId, Gcda, MAGIC, Record, Values};
use crate::gcov::kinds::{CounterKind, MergeRule};
use crate::gcov::record::{Header, RawRecord, Records, read_header};
use crate::gcov::tag::Tag;
use crate::gcov::version::{Family, Format};

/// What [`add_in_place`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fast {
    /// The input was added; the values saturated at [`super::MAX_COUNT`]
    /// (as [`super::merge_unit`] reports them).
    Merged(Vec<Overflow>),
    /// The input does not line up with `dst` (or is not plainly readable):
    /// `dst` is unchanged; decode the input and use [`super::merge_unit`].
    Declined,
}

/// Adds the gcda image `src` (weight 1) into `dst` in place when it lines
/// up record for record with `dst`'s functions (see the module doc);
/// otherwise changes nothing and returns [`Fast::Declined`].
pub fn add_in_place(dst: &mut Gcda, src: &[u8]) -> Fast {
    add_with_layout(dst, &mut None, src)
}

/// What the fast road learned from an input that lined up with a unit: the
/// input's framing (every byte that is not a counter value or the header
/// checksum: header, record tags and lengths, function records, the end)
/// and where its counter values lie. A later input with the same framing
/// lines up with the unit too, as long as the unit's functions and
/// sections have not changed (the general road changes them: whoever
/// takes it drops the layout), so it is checked by comparing bytes, and
/// its records are not walked again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The input's length.
    len: usize,
    /// The framing bytes, in order (the holes left out).
    framing: Vec<u8>,
    /// The header checksum's four bytes (GCC 12+), which may differ.
    checksum: Option<usize>,
    /// Per counter section of the unit, in order: where its values lie
    /// in the input (empty for a compact all-zero record).
    sections: Vec<std::ops::Range<u32>>,
}

impl Layout {
    /// The layout of `src`, an input that [`lines_up`] with its unit.
    fn of(src: &[u8]) -> Option<Layout> {
        let mut layout = Layout::of_sections(src)?;
        let mut framing = Vec::with_capacity(src.len() / 8);
        layout.gaps(src, |gap| {
            framing.extend_from_slice(gap);
            true
        });
        layout.framing = framing;
        Some(layout)
    }

    /// Where the counter values of `src` lie, without its framing copied.
    fn of_sections(src: &[u8]) -> Option<Layout> {
        let (header, reader) = read_header(src, MAGIC).ok()?;
        let checksum = header.checksum.map(|_| 12);
        let mut sections = Vec::new();
        for raw in Records::new(reader, header.version) {
            let raw = raw.ok()?;
            if raw.tag.is_counter() {
                let at = raw.payload_offset();
                let end = at + raw.payload.len();
                sections.push(u32::try_from(at).ok()?..u32::try_from(end).ok()?);
            }
        }
        Some(Layout {
            len: src.len(),
            framing: Vec::new(),
            checksum,
            sections,
        })
    }

    /// Whether `a` and `b` (both of this layout's length) have the same
    /// framing.
    fn same_framing(&self, a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let holes = self.checksum.map(|at| at..at + 4).into_iter();
        let mut from = 0;
        for hole in holes.chain(self.sections.iter().map(wide)) {
            match (a.get(from..hole.start), b.get(from..hole.start)) {
                (Some(x), Some(y)) if x == y => {}
                _ => return false,
            }
            from = hole.end;
        }
        matches!((a.get(from..), b.get(from..)), (Some(x), Some(y)) if x == y)
    }

    /// Calls `each` with the framing of `src` (the bytes between the
    /// holes), in order, until it returns false; whether it never did.
    fn gaps(&self, src: &[u8], mut each: impl FnMut(&[u8]) -> bool) -> bool {
        let holes = self.checksum.map(|at| at..at + 4).into_iter();
        let mut from = 0;
        for hole in holes.chain(self.sections.iter().map(wide)) {
            let Some(gap) = src.get(from..hole.start) else {
                return false;
            };
            if !each(gap) {
                return false;
            }
            from = hole.end;
        }
        src.get(from..).is_some_and(each)
    }

    /// Whether `src` has this framing.
    fn matches(&self, src: &[u8]) -> bool {
        if src.len() != self.len {
            return false;
        }
        let mut at = 0;
        self.gaps(src, |gap| {
            let end = at + gap.len();
            let same = self.framing.get(at..end) == Some(gap);
            at = end;
            same
        })
    }
}

/// A section's place as an index range (kept as `u32`: half the room for
/// 12,000 sections a unit list; a file past 4 GiB has no layout).
fn wide(r: &std::ops::Range<u32>) -> std::ops::Range<usize> {
    r.start as usize..r.end as usize
}

/// As [`add_in_place`], with the layout of the unit's earlier inputs:
/// `src` is checked against it (one comparison of its framing) and added
/// without walking its records; an input of another framing is checked in
/// full and, when it lines up, becomes the layout. The caller keeps one
/// layout per unit and sets it to `None` whenever it changes `dst` by
/// other means.
pub fn add_with_layout(dst: &mut Gcda, layout: &mut Option<Layout>, src: &[u8]) -> Fast {
    if !layout.as_ref().is_some_and(|l| l.matches(src)) {
        if !lines_up(dst, src) {
            return Fast::Declined;
        }
        *layout = Layout::of(src);
    }
    let Some(layout) = layout.as_ref() else {
        return Fast::Declined; // cannot happen: `lines_up` read the same records
    };
    let endian = dst.header.endian;
    let mut overflows = Vec::new();
    let mut sections = layout.sections.iter();
    for f in dst.records.iter_mut().filter_map(|r| match r {
        Record::Function(f) => Some(f),
        Record::Other(_) => None,
    }) {
        let function = f.id.map(|id| id.ident);
        for c in &mut f.counters {
            let Some(payload) = sections.next().and_then(|s| src.get(wide(s))) else {
                continue;
            };
            let mut saturated = 0;
            add_section(&mut c.values, payload, endian, &c.kind, &mut saturated);
            if saturated > 0 {
                overflows.push(Overflow {
                    function,
                    kind: c.kind.name,
                    values: saturated,
                });
            }
        }
    }
    // A hypervisor writes a zero checksum: the real one wins (as merge_unit).
    if dst.header.checksum == Some(0)
        && let Some(w) = layout
            .checksum
            .and_then(|at| src.get(at..at + 4))
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
    {
        dst.header.checksum = Some(endian.u32_from(w));
    }
    Fast::Merged(overflows)
}

/// A unit kept as the gcda image of its first input, counts added in place
/// in the image (in its byte order), for a unit that only ever takes the
/// fast road: the image is all the unit's bytes (2.76 MB for a Xen dump of
/// 300,000 counts), where the decoded [`Gcda`] takes its counters plus a
/// record and a vector per function. [`Image::decode`] gives the model, the
/// same as the decoded input with every count added to it by
/// [`add_with_layout`], and the image is that model encoded (an input is
/// kept as an image only when it is what the encoder writes, and counts
/// take the same bytes whatever their values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    bytes: Vec<u8>,
    header: Header,
    /// Where the image's counter values lie (no framing copy: the image
    /// is its own framing). What an overflow names (the function, the
    /// counter kind) is read back from the image's records when one
    /// happens, not kept per section: 8 bytes a section, 0.19 MB for a Xen
    /// dump, resident for the whole merge, for a road real data never
    /// takes.
    layout: Layout,
}

impl Image {
    /// The image `src` of a unit whose decoded model is `g` (its first
    /// input, weight 1), when every later input of the same framing can be
    /// added into it in place: it lines up with `g`, and each counter
    /// section is stored in full and summed plainly (no compact all-zero
    /// record, no `average`, no bitwise or). Otherwise `None`: keep `g`.
    pub fn new(g: &Gcda, src: &[u8]) -> Option<Image> {
        // The image must be what the encoder writes for the model, so that
        // it can be written as it is (counts do not change the framing).
        if !lines_up(g, src) || g.encode() != src {
            return None;
        }
        let mut layout = Layout::of_sections(src)?;
        let mut sections = layout.sections.iter();
        for f in g.records.iter().filter_map(|r| match r {
            Record::Function(f) => Some(f),
            Record::Other(_) => None,
        }) {
            for c in &f.counters {
                let plain = c.kind.merge == MergeRule::Add && c.kind.name != "average";
                let s = wide(sections.next()?);
                match &c.values {
                    Values::Stored(v) if plain && s.len() == v.len() * 8 => {}
                    _ => return None,
                }
            }
        }
        if sections.next().is_some() {
            return None;
        }
        layout.sections.shrink_to_fit();
        Some(Image {
            bytes: src.to_vec(),
            header: g.header,
            layout,
        })
    }

    /// The header (its checksum as the image holds it).
    pub fn header(&self) -> Header {
        let mut header = self.header;
        if let Some(at) = self.layout.checksum
            && let Some(w) = self
                .bytes
                .get(at..at + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
        {
            header.checksum = Some(header.endian.u32_from(w));
        }
        header
    }

    /// The decoded model.
    pub fn decode(&self) -> crate::error::Result<Gcda> {
        Gcda::decode(&self.bytes)
    }

    /// The image: what [`Gcda::encode`] gives for [`Image::decode`]'s model.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Adds `src` (weight 1) in place when it has the image's framing (so
    /// it lines up with the unit as the image did); otherwise changes
    /// nothing and returns [`Fast::Declined`]. The overflows are those
    /// [`add_with_layout`] reports for the same input.
    pub fn add(&mut self, src: &[u8]) -> Fast {
        let layout = &self.layout;
        if src.len() != layout.len || !layout.same_framing(&self.bytes, src) {
            return Fast::Declined;
        }
        let big = self.header.endian == Endian::Big;
        // (section, values saturated), named after the adding.
        let mut saturations = Vec::new();
        for (i, s) in layout.sections.iter().map(wide).enumerate() {
            let (Some(dst), Some(payload)) = (self.bytes.get_mut(s.clone()), src.get(s)) else {
                continue;
            };
            let mut saturated = 0;
            if big {
                add_image_counts::<true>(dst, payload, &mut saturated);
            } else {
                add_image_counts::<false>(dst, payload, &mut saturated);
            }
            if saturated > 0 {
                saturations.push((i, saturated));
            }
        }
        let overflows = if saturations.is_empty() {
            Vec::new()
        } else {
            self.name_overflows(&saturations)
        };
        // A hypervisor writes a zero checksum: the real one wins (as merge_unit).
        if let Some(at) = layout.checksum
            && let (Some(dst), Some(w)) = (self.bytes.get_mut(at..at + 4), src.get(at..at + 4))
            && dst.iter().all(|&b| b == 0)
        {
            dst.copy_from_slice(w);
        }
        Fast::Merged(overflows)
    }

    /// As [`Image::add`], but only an input that adds without saturating
    /// a count: otherwise (another framing, or a count past `MAX_COUNT`)
    /// the image is left as it was and the answer is false. An add is then
    /// exact, and what a caller adds unit by unit while it still reads the
    /// rest of the input is what [`Image::add`] would have done; an input
    /// that saturates takes the general road, which reports it.
    pub fn add_exact(&mut self, src: &[u8]) -> bool {
        let layout = &self.layout;
        if src.len() != layout.len || !layout.same_framing(&self.bytes, src) {
            return false;
        }
        let big = self.header.endian == Endian::Big;
        for (i, s) in layout.sections.iter().map(wide).enumerate() {
            let (Some(dst), Some(payload)) = (self.bytes.get_mut(s.clone()), src.get(s)) else {
                continue;
            };
            let high = if big {
                add_image_wrapping::<true>(dst, payload)
            } else {
                add_image_wrapping::<false>(dst, payload)
            };
            if high > MAX_COUNT {
                // Taken back, this section and the ones before (a wrapping
                // add undone by a wrapping subtract is exact).
                for s in layout.sections.iter().take(i + 1).map(wide) {
                    if let (Some(dst), Some(payload)) = (self.bytes.get_mut(s.clone()), src.get(s))
                    {
                        if big {
                            sub_image_wrapping::<true>(dst, payload);
                        } else {
                            sub_image_wrapping::<false>(dst, payload);
                        }
                    }
                }
                return false;
            }
        }
        // A hypervisor writes a zero checksum: the real one wins (as `add`).
        if let Some(at) = layout.checksum
            && let (Some(dst), Some(w)) = (self.bytes.get_mut(at..at + 4), src.get(at..at + 4))
            && dst.iter().all(|&b| b == 0)
        {
            dst.copy_from_slice(w);
        }
        true
    }

    /// The overflows of `saturations` (counter section in the image's
    /// order, values saturated), each naming the function and the counter
    /// kind of its section, read from the image's records: every section
    /// of an image follows its function's record, which has an id (the
    /// image lines up with its model), and its tag is of a known kind.
    #[cold]
    fn name_overflows(&self, saturations: &[(usize, usize)]) -> Vec<Overflow> {
        let mut names = Vec::with_capacity(self.layout.sections.len());
        if let Ok((header, reader)) = read_header(&self.bytes, MAGIC) {
            let format = header.version.format();
            let mut function = None;
            for raw in Records::new(reader, header.version).map_while(Result::ok) {
                if raw.tag == Tag::FUNCTION {
                    function = function_id(&raw, header.endian, &format).map(|id| id.ident);
                } else if raw.tag.is_counter() {
                    let kind = format.counter_kind(raw.tag).map_or("arcs", |k| k.name);
                    names.push((function, kind));
                }
            }
        }
        saturations
            .iter()
            .map(|&(i, values)| {
                let (function, kind) = names.get(i).copied().unwrap_or((None, "arcs"));
                Overflow {
                    function,
                    kind,
                    values,
                }
            })
            .collect()
    }
}

/// Counts of one section of an image added in place, as [`add_counts`]
/// adds them (the same sums, the same saturation, the same one test for
/// the section), the destination being the image's bytes in its byte
/// order.
fn add_image_counts<const BIG: bool>(dst: &mut [u8], payload: &[u8], saturated: &mut usize) {
    if add_image_wrapping::<BIG>(dst, payload) > MAX_COUNT {
        sub_image_wrapping::<BIG>(dst, payload);
        let (dst, _) = dst.as_chunks_mut::<8>();
        let (words, _) = payload.as_chunks::<8>();
        add_image_checked::<BIG>(dst, words, saturated);
    }
}

/// Counts of a section added into an image's bytes with wrapping adds;
/// the top bits of the summands and sums gathered (past `MAX_COUNT` when
/// the section must be added again by [`checked::add`], see [`sum`]).
#[inline(always)]
fn add_image_wrapping<const BIG: bool>(dst: &mut [u8], payload: &[u8]) -> u64 {
    let (dst, _) = dst.as_chunks_mut::<8>();
    let (words, _) = payload.as_chunks::<8>();
    let mut high = 0;
    for (a, &w) in dst.iter_mut().zip(words) {
        *a = unword::<BIG>(sum(word::<BIG>(*a), word::<BIG>(w), &mut high));
    }
    high
}

/// [`add_image_wrapping`] undone (exactly: wrapping arithmetic).
#[cold]
#[inline(never)]
fn sub_image_wrapping<const BIG: bool>(dst: &mut [u8], payload: &[u8]) {
    let (dst, _) = dst.as_chunks_mut::<8>();
    let (words, _) = payload.as_chunks::<8>();
    for (a, &w) in dst.iter_mut().zip(words) {
        *a = unword::<BIG>(word::<BIG>(*a).wrapping_sub(word::<BIG>(w)));
    }
}

/// A count as the two words of a payload (the inverse of [`word`]).
#[inline(always)]
fn unword<const BIG: bool>(v: u64) -> [u8; 8] {
    if BIG {
        let (lo, hi) = ((v as u32).to_be_bytes(), ((v >> 32) as u32).to_be_bytes());
        let ([a0, a1, a2, a3], [b0, b1, b2, b3]) = (lo, hi);
        [a0, a1, a2, a3, b0, b1, b2, b3]
    } else {
        v.to_le_bytes()
    }
}

/// As [`add_checked`], into an image's bytes.
#[cold]
#[inline(never)]
fn add_image_checked<const BIG: bool>(
    dst: &mut [[u8; 8]],
    words: &[[u8; 8]],
    saturated: &mut usize,
) {
    for (a, &w) in dst.iter_mut().zip(words) {
        *a = unword::<BIG>(checked::add(word::<BIG>(*a), word::<BIG>(w), saturated));
    }
}

/// The 64-bit counters of a payload: two words each, low word first.
fn values(payload: &[u8], endian: Endian) -> impl Iterator<Item = u64> + '_ {
    let big = endian == Endian::Big;
    payload.chunks_exact(8).map(move |c| {
        let b: [u8; 8] = c.try_into().unwrap_or([0; 8]);
        if big {
            word::<true>(b)
        } else {
            word::<false>(b)
        }
    })
}

/// Adds one (checked) section, as `merge_counters` does for Add and Ior.
/// `payload` is empty for a compact record: zeros add nothing, and the
/// destination keeps its form.
fn add_section(
    dst: &mut Values,
    payload: &[u8],
    endian: Endian,
    kind: &CounterKind,
    saturated: &mut usize,
) {
    let average = kind.name == "average";
    let add = kind.merge == MergeRule::Add;
    match dst {
        // The hot loop of a merge (arc counts, most of every input).
        Values::Stored(dv) if add && !average => match endian {
            Endian::Little => add_counts::<false>(dv, payload, saturated),
            Endian::Big => add_counts::<true>(dv, payload, saturated),
        },
        Values::Stored(dv) => {
            for (a, b) in dv.iter_mut().zip(values(payload, endian)) {
                // a + 0 and a | 0 are a, whatever the kind
                if b != 0 {
                    *a = if add {
                        checked::add_value(*a, b, average, saturated)
                    } else {
                        *a | b
                    };
                }
            }
        }
        Values::Zero(_) => {
            if payload.iter().all(|&b| b == 0) {
                return; // likewise (most sections of a run are never executed)
            }
            let v = if add {
                values(payload, endian)
                    .map(|b| checked::add_value(0, b, average, saturated))
                    .collect()
            } else {
                values(payload, endian).collect()
            };
            *dst = Values::Stored(v);
        }
    }
}

/// Counts of one section added in place, as [`checked::add`] adds them.
/// When both words are at most `MAX_COUNT` (2^63 − 1) their sum cannot
/// wrap, and a sum at most `MAX_COUNT` is the answer (`a | b` when one is
/// zero, as `add` has it): that is, when the top bit of `a | b | sum` is
/// clear. So the section is summed with wrapping adds, that bit gathered
/// over all of it, and tested once at the end: a loop with no branch per
/// count, which the compiler turns into vector adds and ors (paddq, por on
/// the baseline x86-64; a test per group of counts, or a sum kept aside
/// until tested, kept it scalar). A section where the bit is set, which
/// real data never has, is taken back (a wrapping add undone by a wrapping
/// subtract is exact) and added by `add`'s own road value by value. This
/// loop is most of a merge's time. `BIG`: the words are big-endian, low
/// word first.
fn add_counts<const BIG: bool>(dst: &mut [u64], payload: &[u8], saturated: &mut usize) {
    let (words, _) = payload.as_chunks::<8>();
    let mut high = 0;
    for (a, &w) in dst.iter_mut().zip(words) {
        *a = sum(*a, word::<BIG>(w), &mut high);
    }
    if high > MAX_COUNT {
        for (a, &w) in dst.iter_mut().zip(words) {
            *a = a.wrapping_sub(word::<BIG>(w));
        }
        add_checked::<BIG>(dst, words, saturated);
    }
}

/// `a + b` wrapping, the top bits of the summands and of the sum gathered
/// into `high`: past `MAX_COUNT` at the end of a section when a summand or
/// a sum was past it, or a sum wrapped (then the caller adds the section
/// again with [`checked::add`], which saturates and counts).
#[inline(always)]
fn sum(a: u64, b: u64, high: &mut u64) -> u64 {
    let s = a.wrapping_add(b);
    *high |= a | b | s;
    s
}

// A count of a payload: two words, low word first (`BIG`: big-endian words).
use crate::bytes::endian::counter as word;

/// Counts added by [`checked::add`] one by one: a section of
/// [`add_counts`] that goes past `MAX_COUNT`. Out of line and cold, so that
/// the summing loop keeps its registers.
#[cold]
#[inline(never)]
fn add_checked<const BIG: bool>(dst: &mut [u64], words: &[[u8; 8]], saturated: &mut usize) {
    for (a, &w) in dst.iter_mut().zip(words) {
        *a = checked::add(*a, word::<BIG>(w), saturated);
    }
}

/// Whether `src` reads cleanly and lines up with `dst` for [`add_in_place`].
fn lines_up(dst: &Gcda, src: &[u8]) -> bool {
    let Ok((header, reader)) = read_header(src, MAGIC) else {
        return false;
    };
    let d = &dst.header;
    if header.endian != d.endian
        || header.version.word() != d.version.word()
        || header.stamp != d.stamp
    {
        return false;
    }
    if !idents_unique(dst) {
        return false; // merge_unit refuses it: let it say so
    }
    let format = header.version.format();
    let mut functions = dst.functions();
    let mut current = None;
    let mut section = 0;
    for raw in Records::new(reader, header.version) {
        let Ok(raw) = raw else {
            return false;
        };
        if raw.tag == Tag::FUNCTION {
            if let Some(f) = current
                && !all_sections_seen(f, section)
            {
                return false;
            }
            let Some(f) = functions.next() else {
                return false;
            };
            let (Some(id), Some(sid)) = (f.id, function_id(&raw, header.endian, &format)) else {
                return false;
            };
            if id != sid {
                return false;
            }
            current = Some(f);
            section = 0;
        } else if raw.tag.is_counter() {
            let Some(f) = current else {
                return false;
            };
            let Some(kind) = format.counter_kind(raw.tag) else {
                return false;
            };
            if !matches!(kind.merge, MergeRule::Add | MergeRule::Ior) {
                return false;
            }
            let bytes = raw.compact_bytes.unwrap_or(raw.payload.len() as u64);
            if !bytes.is_multiple_of(8) {
                return false;
            }
            let Some(c) = f.counters.get(section) else {
                return false;
            };
            if c.kind.index != kind.index || c.values.len() as u64 != bytes / 8 {
                return false;
            }
            section += 1;
        } else {
            return false; // a summary or an unknown record: the general road
        }
    }
    current.is_none_or(|f| all_sections_seen(f, section))
}

/// merge_unit refuses two functions of different counter kinds; here the
/// input's sections must be exactly the destination's.
fn all_sections_seen(f: &Function, seen: usize) -> bool {
    f.counters.len() == seen
}

/// The id of a function record as the decoder reads it; `None` for a
/// placeholder or a record the decoder would refuse.
fn function_id(raw: &RawRecord<'_>, endian: Endian, format: &Format) -> Option<FunctionId> {
    let p = raw.payload;
    if p.is_empty() || !p.len().is_multiple_of(4) || p.len() / 4 < format.family.function_words() {
        return None;
    }
    let word = |i: usize| -> Option<u32> {
        let mut w = [0u8; 4];
        w.copy_from_slice(p.get(i * 4..i * 4 + 4)?);
        Some(endian.u32_from(w))
    };
    Some(FunctionId {
        ident: word(0)?,
        lineno_checksum: word(1)?,
        cfg_checksum: if format.family == Family::Gcc47 {
            Some(word(2)?)
        } else {
            None
        },
    })
}

/// Whether no ident appears twice among `g`'s functions (merge_unit
/// refuses such a unit).
fn idents_unique(g: &Gcda) -> bool {
    let mut idents: Vec<u32> = g
        .functions()
        .filter_map(|f| f.id.map(|id| id.ident))
        .collect();
    idents.sort_unstable();
    idents.windows(2).all(|w| w.first() != w.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::merge::{OnConflict, merge_unit};

    /// The hot loop adds as `checked::add` does at the edges: zeros, sums
    /// up to and past `MAX_COUNT`, words above it (a wrapped libgcov
    /// counter), in both byte orders (big-endian: low word first), at every
    /// place of sections of 1 to 17 counts: in the vector loop's body (2 or
    /// 4 counts a turn, as the compiler unrolls it) and in the values after
    /// it, the rest of the section then taken back and added again; into
    /// the decoded counts and into an image's bytes.
    #[test]
    fn add_counts_is_checked_add() {
        let edges = [
            0,
            1,
            2,
            MAX_COUNT / 2,
            MAX_COUNT - 1,
            MAX_COUNT,
            MAX_COUNT + 1,
            u64::MAX,
        ];
        let encode = |v: &[u64], big: bool| -> Vec<u8> {
            v.iter()
                .flat_map(|&b| {
                    if big {
                        let lo = (b as u32).to_be_bytes();
                        let hi = ((b >> 32) as u32).to_be_bytes();
                        [lo, hi].concat()
                    } else {
                        b.to_le_bytes().to_vec()
                    }
                })
                .collect()
        };
        for &a in &edges {
            for &b in &edges {
                for len in 1..=17 {
                    for at in 0..len {
                        // Small values around the edge pair.
                        let mut dst: Vec<u64> = (0..len as u64).map(|i| i * 3).collect();
                        let mut src: Vec<u64> = (0..len as u64).map(|i| i + 1).collect();
                        dst[at] = a;
                        src[at] = b;
                        let mut want_sat = 0;
                        let want: Vec<u64> = dst
                            .iter()
                            .zip(&src)
                            .map(|(&x, &y)| checked::add(x, y, &mut want_sat))
                            .collect();
                        for big in [false, true] {
                            let payload = encode(&src, big);
                            let (mut got, mut sat) = (dst.clone(), 0);
                            if big {
                                add_counts::<true>(&mut got, &payload, &mut sat);
                            } else {
                                add_counts::<false>(&mut got, &payload, &mut sat);
                            }
                            assert_eq!(
                                (&got, sat),
                                (&want, want_sat),
                                "{a} + {b} at {at} of {len}, big {big}"
                            );
                            // And into an image's bytes.
                            let (mut image, mut sat) = (encode(&dst, big), 0);
                            if big {
                                add_image_counts::<true>(&mut image, &payload, &mut sat);
                            } else {
                                add_image_counts::<false>(&mut image, &payload, &mut sat);
                            }
                            assert_eq!(
                                (image, sat),
                                (encode(&want, big), want_sat),
                                "image: {a} + {b} at {at} of {len}, big {big}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Every pair of runs of one unit among the samples (all eras, both
    /// byte orders, -fprofile-generate included): where the fast road
    /// takes an input, the result and the overflows are merge_unit's, and
    /// a declined input leaves the destination untouched.
    #[test]
    fn an_image_adds_as_the_model_does() {
        let by_unit = sample_runs_by_unit();
        let (mut images, mut added, mut saturated, mut declined) = (0, 0, 0, 0);
        for runs in by_unit.values() {
            for a in runs {
                let Ok(dst) = Gcda::decode(a) else { continue };
                let Some(image) = Image::new(&dst, a) else {
                    continue;
                };
                images += 1;
                assert_eq!(image.decode().unwrap(), dst);
                assert_eq!(image.header(), dst.header);
                for b in runs {
                    // Every count at the largest: the second add saturates.
                    let mut big = b.clone();
                    if let Some(l) = Layout::of_sections(b) {
                        for s in l.sections.iter().map(wide) {
                            for w in big[s].chunks_exact_mut(8) {
                                let v = match dst.header.endian {
                                    Endian::Little => MAX_COUNT.to_le_bytes(),
                                    Endian::Big => {
                                        let (lo, hi) = (MAX_COUNT as u32, (MAX_COUNT >> 32) as u32);
                                        let mut v = [0; 8];
                                        v[..4].copy_from_slice(&lo.to_be_bytes());
                                        v[4..].copy_from_slice(&hi.to_be_bytes());
                                        v
                                    }
                                };
                                w.copy_from_slice(&v);
                            }
                        }
                    }
                    // Another stamp (framing): declined, the image unchanged.
                    let mut other = b.clone();
                    other[8] ^= 0x40;
                    let mut unchanged = image.clone();
                    assert_eq!(unchanged.add(&other), Fast::Declined);
                    assert_eq!(unchanged, image);
                    declined += 1;
                    let (mut image, mut model) = (image.clone(), dst.clone());
                    for input in [b, &big, &big] {
                        let before = image.clone();
                        // The exact add: the same, or nothing when it saturates.
                        let mut exact = image.clone();
                        let took = exact.add_exact(input);
                        match image.add(input) {
                            Fast::Declined => {
                                assert_eq!(image, before, "a declined input changed the image");
                                assert!(!took);
                                assert_eq!(exact, before, "add_exact changed the image");
                                declined += 1;
                                break;
                            }
                            Fast::Merged(over) => {
                                assert_eq!(took, over.is_empty(), "add_exact took it");
                                if took {
                                    assert_eq!(exact, image, "add_exact added otherwise");
                                } else {
                                    assert_eq!(exact, before, "add_exact saturated");
                                }
                                let model_over = add_in_place(&mut model, input);
                                saturated += usize::from(!over.is_empty());
                                assert_eq!(model_over, Fast::Merged(over));
                                assert_eq!(image.decode().unwrap(), model);
                                assert_eq!(image.bytes(), model.encode());
                                assert_eq!(image.header(), model.header);
                                added += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(images >= 10, "only {images} images");
        assert!(added >= 30, "only {added} inputs added to an image");
        assert!(saturated >= 10, "only {saturated} adds saturated");
        assert!(declined >= 10, "only {declined} inputs declined");
    }

    /// Every byte of an image's framing is compared: an input differing
    /// from it in any one (here, each byte of a few sample units flipped)
    /// is declined, the image unchanged.
    #[test]
    fn an_image_declines_any_other_framing() {
        let mut tried = 0;
        for runs in sample_runs_by_unit().values() {
            let Some(a) = runs.first() else { continue };
            let Ok(g) = Gcda::decode(a) else { continue };
            let Some(image) = Image::new(&g, a) else {
                continue;
            };
            let l = &image.layout;
            let holes: Vec<_> = l
                .checksum
                .map(|at| at..at + 4)
                .into_iter()
                .chain(l.sections.iter().map(wide))
                .collect();
            for at in (0..a.len()).filter(|at| !holes.iter().any(|h| h.contains(at))) {
                let mut other = a.clone();
                other[at] ^= 0x10;
                let mut unchanged = image.clone();
                assert_eq!(unchanged.add(&other), Fast::Declined, "byte {at}");
                assert_eq!(unchanged, image);
                tried += 1;
            }
            if tried > 2000 {
                break;
            }
        }
        assert!(tried > 500, "only {tried} bytes tried");
    }

    /// An image's counts (bytes in either order) add as the model's do.
    #[test]
    fn image_counts_add_as_counts_do() {
        let edges = [
            0,
            1,
            2,
            0xffff_ffff,
            1 << 32,
            MAX_COUNT - 1,
            MAX_COUNT,
            MAX_COUNT + 1,
            u64::MAX,
        ];
        for big in [false, true] {
            let bytes = |v: &[u64]| -> Vec<u8> {
                v.iter()
                    .flat_map(|&x| {
                        if big {
                            unword::<true>(x)
                        } else {
                            unword::<false>(x)
                        }
                    })
                    .collect()
            };
            for (i, &a) in edges.iter().enumerate() {
                // Seventeen values: turns of the vector loop and one after them.
                let dst: Vec<u64> = (0..17)
                    .map(|k| edges[(i + k) % edges.len()] ^ (k as u64 & 1))
                    .collect();
                let src: Vec<u64> = (0..17)
                    .map(|k| edges[(k * 5 + i) % edges.len()].min(a.max(1)))
                    .collect();
                let payload = bytes(&src);
                let (mut model, mut image) = (dst.clone(), bytes(&dst));
                let (mut s1, mut s2) = (0, 0);
                if big {
                    add_counts::<true>(&mut model, &payload, &mut s1);
                    add_image_counts::<true>(&mut image, &payload, &mut s2);
                } else {
                    add_counts::<false>(&mut model, &payload, &mut s1);
                    add_image_counts::<false>(&mut image, &payload, &mut s2);
                }
                assert_eq!(image, bytes(&model), "big {big} edge {i}");
                assert_eq!(s1, s2);
                assert_eq!(
                    values(&image, if big { Endian::Big } else { Endian::Little })
                        .collect::<Vec<_>>(),
                    model
                );
            }
        }
    }

    #[test]
    fn the_fast_road_gives_merge_units_result() {
        let by_unit = sample_runs_by_unit();
        let (mut merged, mut declined, mut other_idents) = (0, 0, 0);
        for runs in by_unit.values() {
            for a in runs {
                let Ok(dst) = Gcda::decode(a) else { continue };
                for b in runs {
                    let mut fast = dst.clone();
                    match add_in_place(&mut fast, b) {
                        Fast::Declined => {
                            assert_eq!(fast, dst, "a declined input changed the destination");
                            declined += 1;
                        }
                        Fast::Merged(over) => {
                            let mut slow = dst.clone();
                            let src = Gcda::decode(b).unwrap();
                            let outcome = merge_unit(&mut slow, &src, OnConflict::Error).unwrap();
                            assert_eq!(fast, slow);
                            assert_eq!(over, outcome.overflows);
                            merged += 1;
                            // Again with the layout the first add learnt:
                            // checked by its framing, added the same.
                            let mut layout = None;
                            let mut twice = dst.clone();
                            assert_eq!(
                                add_with_layout(&mut twice, &mut layout, b),
                                Fast::Merged(over.clone())
                            );
                            assert!(layout.as_ref().is_some_and(|l| l.matches(b)));
                            let again = add_with_layout(&mut twice, &mut layout, b);
                            let outcome = merge_unit(&mut slow, &src, OnConflict::Error).unwrap();
                            assert_eq!(twice, slow);
                            assert_eq!(again, Fast::Merged(outcome.overflows));
                            // Another ident in the framing: not taken for
                            // the layout's, declined, nothing changed.
                            let (header, reader) = read_header(b, MAGIC).unwrap();
                            let at = Records::new(reader, header.version)
                                .map(Result::unwrap)
                                .find(|r| r.tag == Tag::FUNCTION && !r.payload.is_empty())
                                .map(|r| r.payload_offset());
                            if let Some(at) = at {
                                let mut other = b.clone();
                                other[at] ^= 0x40;
                                assert!(!layout.as_ref().unwrap().matches(&other));
                                let before = twice.clone();
                                assert_eq!(
                                    add_with_layout(&mut twice, &mut layout, &other),
                                    Fast::Declined
                                );
                                assert_eq!(twice, before);
                                other_idents += 1;
                            }
                        }
                    }
                }
            }
        }
        // Both roads must have been taken for the comparison to mean anything
        // (libgcov's files carry a summary, which takes the general road: few
        // sample pairs take the fast one; tests/merge.rs covers Xen dumps).
        assert!(merged >= 10, "only {merged} inputs took the fast road");
        assert!(declined > 10, "only {declined} inputs were declined");
        assert!(
            other_idents >= 10,
            "only {other_idents} changed idents tried"
        );
    }

    /// Every gcda of samples/, grouped by unit:
    /// samples/ERA/PROGRAM/RUN/unit.gcda, runs of one unit share ERA/PROGRAM/unit.
    fn sample_runs_by_unit() -> std::collections::BTreeMap<String, Vec<Vec<u8>>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut by_unit: std::collections::BTreeMap<String, Vec<Vec<u8>>> = Default::default();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "gcda") {
                    let s = p.to_string_lossy().into_owned();
                    let parts: Vec<&str> = s.rsplitn(3, '/').collect();
                    let key = format!("{}/{}", parts[2], parts[0]);
                    by_unit
                        .entry(key)
                        .or_default()
                        .push(std::fs::read(&p).unwrap());
                }
            }
        }
        by_unit
    }
}

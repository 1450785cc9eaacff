//! The gcno (notes) file: the flow graph of every function, its blocks,
//! arcs and source lines, written by the compiler beside the object.
//!
//! The header grew over the releases: GCC 8 added the "has unexecuted
//! blocks" flag, GCC 9 the compilation directory before it, GCC 12 a
//! checksum word after the stamp. Strings are a length in words and
//! NUL-padded words before GCC 12, a length in bytes and the bytes (NUL
//! included, unpadded) from GCC 12. See `formats/gcno.md`.
//!
//! The file stays whole (about 520 lines): the documented model and one
//! short decoder per record (function, blocks, arcs, lines, conditions),
//! each next to the state it fills in.

use crate::bytes::reader::Reader;
use crate::error::{Error, NotesError, Result};
use crate::gcov::gcda::FunctionId;
use crate::gcov::record::{Header, RawRecord, Records, read_header};
use crate::gcov::tag::Tag;
use crate::gcov::version::{Family, Version};

/// The magic word, spelled in big-endian order (a little-endian notes file starts with the bytes `oncg`).
pub const MAGIC: &[u8; 4] = b"gcno";

/// Arc flag `GCOV_ARC_ON_TREE`: the arc is on the spanning tree and has no counter; its count is solved from the others.
pub const ARC_ON_TREE: u32 = 1;
/// Arc flag `GCOV_ARC_FAKE`: an edge added for a call that may not return (to the exit block); gcov marks the block a call site, and its other non-fall-through arcs exception edges.
pub const ARC_FAKE: u32 = 2;
/// Arc flag `GCOV_ARC_FALLTHROUGH`: the edge taken when a conditional jump is not.
pub const ARC_FALLTHROUGH: u32 = 4;

/// A decoded notes file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Gcno {
    /// The magic, version word and stamp that open the file.
    pub header: Header,
    /// The compilation directory (GCC 9+).
    pub cwd: Option<String>,
    /// Whether lines may be marked as having unexecuted blocks (GCC 8+).
    pub has_unexecuted_blocks: Option<bool>,
    /// The functions in notes order (the order of their records in the gcda file too).
    pub functions: Vec<GcnoFunction>,
}

/// One function's flow graph and source position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GcnoFunction {
    /// Ident and checksums, as the gcda's function record repeats them.
    pub id: FunctionId,
    /// The linkage (mangled) name.
    pub name: String,
    /// Compiler-made, not in any source (GCC 8+).
    pub artificial: bool,
    /// The source file that holds the function's start.
    pub source: String,
    /// The 1-based line of the function's start.
    pub start_line: u32,
    /// The column of the function's start (GCC 8+; 0 before).
    pub start_column: u32,
    /// The last line of the function (GCC 8+; 0 in older notes).
    pub end_line: u32,
    /// The column of the function's end (GCC 10+; 0 before).
    pub end_column: u32,
    /// The basic blocks, indexed by block number: 0 is the entry, the exit is block 1 from
    /// GCC 4.8 on and the last block before.
    pub blocks: Vec<Block>,
    /// The decisions of condition coverage (GCC 14+), in record order: the
    /// `conditions` counters hold two values per decision in this order.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub conditions: Vec<Condition>,
}

/// One decision (a boolean expression with one or more terms) of condition
/// coverage. The `conditions` counters give two bit sets per decision:
/// bit `i` of the first is set when term `i` was shown to independently
/// make the outcome true, of the second when it made it false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Condition {
    /// The block that takes the decision's outcome (its lines are the
    /// decision's lines).
    pub block: u32,
    /// Number of terms (conditions) of the decision.
    pub terms: u32,
}

/// A basic block of the function's flow graph, as the notes describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Block {
    /// Block flags (GCC 3.4-7 write one word per block; later releases none).
    pub flags: u32,
    /// Outgoing arcs in file order.
    pub arcs: Vec<Arc>,
    /// Source lines, grouped by file, in file order.
    pub locations: Vec<Location>,
}

/// An edge of the flow graph, from the block that lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Arc {
    /// The destination block number.
    pub dest: u32,
    /// `GCOV_ARC_*` flags: [`ARC_ON_TREE`], [`ARC_FAKE`], [`ARC_FALLTHROUGH`].
    pub flags: u32,
}

impl Arc {
    /// Whether the arc is on the spanning tree, so it has no counter and its count is solved from the others ([`ARC_ON_TREE`]).
    pub fn on_tree(&self) -> bool {
        self.flags & ARC_ON_TREE != 0
    }
    /// Whether the arc is a fake edge ([`ARC_FAKE`]).
    pub fn fake(&self) -> bool {
        self.flags & ARC_FAKE != 0
    }
    /// Whether the arc is the fall-through edge ([`ARC_FALLTHROUGH`]).
    pub fn fall_through(&self) -> bool {
        self.flags & ARC_FALLTHROUGH != 0
    }
}

/// Source lines of a block in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Location {
    /// The file name as recorded (relative to the compilation directory or
    /// absolute). Shared: the locations of one file, block after block,
    /// hold the same name, read and stored once.
    pub file: std::sync::Arc<str>,
    /// Line numbers, 1-based, in the order recorded.
    pub lines: Vec<u32>,
}

/// Reads strings in the encoding of the file's release.
struct Strings<'a> {
    bytes_length: bool,
    /// The last file name of a LINES record, as stored and as read: every
    /// block's record names its file again, nearly always the same one, so
    /// a repeat is a comparison and a shared reference, not a scan, a check
    /// and an allocation.
    last_file: Option<(&'a [u8], std::sync::Arc<str>)>,
}

impl<'a> Strings<'a> {
    fn read(&self, r: &mut Reader<'a>, what: &'static str) -> Result<Option<String>> {
        Ok(self.raw(r, what)?.map(|(_, s)| s))
    }

    /// A string as stored (the bytes the length covers) and as read.
    fn raw(&self, r: &mut Reader<'a>, what: &'static str) -> Result<Option<(&'a [u8], String)>> {
        let at = r.offset();
        let len = u64::from(r.u32(what)?);
        if len == 0 {
            return Ok(None);
        }
        let bytes = if self.bytes_length { len } else { len * 4 };
        let raw = r.bytes(bytes, what)?;
        let end = memchr::memchr(0, raw).unwrap_or(raw.len());
        let text = raw.get(..end).unwrap_or_default();
        String::from_utf8(text.to_vec())
            .map(|s| Some((raw, s)))
            .map_err(|_| Error::new(at, NotesError::NotUtf8 { what }.into()))
    }

    /// A file name of a LINES record: [`Strings::read`], with the last one
    /// remembered.
    fn file(
        &mut self,
        r: &mut Reader<'a>,
        what: &'static str,
    ) -> Result<Option<std::sync::Arc<str>>> {
        if let Some((last, name)) = &self.last_file {
            let mut ahead = r.clone();
            let len = u64::from(ahead.u32(what)?);
            let bytes = if self.bytes_length { len } else { len * 4 };
            if len != 0
                && bytes == last.len() as u64
                && ahead.bytes(bytes, what).is_ok_and(|raw| raw == *last)
            {
                *r = ahead;
                return Ok(Some(name.clone()));
            }
        }
        let Some((raw, name)) = self.raw(r, what)? else {
            return Ok(None);
        };
        let name: std::sync::Arc<str> = name.into();
        self.last_file = Some((raw, name.clone()));
        Ok(Some(name))
    }
}

impl Gcno {
    /// Decodes a whole notes file.
    pub fn decode(data: &[u8]) -> Result<Gcno> {
        let (header, mut r) = read_header(data, MAGIC)?;
        let v = header.version;
        let mut strings = Strings {
            bytes_length: v.at_least(12, 0),
            last_file: None,
        };
        let cwd = if v.at_least(9, 0) {
            Some(
                strings
                    .read(&mut r, "the compilation directory")?
                    .unwrap_or_default(),
            )
        } else {
            None
        };
        let has_unexecuted_blocks = if v.at_least(8, 0) {
            Some(r.u32("the unexecuted-blocks flag")? != 0)
        } else {
            None
        };
        let mut functions: Vec<GcnoFunction> = Vec::new();
        // Blocks claimed so far by GCC 8+ BLOCKS records (a count, not a list).
        let mut claimed_blocks: usize = 0;
        let mut records = Records::new(r, v);
        for raw in &mut records {
            let raw = raw?;
            let mut p = raw.reader(header.endian);
            match raw.tag {
                Tag::FUNCTION => functions.push(function(&mut p, v, &strings)?),
                Tag::CONDITIONS if v.at_least(14, 0) => {
                    let f = functions.last_mut().ok_or_else(|| {
                        invalid(&raw, NotesError::BeforeFunction { tag: raw.tag })
                    })?;
                    conditions(f, &raw, &mut p)?
                }
                Tag::BLOCKS | Tag::ARCS | Tag::LINES => {
                    let functions_seen = functions.len();
                    let f = functions.last_mut().ok_or_else(|| {
                        invalid(&raw, NotesError::BeforeFunction { tag: raw.tag })
                    })?;
                    match raw.tag {
                        Tag::BLOCKS => {
                            let budget = Budget {
                                file_len: data.len(),
                                functions: functions_seen,
                                claimed: &mut claimed_blocks,
                            };
                            blocks(f, &raw, &mut p, v, budget)?
                        }
                        Tag::ARCS => arcs(f, &raw, &mut p)?,
                        _ => lines(f, &raw, &mut p, &mut strings)?,
                    }
                }
                _ => {} // other notes (none defined today) carry nothing we use
            }
        }
        Ok(Gcno {
            header,
            cwd,
            has_unexecuted_blocks,
            functions,
        })
    }
}

fn function<'a>(p: &mut Reader<'a>, v: Version, s: &Strings<'a>) -> Result<GcnoFunction> {
    let ident = p.u32("a function ident")?;
    let lineno_checksum = p.u32("a function checksum")?;
    let cfg_checksum = match v.format().family {
        Family::Gcc47 => Some(p.u32("a function cfg checksum")?),
        Family::Gcc34 => None,
    };
    let name = s.read(p, "a function name")?.unwrap_or_default();
    let artificial = if v.at_least(8, 0) {
        p.u32("the artificial flag")? != 0
    } else {
        false
    };
    let source = s.read(p, "a source file name")?.unwrap_or_default();
    let start_line = p.u32("a start line")?;
    let (mut start_column, mut end_line, mut end_column) = (0, 0, 0);
    if v.at_least(8, 0) {
        start_column = p.u32("a start column")?;
        end_line = p.u32("an end line")?;
    }
    if v.at_least(9, 0) {
        end_column = p.u32("an end column")?;
    }
    Ok(GcnoFunction {
        id: FunctionId {
            ident,
            lineno_checksum,
            cfg_checksum,
        },
        name,
        artificial,
        source,
        start_line,
        start_column,
        end_line,
        end_column,
        blocks: Vec::new(),
        conditions: Vec::new(),
    })
}

fn conditions(f: &mut GcnoFunction, raw: &RawRecord<'_>, p: &mut Reader<'_>) -> Result<()> {
    if !f.conditions.is_empty() {
        return Err(invalid(
            raw,
            NotesError::Repeated {
                record: "CONDITIONS",
                function: f.name.clone(),
            },
        ));
    }
    let n = f.blocks.len();
    while !p.is_empty() {
        let block = p.u32("a condition's block")?;
        let terms = p.u32("a condition's number of terms")?;
        if block as usize >= n {
            return Err(invalid(
                raw,
                NotesError::ConditionBlock {
                    block,
                    blocks: n,
                    function: f.name.clone(),
                },
            ));
        }
        // The counters are 64-bit sets with one bit per term: GCC refuses
        // (and warns about) a decision of more terms, and a decision has
        // at least one.
        if terms == 0 || terms > 64 {
            return Err(invalid(
                raw,
                NotesError::ConditionTerms {
                    block,
                    terms,
                    function: f.name.clone(),
                },
            ));
        }
        f.conditions.push(Condition { block, terms });
    }
    Ok(())
}

fn invalid(raw: &RawRecord<'_>, e: NotesError) -> Error {
    Error::new(raw.offset, e.into())
}

/// What the whole file can hold of GCC 8+ block counts. GCC writes an ARCS
/// record (at least 12 bytes) for every block of a function but its exit
/// block, so the blocks of all functions together number at most
/// `file_len / 12` plus one per function. Checking each count alone is not
/// enough: a file repeating one small function with the largest count each
/// time would make the decoder allocate quadratically in the file size.
struct Budget<'a> {
    file_len: usize,
    /// Function records so far, the current one included.
    functions: usize,
    /// Blocks already claimed by earlier BLOCKS records.
    claimed: &'a mut usize,
}

fn blocks(
    f: &mut GcnoFunction,
    raw: &RawRecord<'_>,
    p: &mut Reader<'_>,
    v: Version,
    budget: Budget<'_>,
) -> Result<()> {
    let file_len = budget.file_len;
    if !f.blocks.is_empty() {
        return Err(invalid(
            raw,
            NotesError::Repeated {
                record: "BLOCKS",
                function: f.name.clone(),
            },
        ));
    }
    if v.at_least(8, 0) {
        let n = p.u32("a block count")? as usize;
        // Every block but entry and exit has an ARCS record (8+ bytes) later
        // in the file: a count the file cannot hold is a lie, refused before
        // anything is allocated for it.
        if n > file_len / 8 + 2 {
            return Err(invalid(
                raw,
                NotesError::TooManyBlocks {
                    blocks: n,
                    function: f.name.clone(),
                    file_len,
                },
            ));
        }
        // Generous by a factor of 1.5 over GCC's own layout (8-byte ARCS
        // records, two spare blocks per function), still linear in the file.
        let limit = (file_len / 8).saturating_add(budget.functions.saturating_mul(2));
        let total = budget.claimed.saturating_add(n);
        if total > limit {
            return Err(invalid(
                raw,
                NotesError::BlockBudget {
                    blocks: n,
                    function: f.name.clone(),
                    total,
                    file_len,
                    limit,
                },
            ));
        }
        *budget.claimed = total;
        f.blocks = vec![Block::default(); n];
    } else {
        while !p.is_empty() {
            let flags = p.u32("block flags")?;
            f.blocks.push(Block {
                flags,
                ..Block::default()
            });
        }
    }
    Ok(())
}

fn arcs(f: &mut GcnoFunction, raw: &RawRecord<'_>, p: &mut Reader<'_>) -> Result<()> {
    let n = f.blocks.len();
    let src = p.u32("an arc source block")? as usize;
    let mut list = Vec::with_capacity(p.remaining() / 8);
    while !p.is_empty() {
        let dest = p.u32("an arc destination")?;
        let flags = p.u32("arc flags")?;
        if dest as usize >= n {
            return Err(invalid(
                raw,
                NotesError::ArcDestination {
                    block: dest,
                    blocks: n,
                    function: f.name.clone(),
                },
            ));
        }
        list.push(Arc { dest, flags });
    }
    let block = f.blocks.get_mut(src).ok_or_else(|| {
        invalid(
            raw,
            NotesError::ArcSource {
                block: src,
                blocks: n,
                function: f.name.clone(),
            },
        )
    })?;
    if !block.arcs.is_empty() {
        return Err(invalid(
            raw,
            NotesError::RepeatedArcs {
                block: src,
                function: f.name.clone(),
            },
        ));
    }
    block.arcs = list;
    Ok(())
}

fn lines<'a>(
    f: &mut GcnoFunction,
    raw: &RawRecord<'a>,
    p: &mut Reader<'a>,
    s: &mut Strings<'a>,
) -> Result<()> {
    let n = f.blocks.len();
    let at = p.u32("a block number")? as usize;
    // Borrowed, not cloned: a long name copied for every LINES record would
    // cost time quadratic in the file size.
    let GcnoFunction { name, blocks, .. } = f;
    let block = blocks.get_mut(at).ok_or_else(|| {
        invalid(
            raw,
            NotesError::LinesBlock {
                block: at,
                blocks: n,
                function: name.clone(),
            },
        )
    })?;
    loop {
        let line = p.u32("a line number")?;
        if line != 0 {
            match block.locations.last_mut() {
                Some(loc) => loc.lines.push(line),
                None => {
                    return Err(invalid(
                        raw,
                        NotesError::LineBeforeFile {
                            function: name.clone(),
                        },
                    ));
                }
            }
            continue;
        }
        match s.file(p, "a file name")? {
            Some(file) => block.locations.push(Location {
                file,
                lines: Vec::new(),
            }),
            None => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! lcov 2 tracefiles (`xencov-rs lcov --dialect lcov2`): the records lcov
//! 2.5 writes with `lcov --capture --rc branch_coverage=1 --mcdc-coverage`
//! (geninfo reading `gcov --json-format -b --conditions`), record by record:
//! `FNL`/`FNA` functions keyed by start line, `BRDA` ids made of gcov's
//! block ids, `MCDC` records with `MCF`/`MCH`. The record syntax and the
//! mapping from gcov's JSON are in formats/gcov-counts.md §12.

use super::lcov::{add, add_condition_outcomes, clamp};
use crate::analysis::coverage::{FunctionCoverage, LineCoverage, UnitCoverage};
use crate::report::lcov::{Count, Sense, push_decimal, resolve};
use crate::report::sorted::{Run, SortedMap};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Coverage of every source file, combined over units as lcov 2.5
/// combines them while capturing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracefile {
    /// Source file name -> its records.
    pub files: BTreeMap<String, FileRecord>,
    /// Some sum passed `u128::MAX` and was kept at it.
    pub saturated: bool,
}

/// The records of one source file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRecord {
    /// Start line -> the function(s) starting there: lcov 2 keys
    /// functions by start line, the names there are its aliases.
    pub functions: BTreeMap<u32, Function>,
    /// Line -> execution count.
    pub lines: SortedMap<u32, Count>,
    /// Line -> its branch blocks, in the order lcov 2 created them.
    pub branches: BTreeMap<u32, Vec<BranchBlock>>,
    /// Condition outcomes, keyed as [`crate::report::lcov::FileRecord::conditions`].
    pub conditions: BTreeMap<(u32, u32, u32, Sense), Count>,
}

/// A function record (`FNL`) and its aliases (`FNA`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Function {
    /// The end line, when the notes record one (GCC 8+).
    pub end_line: Option<u32>,
    /// Name -> execution count.
    pub aliases: BTreeMap<String, Count>,
}

/// The branches of one line entry of gcov's JSON: lcov 2's `BranchBlock`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchBlock {
    /// The branches, in gcov's order.
    pub branches: Vec<Branch>,
}

/// One branch (`BRDA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Branch {
    /// Its kind, written as a prefix of the block number.
    pub kind: BranchKind,
    /// The arc's (source, destination) blocks, when gcov writes them
    /// (GCC 14+): lcov 2 then writes `SRC -> DST` as the branch id.
    pub arc: Option<(u32, u32)>,
    /// Taken count, `None` when never executed (`-`).
    pub taken: Option<Count>,
}

/// lcov 2's branch types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BranchKind {
    /// An ordinary branch: no prefix (`b` in lcov's block signature).
    Plain,
    /// An exception branch: `e`.
    Exception,
    /// The fall-through arc: `f`.
    Fallthrough,
}

impl BranchKind {
    /// The letter of lcov's block signature.
    fn signature(self) -> char {
        match self {
            BranchKind::Plain => 'b',
            BranchKind::Exception => 'e',
            BranchKind::Fallthrough => 'f',
        }
    }

    /// The prefix of the block number in a `BRDA` record.
    fn prefix(self) -> &'static str {
        match self {
            BranchKind::Plain => "",
            BranchKind::Exception => "e",
            BranchKind::Fallthrough => "f",
        }
    }
}

impl BranchBlock {
    /// lcov's block signature: one letter per branch.
    fn signature(&self) -> String {
        self.branches.iter().map(|b| b.kind.signature()).collect()
    }

    /// Adds `other`'s counts branch by branch (lcov's `BranchBlock::merge`;
    /// the callers only merge blocks of one signature).
    fn merge(&mut self, other: &BranchBlock, saturated: &mut bool) {
        for (a, b) in self.branches.iter_mut().zip(&other.branches) {
            a.taken = match (a.taken, b.taken) {
                (t, None) => t,
                (None, t) => t,
                (Some(x), Some(y)) => Some(add(x, y, saturated)),
            };
        }
    }
}

impl FileRecord {
    /// Lines with a non-zero count.
    pub fn lines_hit(&self) -> usize {
        self.lines.values().filter(|&&c| c > 0).count()
    }

    /// Functions with an alias of non-zero count.
    pub fn functions_hit(&self) -> usize {
        self.functions
            .values()
            .filter(|f| f.aliases.values().any(|&c| c > 0))
            .count()
    }

    /// Branches, and branches taken.
    pub fn branch_totals(&self) -> (usize, usize) {
        let all = self.branches.values().flatten().flat_map(|b| &b.branches);
        all.fold((0, 0), |(n, h), b| {
            (n + 1, h + usize::from(b.taken.is_some_and(|t| t > 0)))
        })
    }
}

/// lcov's sort of its block list: shortest signature first, then by
/// signature, then in order of creation.
fn sorted(blocks: &[BranchBlock]) -> Vec<&BranchBlock> {
    // One block (nearly every line): nothing to sort, no signatures to make.
    if blocks.len() < 2 {
        return blocks.iter().collect();
    }
    let mut v: Vec<(String, usize, &BranchBlock)> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| (b.signature(), i, b))
        .collect();
    v.sort_by(|a, b| (a.0.len(), &a.0, a.1).cmp(&(b.0.len(), &b.0, b.1)));
    v.into_iter().map(|(_, _, b)| b).collect()
}

/// Merges the blocks of one line from another unit into `mine` as lcov's
/// `BranchLocation::merge` does: blocks of one signature pair up in order
/// and add their counts, whatever their branch ids; a block with no
/// partner is appended.
fn union(mine: &mut Vec<BranchBlock>, yours: Vec<BranchBlock>, saturated: &mut bool) {
    // Into nothing (a line's first unit, the usual case) every block is
    // appended: the j-th block of a signature finds only the j - 1 before
    // it. Taken whole, without a signature made per block and comparison.
    if mine.is_empty() {
        *mine = yours;
        return;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for b in yours {
        let sig = b.signature();
        let k = seen.entry(sig.clone()).or_insert(0);
        let partner = mine.iter_mut().filter(|m| m.signature() == sig).nth(*k);
        *k += 1;
        match partner {
            Some(m) => m.merge(&b, saturated),
            None => mine.push(b),
        }
    }
}

impl Tracefile {
    /// Adds a unit as geninfo adds one gcov JSON document. `block_ids`: the
    /// gcov of these counters writes branch source and destination blocks
    /// (GCC 14+), which lcov 2 takes as branch ids. Negative line and
    /// function counts are 0, as lcov reads them.
    pub fn add_unit(&mut self, unit: &UnitCoverage, block_ids: bool) {
        for file in &unit.files {
            let name = resolve(unit.cwd.as_deref(), &file.file);
            let mut fold = self.add_file(name, &file.functions, block_ids);
            for line in &file.lines {
                fold.line(line);
            }
        }
    }

    /// [`Tracefile::add_unit`] for one source file of a unit (`name`
    /// resolved, see [`resolve`]) whose lines are given one at a time to
    /// the fold returned, in the unit's order: a unit is folded without
    /// its whole line list held. The fold is complete when dropped.
    pub fn add_file(
        &mut self,
        name: String,
        functions: &[FunctionCoverage],
        block_ids: bool,
    ) -> FileFold<'_> {
        let saturated = &mut self.saturated;
        let rec = self.files.entry(name).or_default();
        for f in functions {
            let e = rec.functions.entry(f.start_line).or_insert(Function {
                end_line: (f.end_line > 0).then_some(f.end_line),
                aliases: BTreeMap::new(),
            });
            let a = e.aliases.entry(f.name.clone()).or_insert(0);
            *a = add(*a, clamp(f.execution_count), saturated);
        }
        FileFold {
            rec,
            saturated,
            block_ids,
            lines: Run::new(),
            blocks: BTreeMap::new(),
        }
    }
}

/// The lines of one source file of a unit on their way into a tracefile
/// (see [`Tracefile::add_file`]).
///
/// A unit's lines are gathered as they come and added to the record when
/// the fold is dropped (see [`SortedMap::add_run`]).
pub struct FileFold<'t> {
    rec: &'t mut FileRecord,
    saturated: &'t mut bool,
    block_ids: bool,
    lines: Run<u32, Count>,
    /// This unit's blocks per line: geninfo merges a block into an
    /// earlier one of the same line (and document) when its kinds and
    /// branch ids are the same, else keeps it apart.
    blocks: BTreeMap<u32, Vec<BranchBlock>>,
}

impl FileFold<'_> {
    /// The file's next line.
    pub fn line(&mut self, line: &LineCoverage) {
        let saturated = &mut *self.saturated;
        self.lines.push(line.line_number, clamp(line.count));
        let never = line.unexecuted_block && line.count == 0;
        if !line.branches.is_empty() {
            let block_ids = self.block_ids;
            let block = BranchBlock {
                branches: line
                    .branches
                    .iter()
                    .map(|b| Branch {
                        kind: if b.throw {
                            BranchKind::Exception
                        } else if b.fallthrough {
                            BranchKind::Fallthrough
                        } else {
                            BranchKind::Plain
                        },
                        arc: block_ids.then_some((b.source_block_id, b.destination_block_id)),
                        taken: if never {
                            None
                        } else {
                            Count::try_from(b.count).ok()
                        },
                    })
                    .collect(),
            };
            let here = self.blocks.entry(line.line_number).or_default();
            let same = |m: &&mut BranchBlock| {
                m.branches.len() == block.branches.len()
                    && m.branches
                        .iter()
                        .zip(&block.branches)
                        .all(|(x, y)| x.kind == y.kind && x.arc == y.arc)
            };
            match here.iter_mut().find(same) {
                Some(m) => m.merge(&block, saturated),
                None => here.push(block),
            }
        }
        add_condition_outcomes(&mut self.rec.conditions, line, saturated);
    }
}

impl Drop for FileFold<'_> {
    fn drop(&mut self) {
        let saturated = &mut *self.saturated;
        let lines = std::mem::take(&mut self.lines);
        self.rec
            .lines
            .add_run(lines, |a, b| *a = add(*a, b, saturated));
        let blocks = std::mem::take(&mut self.blocks);
        // The union with nothing is the unit's blocks (see `union`).
        if self.rec.branches.is_empty() {
            self.rec.branches = blocks;
            return;
        }
        for (line, b) in blocks {
            union(self.rec.branches.entry(line).or_default(), b, saturated);
        }
    }
}

impl Tracefile {
    /// The tracefile text as lcov 2.5 writes it: per source file TN, SF,
    /// FNL/FNA/FNF/FNH, BRDA/BRF/BRH, MCDC/MCF/MCH, DA/LF/LH, end_of_record.
    /// Written to `w` (give it a buffered one): the tracefile is never held
    /// whole in memory.
    pub fn write_to<W: Write + ?Sized>(&self, w: &mut W, test_name: &str) -> io::Result<()> {
        // A DA or BRDA record is formatted here, then written in one piece
        // (most of the tracefile: `writeln!` was most of its cost).
        let mut buf: Vec<u8> = Vec::with_capacity(64);
        for (name, rec) in &self.files {
            writeln!(w, "TN:{test_name}")?;
            writeln!(w, "SF:{name}")?;
            for (i, (line, f)) in rec.functions.iter().enumerate() {
                match f.end_line {
                    Some(end) => {
                        writeln!(w, "FNL:{i},{line},{end}")?;
                    }
                    None => {
                        writeln!(w, "FNL:{i},{line}")?;
                    }
                }
                for (alias, hit) in &f.aliases {
                    writeln!(w, "FNA:{i},{hit},{alias}")?;
                }
            }
            writeln!(w, "FNF:{}", rec.functions.len())?;
            writeln!(w, "FNH:{}", rec.functions_hit())?;
            for (line, blocks) in &rec.branches {
                // A line's single block (nearly every line) without the
                // vector `sorted` allocates.
                let (one, many);
                let in_order: &[&BranchBlock] = match blocks.as_slice() {
                    [b] => {
                        one = [b];
                        &one
                    }
                    _ => {
                        many = sorted(blocks);
                        &many
                    }
                };
                for (id, block) in in_order.iter().enumerate() {
                    for (j, b) in block.branches.iter().enumerate() {
                        buf.clear();
                        buf.extend_from_slice(b"BRDA:");
                        push_decimal(&mut buf, u128::from(*line));
                        buf.push(b',');
                        buf.extend_from_slice(b.kind.prefix().as_bytes());
                        push_decimal(&mut buf, id as u128);
                        buf.push(b',');
                        match b.arc {
                            Some((from, to)) => {
                                push_decimal(&mut buf, u128::from(from));
                                buf.extend_from_slice(b" -> ");
                                push_decimal(&mut buf, u128::from(to));
                            }
                            None => push_decimal(&mut buf, j as u128),
                        }
                        buf.push(b',');
                        match b.taken {
                            Some(t) => push_decimal(&mut buf, t),
                            None => buf.push(b'-'),
                        }
                        buf.push(b'\n');
                        w.write_all(&buf)?;
                    }
                }
            }
            let (brf, brh) = rec.branch_totals();
            if brf > 0 {
                writeln!(w, "BRF:{brf}")?;
                writeln!(w, "BRH:{brh}")?;
            }
            write_mcdc(w, rec)?;
            for (line, count) in &rec.lines {
                buf.clear();
                buf.extend_from_slice(b"DA:");
                push_decimal(&mut buf, u128::from(*line));
                buf.push(b',');
                push_decimal(&mut buf, *count);
                buf.push(b'\n');
                w.write_all(&buf)?;
            }
            writeln!(w, "LF:{}", rec.lines.len())?;
            writeln!(w, "LH:{}", rec.lines_hit())?;
            w.write_all("end_of_record\n".as_bytes())?;
        }
        Ok(())
    }
}

/// The MCDC records of a file, then MCF and MCH when there are any. lcov
/// 2.5 sorts a line's groups by size as text (`10` before `2`) and writes
/// each term's index as its expression (geninfo has no better text from
/// gcov's JSON); never the `U` (excluded) flag: nothing is excluded here.
fn write_mcdc<W: Write + ?Sized>(w: &mut W, rec: &FileRecord) -> io::Result<()> {
    // Line -> group size as text -> (term, sense, taken), in key order.
    type Groups = BTreeMap<String, Vec<(u32, Sense, Count)>>;
    let mut by_line: BTreeMap<u32, Groups> = BTreeMap::new();
    for (&(line, terms, term, sense), &count) in &rec.conditions {
        by_line
            .entry(line)
            .or_default()
            .entry(terms.to_string())
            .or_default()
            .push((term, sense, count));
    }
    let (mut found, mut hit) = (0usize, 0usize);
    for (line, groups) in &by_line {
        for (size, outcomes) in groups {
            for (term, sense, count) in outcomes {
                let t = match sense {
                    Sense::True => 't',
                    Sense::False => 'f',
                };
                writeln!(w, "MCDC:{line},{size},{t},{count},{term},{term}")?;
                found += 1;
                hit += usize::from(*count > 0);
            }
        }
    }
    if found > 0 {
        writeln!(w, "MCF:{found}")?;
        writeln!(w, "MCH:{hit}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kinds: &[BranchKind], taken: &[Option<Count>]) -> BranchBlock {
        BranchBlock {
            branches: kinds
                .iter()
                .zip(taken)
                .map(|(&kind, &taken)| Branch {
                    kind,
                    arc: None,
                    taken,
                })
                .collect(),
        }
    }

    /// lcov's block order: shortest signature, then the signature, then
    /// creation; the union pairs blocks of one signature in order.
    #[test]
    fn blocks_into_nothing_are_all_kept_in_order() {
        use BranchKind::*;
        let yours = vec![
            block(&[Fallthrough, Plain], &[Some(3), None]),
            block(
                &[Fallthrough, Plain, Fallthrough],
                &[Some(1), Some(0), None],
            ),
            block(&[Fallthrough, Plain], &[Some(4), Some(5)]),
        ];
        let mut sat = false;
        let mut mine = Vec::new();
        union(&mut mine, yours.clone(), &mut sat);
        assert_eq!(mine, yours, "blocks of one signature stay apart");
        // Into something, the same blocks pair up by signature, in order.
        union(&mut mine, yours, &mut sat);
        assert_eq!(mine.len(), 3);
        assert_eq!(mine[0].branches[0].taken, Some(6));
        assert_eq!(mine[2].branches[1].taken, Some(10));
    }

    /// A unit's lines in order take the one-go road, lines out of order or
    /// repeated the one-by-one road: both add up alike.
    #[test]
    fn lines_in_order_or_not_add_up_alike() {
        use crate::analysis::coverage::{FileCoverage, LineCoverage};
        let line = |n: u32, count: i128| crate::report::lcov::tests::line(n, count, None);
        let unit = |lines: Vec<LineCoverage>| UnitCoverage {
            cwd: None,
            files: vec![FileCoverage {
                file: "/s/a.c".into(),
                functions: Vec::new(),
                lines,
            }],
            warnings: Vec::new(),
        };
        let mut ordered = Tracefile::default();
        ordered.add_unit(&unit(vec![line(1, 2), line(3, 5)]), false);
        ordered.add_unit(&unit(vec![line(1, 1), line(3, 0)]), false);
        let mut unordered = Tracefile::default();
        unordered.add_unit(&unit(vec![line(3, 5), line(1, 2), line(1, 1)]), false);
        unordered.add_unit(&unit(vec![line(3, 0)]), false);
        let rec = &ordered.files["/s/a.c"];
        assert_eq!(rec.lines, SortedMap::from([(1, 3), (3, 5)]));
        assert_eq!(rec.branches[&1].len(), 1);
        assert_eq!(rec.branches[&1][0].branches[0].taken, Some(3));
        assert_eq!(rec.lines, unordered.files["/s/a.c"].lines);
        assert_eq!(rec.branches, unordered.files["/s/a.c"].branches);
        // In order at first, then not: what was gathered in order is kept
        // when the fold turns to sums.
        let mut turned = Tracefile::default();
        turned.add_unit(
            &unit(vec![line(1, 2), line(2, 7), line(3, 5), line(1, 1)]),
            false,
        );
        turned.add_unit(&unit(vec![line(3, 0)]), false);
        let rec2 = &turned.files["/s/a.c"];
        assert_eq!(rec2.lines, SortedMap::from([(1, 3), (2, 7), (3, 5)]));
        assert_eq!(rec2.branches[&1], rec.branches[&1]);
        assert_eq!(rec2.branches[&3], rec.branches[&3]);
    }

    /// A line's blocks are numbered in lcov's order when there are several
    /// (shortest signature first), and a lone block is block 0.
    #[test]
    fn brda_block_numbers_follow_the_sorted_order() {
        use BranchKind::*;
        let mut rec = FileRecord::default();
        rec.lines.insert(4, 1);
        rec.lines.insert(7, 1);
        rec.branches.insert(
            4,
            vec![
                block(&[Fallthrough, Plain, Plain], &[Some(1), Some(2), Some(3)]),
                block(&[Fallthrough, Plain], &[Some(4), None]),
            ],
        );
        rec.branches
            .insert(7, vec![block(&[Plain, Exception], &[Some(5), Some(0)])]);
        let t = Tracefile {
            files: BTreeMap::from([("/s/a.c".to_string(), rec)]),
            saturated: false,
        };
        let mut out = Vec::new();
        t.write_to(&mut out, "").unwrap();
        let brda: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("BRDA:"))
            .map(str::to_string)
            .collect();
        assert_eq!(
            brda,
            [
                "BRDA:4,f0,0,4",
                "BRDA:4,0,1,-",
                "BRDA:4,f1,0,1",
                "BRDA:4,1,1,2",
                "BRDA:4,1,2,3",
                "BRDA:7,0,0,5",
                "BRDA:7,e0,1,0",
            ]
        );
    }

    #[test]
    fn blocks_sort_and_pair_as_lcov_does() {
        use BranchKind::*;
        let mut mine = vec![
            block(
                &[Fallthrough, Plain, Fallthrough],
                &[Some(1), Some(0), None],
            ),
            block(&[Fallthrough, Plain], &[Some(2), Some(0)]),
        ];
        let yours = vec![
            block(&[Fallthrough, Plain], &[Some(3), None]),
            block(&[Fallthrough, Plain], &[Some(4), Some(5)]),
        ];
        let mut sat = false;
        union(&mut mine, yours, &mut sat);
        assert_eq!(mine.len(), 3);
        let order: Vec<String> = sorted(&mine).iter().map(|b| b.signature()).collect();
        assert_eq!(order, ["fb", "fb", "fbf"]);
        assert_eq!(mine[1].branches[0].taken, Some(5));
        assert_eq!(mine[1].branches[1].taken, Some(0));
        assert_eq!(mine[2].branches[1].taken, Some(5));
    }
}

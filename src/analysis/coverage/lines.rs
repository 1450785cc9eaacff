//! Source lines while counts accumulate, and a line's output record.
#![allow(clippy::indexing_slicing)]

use super::graph::Graph;
use super::model::{BranchCoverage, ConditionCoverage, LineCoverage};
use crate::gcov::gcno::FunctionRef;
use std::collections::BTreeMap;

/// A source line while counts accumulate.
#[derive(Debug, Clone, Default)]
pub(super) struct Line {
    pub(super) exists: bool,
    pub(super) count: i128,
    pub(super) has_unexecuted_block: bool,
    /// Blocks whose last line (per location) is this line: (function, block).
    /// Their outgoing arcs are the line's branches (GCC 8+).
    pub(super) blocks: Vec<(usize, usize)>,
    /// Before GCC 8: the blocks whose outgoing arcs are the line's branches
    /// (the line keeps no blocks then).
    pub(super) branch_blocks: Vec<(usize, usize)>,
}

pub(super) struct Func<'a> {
    pub(super) notes: FunctionRef<'a>,
    pub(super) graph: Graph,
    pub(super) src: usize,
    pub(super) is_group: bool,
    /// Lines of a group function, from its start line.
    /// Lines of a group function by line number (sparse: a hostile end line
    /// must not size anything).
    pub(super) lines: BTreeMap<u32, Line>,
    pub(super) blocks_executed: u32,
    /// Per decision of the notes: (block, its coverage).
    pub(super) conditions: Vec<(usize, ConditionCoverage)>,
}

pub(super) fn line_out(
    line: &Line,
    number: u32,
    function: Option<&str>,
    funcs: &[Func<'_>],
) -> LineCoverage {
    LineCoverage {
        line_number: number,
        function_name: function.map(str::to_string),
        count: line.count,
        unexecuted_block: line.has_unexecuted_block,
        // One of the two lists is empty (see `Line`); each block's arcs in
        // its successor order, as when they were first listed.
        branches: line
            .blocks
            .iter()
            .chain(&line.branch_blocks)
            .flat_map(|&(f, b)| {
                let g = &funcs[f].graph;
                g.succ(b).iter().map(move |&a| &g.arcs[a])
            })
            .filter(|a| !a.is_unconditional && !a.is_call_non_return)
            .map(|a| BranchCoverage {
                count: a.count,
                throw: a.is_throw,
                fallthrough: a.fall_through,
                source_block_id: u32::try_from(a.src).unwrap_or(u32::MAX),
                destination_block_id: u32::try_from(a.dst).unwrap_or(u32::MAX),
            })
            .collect(),
        conditions: line
            .blocks
            .iter()
            .flat_map(|&(f, b)| {
                funcs[f]
                    .conditions
                    .iter()
                    .filter(move |(cb, _)| *cb == b)
                    .map(|(_, c)| c.clone())
            })
            .collect(),
    }
}

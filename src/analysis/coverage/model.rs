//! The coverage model: what gcov's `--json-format` reports per unit, per
//! source file, per function, line, branch and condition. Reports are
//! written from it.

/// Coverage of one compilation unit, per source file, in gcov's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct UnitCoverage {
    /// The compilation directory recorded in the notes (GCC 9+).
    pub cwd: Option<String>,
    /// The unit's source files (the main file and its headers) in the order gcov lists them.
    pub files: Vec<FileCoverage>,
    /// Problems with the data: those gcov reports too (mismatched or
    /// unsolvable data), and those it passes over in silence.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub warnings: Vec<Warning>,
}

/// Why a unit's coverage may not be what was run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The counters are of another compilation than the notes.
    StampMismatch,
    /// A function's counters do not fit its notes (another build).
    ProfileMismatch {
        /// The function.
        function: String,
    },
    /// A function's notes lack the entry or exit block.
    NoEntryExit {
        /// The function.
        function: String,
    },
    /// The arc counts of a function do not determine its flow.
    Unsolvable {
        /// The function.
        function: String,
    },
    /// The `conditions` counters of a function are not two per decision.
    ConditionProfileMismatch {
        /// The function.
        function: String,
    },
    /// The notes record decisions (`-fcondition-coverage`) for a function
    /// whose counters have no `conditions` counters: the counters were not
    /// made by this build, or the dumper (an old Xen) dropped them. Its
    /// conditions are reported as never covered, as gcov reports them.
    NoConditionCounters {
        /// The function.
        function: String,
        /// Its decisions in the notes.
        decisions: usize,
    },
    /// The cycle search of a line stopped at its work limit.
    TooManyCycles {
        /// The line.
        line: u32,
        /// Its source file.
        file: String,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::StampMismatch => {
                f.write_str("stamp mismatch with notes file: counters ignored")
            }
            Warning::ProfileMismatch { function } => write!(f, "profile mismatch for '{function}'"),
            Warning::NoEntryExit { function } => {
                write!(f, "'{function}' lacks entry and/or exit blocks")
            }
            Warning::Unsolvable { function } => write!(f, "graph is unsolvable for '{function}'"),
            Warning::ConditionProfileMismatch { function } => {
                write!(f, "condition profile mismatch for '{function}'")
            }
            Warning::NoConditionCounters {
                function,
                decisions,
            } => write!(
                f,
                "'{function}': the notes record {decisions} decision{} (-fcondition-coverage) \
                 but its counters have no conditions counters (not this build's counters, or \
                 a dumper that drops them): its conditions are reported as never covered",
                if *decisions == 1 { "" } else { "s" }
            ),
            Warning::TooManyCycles { line, file } => write!(
                f,
                "line {line} of {file}: too many cycles among its blocks; the search stopped and its count may be low"
            ),
        }
    }
}

impl UnitCoverage {
    /// Whether a function, line or branch count came out negative. The
    /// measured counters are then not one consistent snapshot (a hypervisor
    /// read while other CPUs count, without `-fprofile-update=atomic`): gcov
    /// prints such counts as they are, lcov writes 0 (`-` for a branch).
    pub fn has_negative_counts(&self) -> bool {
        self.files.iter().any(|f| {
            f.functions.iter().any(|x| x.execution_count < 0)
                || f.lines.iter().any(LineCoverage::has_negative_counts)
        })
    }
}

impl LineCoverage {
    /// Whether the line's count or a branch's came out negative (see
    /// [`UnitCoverage::has_negative_counts`]).
    pub fn has_negative_counts(&self) -> bool {
        self.count < 0 || self.branches.iter().any(|b| b.count < 0)
    }
}

/// A count as the reports write it: never negative (lcov writes a negative
/// line count as 0), and exact past 2^63 where gcov's signed 64-bit
/// counts turn negative.
#[cfg(feature = "serde")]
pub(super) fn non_negative<S: serde::Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(u128::try_from(*v).unwrap_or(0))
}

/// Coverage of one source file of a unit: its functions and lines, as in gcov's JSON `files[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FileCoverage {
    /// The source file name as recorded (canonicalized like gcov does).
    pub file: String,
    /// The functions whose first line is in this file, in the notes' order.
    pub functions: Vec<FunctionCoverage>,
    /// The lines that carry blocks, ascending by line number.
    pub lines: Vec<LineCoverage>,
}

/// One function's coverage as gcov's JSON `functions[]` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FunctionCoverage {
    /// The linkage (mangled) name from the notes' function record.
    pub name: String,
    /// What gcov 9+ writes as `demangled_name`: the C++ demangling of
    /// `name`, or `name` itself when it does not demangle (C).
    pub demangled_name: String,
    /// First line of the function's body, 1-based, from the notes' function record.
    pub start_line: u32,
    /// Column of the function's start (GCC 8+ notes; 0 before).
    pub start_column: u32,
    /// Last line of the function (GCC 8+ notes; the start line before).
    pub end_line: u32,
    /// Column of the function's end (GCC 10+ notes; 0 before).
    pub end_column: u32,
    /// Basic blocks gcov counts for the function (entry and exit blocks excluded).
    pub blocks: u32,
    /// Of [`blocks`](Self::blocks), those whose solved count is non-zero.
    pub blocks_executed: u32,
    /// Signed as gcov computes it (inconsistent counters can make it
    /// negative); JSON output writes a negative count as 0.
    #[cfg_attr(feature = "serde", serde(serialize_with = "non_negative"))]
    pub execution_count: i128,
}

/// One source line's coverage as gcov's JSON `lines[]` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LineCoverage {
    /// The 1-based line number in [`FileCoverage::file`].
    pub line_number: u32,
    /// Absent (as in gcov's JSON) for a line before any function of its file.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    /// Shared by the lines of one function (one allocation per function,
    /// not per line).
    pub function_name: Option<std::sync::Arc<str>>,
    /// How often the line ran: the sum of the counts of the arcs entering its blocks from other lines, as gcov computes it (signed, see [`FunctionCoverage::execution_count`]).
    #[cfg_attr(feature = "serde", serde(serialize_with = "non_negative"))]
    pub count: i128,
    /// Whether some block on this line never ran although the line did (gcov's `unexecuted_block`, the `*` in `gcov -a` text output).
    pub unexecuted_block: bool,
    /// The branch outcomes of the blocks that end on this line, in arc order.
    pub branches: Vec<BranchCoverage>,
    /// Condition coverage (GCC 14+ `-fcondition-coverage`) of the decisions
    /// whose blocks end on this line, as `gcov -g` reports it; empty without.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub conditions: Vec<ConditionCoverage>,
}

/// One decision's condition coverage (MC/DC as GCC measures it): which
/// terms were shown to independently make the outcome true and false.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConditionCoverage {
    /// Condition outcomes: two per term (true and false).
    pub count: u32,
    /// Outcomes shown to independently affect the decision.
    pub covered: u32,
    /// Terms (0-based, in source order) never shown to make it true.
    pub not_covered_true: Vec<u32>,
    /// Terms never shown to make it false.
    pub not_covered_false: Vec<u32>,
}

impl ConditionCoverage {
    /// From the two 64-bit sets of the `conditions` counters of a decision
    /// of `terms` terms: bit i of `truev` (`falsev`) is set when term i was
    /// shown to independently make the outcome true (false). Bits at or
    /// above `terms` are not outcomes of the decision and are ignored.
    pub fn from_sets(terms: u32, truev: u64, falsev: u64) -> ConditionCoverage {
        let terms = terms.min(64);
        let mask = u64::MAX.checked_shr(64 - terms).unwrap_or(0);
        let (t, f) = (truev & mask, falsev & mask);
        let missing = |set: u64| -> Vec<u32> { (0..terms).filter(|i| set >> i & 1 == 0).collect() };
        ConditionCoverage {
            count: 2 * terms,
            covered: t.count_ones() + f.count_ones(),
            not_covered_true: missing(t),
            not_covered_false: missing(f),
        }
    }
}

/// One outcome of a branch: the count of one arc leaving a block that has more than one exit, as gcov's JSON `branches[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BranchCoverage {
    /// How often this arc was taken (signed as gcov solves it; JSON output writes a negative count as 0).
    #[cfg_attr(feature = "serde", serde(serialize_with = "non_negative"))]
    pub count: i128,
    /// Whether the arc is an exception edge (gcov's `is_throw`): it leaves a block that ends in a
    /// call (one with a `GCOV_ARC_FAKE` exit) and is neither fake nor the fall-through.
    pub throw: bool,
    /// Whether the arc is the fall-through edge (the notes' `GCOV_ARC_FALLTHROUGH` flag).
    pub fallthrough: bool,
    /// The arc's source and destination blocks (gcov 14+ writes them as
    /// `source_block_id` and `destination_block_id`; lcov 2 makes its
    /// branch ids of them). Not in our gcov JSON (format "1").
    #[cfg_attr(feature = "serde", serde(skip))]
    pub source_block_id: u32,
    /// See `source_block_id`.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub destination_block_id: u32,
}

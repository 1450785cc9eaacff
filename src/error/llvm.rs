//! What can be wrong with LLVM's coverage data: a raw profile, the merge of
//! several, the function-name section and the coverage mapping
//! (`__llvm_covmap`, `__llvm_covfun`). One variant per failure, each with
//! the values its message names.

use crate::plural::count;

/// What is wrong with a raw LLVM profile (`formats/llvm-raw-profile.md`),
/// a merge of raw profiles, a names section or a coverage mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LlvmError {
    /// A raw-profile version we cannot read.
    #[error(
        "raw LLVM profile version {version} is not supported (versions 5 to 10, clang 11 to 21, are)"
    )]
    UnsupportedVersion {
        /// The version in the header.
        version: u32,
    },
    /// A profile of single-byte counters.
    #[error(
        "the profile has single-byte counters (-enable-single-byte-coverage), which are not supported"
    )]
    SingleByteCounters,
    /// A profile with no data records.
    #[error("the profile has no function records (num_data is 0)")]
    NoFunctions,
    /// A header whose size fields add up past 64 bits.
    #[error("{what} ({value}) overflows the profile's size")]
    Overflow {
        /// The header field (or the size made of it) that does not fit.
        what: &'static str,
        /// The size it adds.
        value: u64,
    },
    /// A `value_kind_last` that does not fit the version's data records.
    #[error(
        "value_kind_last is {value_kind_last}, but version {version} records have {kinds} value kinds"
    )]
    ValueKindLast {
        /// The header's field.
        value_kind_last: u64,
        /// The profile's version.
        version: u32,
        /// How many value kinds that version's records count sites of.
        kinds: u64,
    },
    /// A binary-ID section whose size is not a multiple of 8.
    #[error("binary_ids_size ({size}) is not a multiple of 8")]
    BinaryIdsSize {
        /// The header's `binary_ids_size`.
        size: u64,
    },
    /// Sections that the header places past the end of the input.
    #[error(
        "the header promises {} (up to the value data), but the input has only {}",
        count(*.promised, "byte", "bytes"),
        count(*.available, "byte", "bytes")
    )]
    SectionsPastEnd {
        /// Where the sections before the value data end.
        promised: u64,
        /// The input's size.
        available: u64,
    },
    /// A binary ID longer than what is left of its section.
    #[error("a binary ID of {len} bytes runs past the binary-ID section")]
    BinaryIdPastSection {
        /// The ID's length field.
        len: u64,
    },
    /// A data record whose name hash is in no name of the names section.
    #[error(
        "data record {record} names a function by hash {hash:#018x}, which is not in the names section"
    )]
    UnknownNameHash {
        /// The record's index.
        record: u64,
        /// The MD5 name hash it holds.
        hash: u64,
    },
    /// A data record with no counters.
    #[error("data record {record} ({function}) has no counters")]
    NoCounters {
        /// The record's index.
        record: u64,
        /// The function's name.
        function: String,
    },
    /// A data record whose counters are not inside the counters section.
    #[error(
        "data record {record} ({function}) points to {} at byte {at} of a {section_size}-byte counters section",
        count(*.counters, "counter", "counters")
    )]
    CountersOutside {
        /// The record's index.
        record: u64,
        /// The function's name.
        function: String,
        /// Its counter count.
        counters: u64,
        /// Where its pointer leads, relative to the section's start.
        at: i64,
        /// The section's size in bytes.
        section_size: u64,
    },
    /// A data record whose MC/DC bitmap is not inside the bitmap section.
    #[error(
        "data record {record} ({function}) points to {bytes} bitmap bytes at byte {at} of a {section_size}-byte bitmap section"
    )]
    BitmapOutside {
        /// The record's index.
        record: u64,
        /// The function's name.
        function: String,
        /// Its bitmap size in bytes.
        bytes: u64,
        /// Where its pointer leads, relative to the section's start.
        at: i64,
        /// The section's size in bytes.
        section_size: u64,
    },
    /// A value-profile block whose size or kind count cannot be.
    #[error(
        "the value-profile block of data record {record} claims {bytes} bytes and {kinds} value kinds"
    )]
    ValueBlock {
        /// The index of the data record the block belongs to.
        record: usize,
        /// The block's total size field.
        bytes: u64,
        /// The block's value-kind count.
        kinds: u64,
    },
    /// Non-zero bytes after the profile (a second profile appended).
    #[error(
        "the profile ends at byte {end}, but non-zero bytes follow (a second, concatenated profile is not supported)"
    )]
    TrailingData {
        /// Where the profile ends.
        end: usize,
    },
    /// A merge of no profiles.
    #[error("no profile to merge")]
    NothingToMerge,
    /// A profile with value-profile data, which merge does not combine.
    #[error("the profile carries value-profile data, which merge does not combine")]
    MergeValueData,
    /// A profile of another raw-profile version than the first input.
    #[error("raw profile version {version} is not the first input's {first}")]
    MergeVersion {
        /// This profile's version.
        version: u32,
        /// The first input's.
        first: u32,
    },
    /// A profile of another byte order or pointer size than the first input.
    #[error(
        "the byte order or pointer size differs from the first input's ({}, {pointer_bytes}-byte pointers; the first input: {}, {first_pointer_bytes}-byte pointers)",
        order(*.big_endian),
        order(*.first_big_endian)
    )]
    MergeLayout {
        /// Whether this profile is big-endian.
        big_endian: bool,
        /// Its pointer size.
        pointer_bytes: u8,
        /// Whether the first input is big-endian.
        first_big_endian: bool,
        /// The first input's pointer size.
        first_pointer_bytes: u8,
    },
    /// A profile whose build IDs are not the first input's.
    #[error("its build ID differs from the first input's: another build")]
    MergeBuildId,
    /// A profile with another number of functions than the first input.
    #[error(
        "it has {} where the first input has {first}: another build",
        count(*.functions as u64, "function", "functions")
    )]
    MergeFunctionCount {
        /// This profile's function count.
        functions: usize,
        /// The first input's.
        first: usize,
    },
    /// A function that is not the first input's function at that place.
    #[error(
        "function {index} is {name} (hash {hash:#x}, {}), but in the first input {first_name} (hash {first_hash:#x}, {}): another build",
        count(*.counters as u64, "counter", "counters"),
        count(*.first_counters as u64, "counter", "counters")
    )]
    MergeFunction {
        /// The function's place in the data records.
        index: usize,
        /// Its name here.
        name: String,
        /// Its structural hash here.
        hash: u64,
        /// Its counter count here.
        counters: usize,
        /// The first input's function at that place.
        first_name: String,
        /// Its structural hash.
        first_hash: u64,
        /// Its counter count.
        first_counters: usize,
    },
    /// A merged counter past 64 bits.
    #[error("counter {counter} of {function} overflows 64 bits when merged")]
    MergeOverflow {
        /// The counter's index in its function.
        counter: u64,
        /// The function's name.
        function: String,
    },
    /// A ULEB128 number of more than 64 bits.
    #[error("{section}: {what} does not fit in 64 bits")]
    LebOverflow {
        /// The section (`__llvm_covmap`, `__llvm_covfun`, the names section).
        section: &'static str,
        /// The number being read.
        what: &'static str,
    },
    /// A ULEB128 number past its field's range.
    #[error("{section}: {what} is {value}, not below {limit}")]
    LebRange {
        /// The section.
        section: &'static str,
        /// The number being read.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The first value out of range.
        limit: u64,
    },
    /// A size larger than what is left of its section.
    #[error("{section}: {what} is {size}, more than the {left} bytes left")]
    SizePastEnd {
        /// The section.
        section: &'static str,
        /// The size being read.
        what: &'static str,
        /// Its value.
        size: u64,
        /// The bytes left after it.
        left: u64,
    },
    /// A compressed chunk claiming more than zlib can make of it (1032:1).
    #[error(
        "{what} claim {claimed} bytes from {compressed} compressed bytes, more than zlib can produce"
    )]
    InflateRatio {
        /// What is compressed, with its section.
        what: &'static str,
        /// The uncompressed size claimed.
        claimed: u64,
        /// The compressed size.
        compressed: u64,
    },
    /// A compressed chunk that does not inflate.
    #[error("{what} do not inflate: {status}")]
    Inflate {
        /// What is compressed, with its section.
        what: &'static str,
        /// Why, as the inflater says.
        status: String,
    },
    /// A compressed chunk that inflates to another size than it claims.
    #[error("{what} inflate to {found} bytes, but claim {claimed}")]
    InflatedSize {
        /// What is compressed, with its section.
        what: &'static str,
        /// The size it inflates to.
        found: u64,
        /// The size it claims.
        claimed: u64,
    },
    /// A name that is not UTF-8.
    #[error("{what} is not UTF-8")]
    NotUtf8 {
        /// Which name, with its section.
        what: &'static str,
    },
    /// A coverage unit with no file names.
    #[error("__llvm_covmap: a unit with no file names")]
    NoFileNames,
    /// A coverage mapping version we do not read.
    #[error(
        "__llvm_covmap: coverage mapping version field {field} (LLVM's Version{}); only {first}..={last} (clang 11 and later) are read",
        *.field as u64 + 1
    )]
    MappingVersion {
        /// The version field (LLVM's `Version<field + 1>`).
        field: u32,
        /// The first field value read.
        first: u32,
        /// The last.
        last: u32,
    },
    /// Coverage units of two mapping versions.
    #[error("__llvm_covmap: units of two mapping versions ({first} and {found}) in one file")]
    MixedMappingVersions {
        /// The first unit's version field.
        first: u32,
        /// This unit's.
        found: u32,
    },
    /// A coverage header of version 4 or later with records in it.
    #[error(
        "__llvm_covmap: a version {field} header with {records} records and {bytes} mapping bytes; from this version they live in __llvm_covfun"
    )]
    RecordsInHeader {
        /// The version field.
        field: u32,
        /// The record count it claims.
        records: u32,
        /// The mapping bytes it claims.
        bytes: u32,
    },
    /// A function record whose file-names hash no unit has.
    #[error(
        "__llvm_covfun: the function record refers to file names {hash:#018x}, which no unit in __llvm_covmap has"
    )]
    UnknownFileNames {
        /// The hash of the file names it refers to.
        hash: u64,
    },
    /// A function record whose name MD5 is in no names section.
    #[error(
        "__llvm_covfun: no function name has the MD5 {md5:#018x} the record holds (names section missing or of another binary)"
    )]
    UnknownFunctionName {
        /// The name's MD5 (low 64 bits).
        md5: u64,
    },
    /// A counter that refers to an expression the function does not have.
    #[error(
        "__llvm_covfun: a counter refers to expression {id}, past the end ({})",
        count(*.expressions as u64, "expression", "expressions")
    )]
    ExpressionPastEnd {
        /// The expression's index.
        id: u32,
        /// How many the function has.
        expressions: usize,
    },
    /// An expansion region of a file ID the function does not have.
    #[error("__llvm_covfun: an expansion of file ID {file_id}, but the function has {files} files")]
    ExpansionFile {
        /// The expanded file ID.
        file_id: u32,
        /// How many files the function has.
        files: usize,
    },
    /// A region kind LLVM does not define.
    #[error("__llvm_covfun: region kind {kind} is not one LLVM defines")]
    RegionKind {
        /// The kind field.
        kind: u64,
    },
    /// A region that ends before it starts.
    #[error(
        "__llvm_covfun: a region ends ({}:{}) before it starts ({}:{})",
        .end.0, .end.1, .start.0, .start.1
    )]
    RegionBackwards {
        /// Line and column where it starts.
        start: (u32, u32),
        /// Line and column where it ends.
        end: (u32, u32),
    },
}

fn order(big_endian: bool) -> &'static str {
    if big_endian {
        "big-endian"
    } else {
        "little-endian"
    }
}

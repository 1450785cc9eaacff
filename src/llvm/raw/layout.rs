//! Where a raw profile's sections lie: sums of section sizes that refuse
//! to overflow, and the data-record layout of each version.

use crate::bytes::reader::padding;
use crate::error::{LlvmError, Result};
use crate::llvm::fail;

/// Adds section sizes, refusing a sum that overflows (a lying header).
pub(super) fn add(offset: u64, a: u64, b: u64, what: &'static str) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| fail(offset, LlvmError::Overflow { what, value: b }))
}

/// The layout of a data record: offsets of its fields and its size.
#[derive(Debug, Clone, Copy)]
pub(super) struct RecordLayout {
    pub(super) ptr: u8,
    pub(super) counter_ptr: u64,
    pub(super) bitmap_ptr: Option<u64>,
    pub(super) num_counters: u64,
    pub(super) value_sites: u64,
    pub(super) kinds: u64,
    pub(super) num_bitmap_bytes: Option<u64>,
    pub(super) size: u64,
}

impl RecordLayout {
    /// C struct layout of `__llvm_profile_data` for `version` and pointer size `ptr`.
    pub(super) fn new(version: u32, ptr: u8) -> RecordLayout {
        let p = u64::from(ptr);
        // NameRef and FuncHash: two u64.
        let mut at = 16;
        let counter_ptr = at;
        at += p;
        let bitmap_ptr = (version >= 9).then(|| {
            let o = at;
            at += p;
            o
        });
        // FunctionPointer and Values.
        at += 2 * p;
        let num_counters = at;
        at += 4;
        let value_sites = at;
        // IPVK_Last + 1 value kinds: indirect call targets and memory-op
        // sizes, plus virtual-table targets from version 10.
        let kinds = if version >= 10 { 3 } else { 2 };
        at += 2 * kinds;
        let num_bitmap_bytes = (version >= 9).then(|| {
            at += (4 - at % 4) % 4;
            let o = at;
            at += 4;
            o
        });
        // The struct holds u64 members: its size is a multiple of 8.
        let size = at + padding(at, 8);
        RecordLayout {
            ptr,
            counter_ptr,
            bitmap_ptr,
            num_counters,
            value_sites,
            kinds,
            num_bitmap_bytes,
            size,
        }
    }
}

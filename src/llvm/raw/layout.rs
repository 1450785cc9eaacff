//! Where a raw profile's sections lie: bounded, endian-aware access with
//! absolute offsets, and the data-record layout of each version.

use crate::bytes::endian::Endian;
use crate::error::{Error, ErrorKind, Result};
use crate::llvm::invalid;

/// Bounded, endian-aware access to the input with absolute offsets.
pub(super) struct Input<'a> {
    pub(super) data: &'a [u8],
    pub(super) endian: Endian,
}

impl<'a> Input<'a> {
    pub(super) fn slice(&self, offset: u64, len: u64, what: &'static str) -> Result<&'a [u8]> {
        let available = usize::try_from(offset)
            .ok()
            .and_then(|o| self.data.len().checked_sub(o))
            .unwrap_or(0);
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match usize::try_from(len) {
            Ok(n) if n <= available => {
                let end = start + n;
                Ok(self.data.get(start..end).unwrap_or_default())
            }
            _ => Err(Error::new(
                start.min(self.data.len()),
                ErrorKind::Truncated {
                    what,
                    needed: len,
                    available,
                },
            )),
        }
    }

    pub(super) fn uint(&self, offset: u64, bytes: u8, what: &'static str) -> Result<u64> {
        let s = self.slice(offset, u64::from(bytes), what)?;
        let mut v: u64 = 0;
        match self.endian {
            Endian::Little => {
                for &b in s.iter().rev() {
                    v = v << 8 | u64::from(b);
                }
            }
            Endian::Big => {
                for &b in s {
                    v = v << 8 | u64::from(b);
                }
            }
        }
        Ok(v)
    }
}

pub(super) fn pad8(n: u64) -> u64 {
    (8 - n % 8) % 8
}

/// Adds section sizes, refusing a sum that overflows (a lying header).
pub(super) fn add(offset: u64, a: u64, b: u64, what: &str) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| {
        invalid(
            offset,
            format!("the header's {what} ({b}) overflows the profile's size"),
        )
    })
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
        let size = at + pad8(at);
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

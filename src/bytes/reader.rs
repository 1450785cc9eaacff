//! A bounds-checked, endian-aware cursor over a byte slice. Reads never
//! panic and never allocate: a short input becomes [`ErrorKind::Truncated`]
//! with the offset of the read that failed.

use crate::bytes::endian::Endian;
use crate::error::{Error, ErrorKind, Result};

/// A cursor over a byte slice in one byte order. Every read is bounds-checked and a failed read is an [`Error`] at the absolute offset it was attempted at; nothing is consumed on failure.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    /// Offset of `data[0]` in the whole input, so errors name absolute offsets.
    base: usize,
    pos: usize,
    endian: Endian,
}

impl<'a> Reader<'a> {
    /// A reader over a whole input (offset 0 is its first byte).
    pub fn new(data: &'a [u8], endian: Endian) -> Self {
        Reader::at(data, 0, endian)
    }

    /// A reader over `data`, which starts at absolute offset `base` of the input.
    pub fn at(data: &'a [u8], base: usize, endian: Endian) -> Self {
        Reader {
            data,
            base,
            pos: 0,
            endian,
        }
    }

    /// The byte order the words are read in.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Absolute offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// An error of kind `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> Error {
        Error::new(self.offset(), kind)
    }

    /// Takes the next `len` bytes.
    pub fn bytes(&mut self, len: u64, what: &'static str) -> Result<&'a [u8]> {
        let available = self.remaining();
        match usize::try_from(len) {
            Ok(n) if n <= available => {
                let (start, end) = (self.pos, self.pos + n);
                self.pos = end;
                Ok(self.data.get(start..end).unwrap_or_default())
            }
            _ => Err(self.error(ErrorKind::Truncated {
                what,
                needed: len,
                available,
            })),
        }
    }

    /// The next four bytes as they are stored (for magics and tags compared as bytes). `what` names the field in the error.
    pub fn array4(&mut self, what: &'static str) -> Result<[u8; 4]> {
        let b = self.bytes(4, what)?;
        let mut out = [0u8; 4];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// The next 32-bit word in the reader's byte order (gcov's `gcov_unsigned_t`). `what` names the field in the error.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(self.endian.u32_from(self.array4(what)?))
    }

    /// A 64-bit counter: two words in file order, low word first (gcov's
    /// layout on every host, so a big-endian file is not simply a BE u64).
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        let b = self.bytes(8, what)?;
        let (lo, hi) = b.split_at(4);
        let lo = self.endian.u32_from(lo.try_into().unwrap_or_default());
        let hi = self.endian.u32_from(hi.try_into().unwrap_or_default());
        Ok(u64::from(hi) << 32 | u64::from(lo))
    }
}

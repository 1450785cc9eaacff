//! A bounds-checked, endian-aware cursor over a byte slice. Reads never
//! panic and never allocate: a short input becomes [`ErrorKind::Truncated`]
//! with the offset of the read that failed.
//!
//! Offsets are absolute: a reader made by [`Reader::at`] or
//! [`Reader::sub`] over a payload nested in a larger input (a gcda inside a
//! Xen dump, a record inside a gcda) reports offsets in that larger input.

use crate::bytes::endian::Endian;
use crate::error::{Error, ErrorKind, Result};

/// A bounded cursor over `data` whose errors carry absolute offsets.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    /// Offset of `data[0]` in the whole input, so errors name absolute offsets.
    base: usize,
    pos: usize,
    endian: Endian,
}

/// How many bytes pad `offset` up to a multiple of `align` (a power of two
/// or not; 0 for an `align` of 0).
pub fn padding(offset: u64, align: u64) -> u64 {
    match align {
        0 => 0,
        a => (a - offset % a) % a,
    }
}

impl<'a> Reader<'a> {
    /// A reader over the whole input `data`, at offset 0.
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

    /// The byte order of the words this reader decodes.
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

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The bytes not read yet, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> Error {
        Error::new(self.offset(), kind)
    }

    /// A copy of this reader moved to `offset` bytes from its start (not
    /// from its current position), for formats that place sections by
    /// offset. Past the end it stands at the end, so that the next read
    /// fails there with [`ErrorKind::Truncated`].
    pub fn seek(&self, offset: u64) -> Reader<'a> {
        let pos = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        Reader {
            pos,
            ..self.clone()
        }
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
            _ => Err(self.truncated(len, what)),
        }
    }

    /// Moves past the next `n` bytes, or to the end if fewer are left: for
    /// a caller that has already checked them in [`Reader::rest`].
    pub(crate) fn skip(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }

    /// Takes the next `len` bytes as a reader of their own whose offsets
    /// stay those of the whole input.
    pub fn sub(&mut self, len: u64, what: &'static str) -> Result<Reader<'a>> {
        let base = self.offset();
        let data = self.bytes(len, what)?;
        Ok(Reader::at(data, base, self.endian))
    }

    /// Takes a NUL-terminated string and returns it without its NUL. When
    /// no NUL follows, nothing is consumed and the error
    /// ([`ErrorKind::Unterminated`]) is at the string's first byte.
    pub fn cstr(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let rest = self.rest();
        let Some(nul) = rest.iter().position(|&b| b == 0) else {
            return Err(self.error(ErrorKind::Unterminated {
                what,
                available: rest.len(),
            }));
        };
        let text = self.bytes(nul as u64, what)?;
        self.bytes(1, what)?;
        Ok(text)
    }

    /// Skips the padding up to the next absolute offset that is a multiple
    /// of `align`, or to the end of the input if that comes first.
    pub fn align(&mut self, align: u64, what: &'static str) -> Result<()> {
        let pad = padding(self.offset() as u64, align).min(self.remaining() as u64);
        self.bytes(pad, what).map(|_| ())
    }

    /// The next four bytes as they are.
    pub fn array4(&mut self, what: &'static str) -> Result<[u8; 4]> {
        self.array(what)
    }

    /// The next `N` bytes as they are: one bounds check, and the error
    /// built out of line (words are most of what the decoders read).
    #[inline]
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        match self.rest().first_chunk::<N>() {
            Some(&a) => {
                self.pos += N;
                Ok(a)
            }
            None => Err(self.truncated(N as u64, what)),
        }
    }

    /// The error of a read of `needed` bytes that the input cannot satisfy.
    #[cold]
    fn truncated(&self, needed: u64, what: &'static str) -> Error {
        self.error(ErrorKind::Truncated {
            what,
            needed,
            available: self.remaining(),
        })
    }

    /// A 32-bit word in the reader's byte order.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(self.endian.u32_from(self.array4(what)?))
    }

    /// A 64-bit counter: two words in file order, low word first (gcov's
    /// layout on every host, so a big-endian file is not simply a BE u64).
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        let [a0, a1, a2, a3, b0, b1, b2, b3] = self.array(what)?;
        let lo = self.endian.u32_from([a0, a1, a2, a3]);
        let hi = self.endian.u32_from([b0, b1, b2, b3]);
        Ok(u64::from(hi) << 32 | u64::from(lo))
    }

    /// A plain 64-bit integer in the reader's byte order, as a C program
    /// writes a `uint64_t` (LLVM profiles, Xen's legacy counter arrays).
    pub fn u64_native(&mut self, what: &'static str) -> Result<u64> {
        self.uint(8, what)
    }

    /// An unsigned integer of `size` bytes (1 to 8) in the reader's byte
    /// order, such as a pointer of a 32- or 64-bit producer.
    pub fn uint(&mut self, size: u8, what: &'static str) -> Result<u64> {
        let b = self.bytes(u64::from(size.min(8)), what)?;
        let fold = |v: u64, &b: &u8| v << 8 | u64::from(b);
        Ok(match self.endian {
            Endian::Little => b.iter().rev().fold(0, fold),
            Endian::Big => b.iter().fold(0, fold),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_both_byte_orders() {
        let data = [
            0x01, 0x02, 0x03, 0x04, // a word
            0x05, 0x06, 0x07, 0x08, // low word of a gcov counter
            0x09, 0x0a, 0x0b, 0x0c, // its high word
        ];
        let mut le = Reader::new(&data, Endian::Little);
        assert_eq!(le.u32("w").unwrap(), 0x0403_0201);
        assert_eq!(le.u64("c").unwrap(), 0x0c0b_0a09_0807_0605);
        assert!(le.is_empty());
        let mut be = Reader::new(&data, Endian::Big);
        assert_eq!(be.u32("w").unwrap(), 0x0102_0304);
        // gcov: low word first even when big-endian.
        assert_eq!(be.u64("c").unwrap(), 0x090a_0b0c_0506_0708);
        let mut be = Reader::new(&data, Endian::Big);
        be.u32("w").unwrap();
        // A C uint64_t: plain big-endian.
        assert_eq!(be.u64_native("n").unwrap(), 0x0506_0708_090a_0b0c);
        let mut le = Reader::new(&data, Endian::Little);
        le.u32("w").unwrap();
        assert_eq!(le.u64_native("n").unwrap(), 0x0c0b_0a09_0807_0605);
        // A 4-byte pointer.
        assert_eq!(
            Reader::new(&data, Endian::Big).uint(4, "p").unwrap(),
            0x0102_0304
        );
    }

    #[test]
    fn a_cut_read_names_its_offset_and_needs() {
        let data = [
            0xaa, 0xbb, 0xcc, 0xdd, // a word
            0x01, 0x00, 0x00, 0x00, // low word of a counter
            0x02, 0x00, // cut inside the high word
        ];
        let mut r = Reader::at(&data, 0x100, Endian::Little);
        r.u32("w").unwrap();
        let e = r.u64("a counter").unwrap_err();
        // The counter starts at 0x104 and needs 8 bytes; 6 are left.
        assert_eq!(e.offset, 0x104);
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                what: "a counter",
                needed: 8,
                available: 6
            }
        );
        let e = r.u64_native("n").unwrap_err();
        assert_eq!(e.offset, 0x104);
    }

    #[test]
    fn c_strings_alignment_and_sub_readers() {
        let data = [
            b'a', b'b', 0x00, // "ab" and its NUL
            0x00, 0x00, 0x00, 0x00, 0x00, // padding to offset 8
            0x2a, 0x00, 0x00, 0x00, // a word: 42
            0x07, 0x00, 0x00, 0x00, // a word: 7
            b'x', b'y', // a string without NUL
        ];
        let mut r = Reader::new(&data, Endian::Little);
        assert_eq!(r.cstr("a name").unwrap(), b"ab");
        r.align(8, "padding").unwrap();
        assert_eq!(r.offset(), 8);
        let mut sub = r.sub(8, "a payload").unwrap();
        assert_eq!(sub.u32("w").unwrap(), 42);
        assert_eq!(sub.offset(), 12);
        sub.u32("w").unwrap();
        let e = sub.u32("past the payload").unwrap_err();
        assert_eq!(e.offset, 16, "offsets stay those of the whole input");
        let e = r.cstr("a name").unwrap_err();
        assert_eq!(e.offset, 16);
        assert_eq!(
            e.kind,
            ErrorKind::Unterminated {
                what: "a name",
                available: 2
            }
        );
        assert_eq!(r.offset(), 16, "nothing consumed");
        // Alignment stops at the end of the input.
        r.bytes(1, "x").unwrap();
        r.align(8, "padding").unwrap();
        assert!(r.is_empty());
        assert_eq!(padding(0x13, 8), 5);
        assert_eq!(padding(0x18, 8), 0);
    }

    #[test]
    fn seek_past_the_end_fails_at_the_end() {
        let data = [0x01, 0x02, 0x03, 0x04];
        let r = Reader::at(&data, 0x40, Endian::Big);
        assert_eq!(r.seek(2).uint(2, "h").unwrap(), 0x0304);
        let e = r.seek(9).uint(8, "far").unwrap_err();
        assert_eq!(e.offset, 0x44);
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                what: "far",
                needed: 8,
                available: 0
            }
        );
    }
}

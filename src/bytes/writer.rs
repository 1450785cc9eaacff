//! The writing side of [`Reader`](super::reader::Reader): words in a chosen
//! byte order, appended to a buffer.

use crate::bytes::endian::Endian;

/// Appends words and counters in one byte order: the encoder's half of [`Reader`](super::reader::Reader).
#[derive(Debug, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    endian: Endian,
}

impl Writer {
    /// An empty buffer that writes words in `endian` order.
    pub fn new(endian: Endian) -> Self {
        Writer {
            buf: Vec::new(),
            endian,
        }
    }

    /// Appends a 32-bit word in the writer's byte order.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&self.endian.u32_to(v));
    }

    /// Appends a 64-bit counter as gcov stores it: two words, low word first, each in the writer's byte order (the inverse of [`Reader::u64`](super::reader::Reader::u64)).
    pub fn u64(&mut self, v: u64) {
        self.u32(v as u32);
        self.u32((v >> 32) as u32);
    }

    /// Appends bytes as they are.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Overwrites the word at byte `at` (written before, as a placeholder)
    /// with `v`; a word not wholly written yet is left as it is.
    pub fn patch_u32(&mut self, at: usize, v: u32) {
        let word = self.endian.u32_to(v);
        if let Some(b) = self.buf.get_mut(at..at.saturating_add(4)) {
            b.copy_from_slice(&word);
        }
    }

    /// The byte order words are written in.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_word_patched_in_either_byte_order() {
        for (endian, want) in [
            (
                Endian::Little,
                [1, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a, 2, 0, 0, 0],
            ),
            (
                Endian::Big,
                [0, 0, 0, 1, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 2],
            ),
        ] {
            let mut w = Writer::new(endian);
            w.u32(1);
            w.u32(0);
            w.u32(2);
            w.patch_u32(4, 0x0a0b_0c0d);
            // Past the end, or across it: nothing changes, nothing grows.
            w.patch_u32(10, 7);
            w.patch_u32(usize::MAX, 7);
            assert_eq!(w.into_bytes(), want);
        }
    }
}

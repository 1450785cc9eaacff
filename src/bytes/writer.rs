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

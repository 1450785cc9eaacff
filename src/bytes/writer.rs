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
    pub fn new(endian: Endian) -> Self {
        Writer {
            buf: Vec::new(),
            endian,
        }
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&self.endian.u32_to(v));
    }

    pub fn u64(&mut self, v: u64) {
        self.u32(v as u32);
        self.u32((v >> 32) as u32);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub fn endian(&self) -> Endian {
        self.endian
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

//! LLVM's function-name encodings, shared by raw profiles and coverage
//! mappings: ULEB128 numbers, the names section (chunks, possibly
//! zlib-compressed) and the MD5 name hash.

use crate::error::LlvmError;
use crate::error::{Error, ErrorKind, Result};
use crate::llvm::fail;
use md5::{Digest, Md5};

/// A compressed chunk of names, as errors name it.
const CHUNK: &str = "the names section: a chunk's names";

/// Reads a ULEB128 number from `data` at `*pos`.
pub(crate) fn uleb(data: &[u8], pos: &mut usize, base: u64) -> Result<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let Some(&b) = data.get(*pos) else {
            return Err(Error::new(
                usize::try_from(base).unwrap_or(usize::MAX) + *pos,
                ErrorKind::Truncated {
                    what: "a ULEB128 length in the names section",
                    needed: 1,
                    available: 0,
                },
            ));
        };
        if shift >= 64 || (shift == 63 && b & 0x7e != 0) {
            return Err(fail(
                base + *pos as u64,
                LlvmError::LebOverflow {
                    section: "the names section",
                    what: "a ULEB128 length",
                },
            ));
        }
        v |= u64::from(b & 0x7f) << shift;
        *pos += 1;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

/// Decodes a names section: chunks of (ULEB128 uncompressed size, ULEB128
/// compressed size, bytes), zlib-compressed when the compressed size is not
/// zero; each chunk's names are separated by `\x01`; zero bytes between chunks
/// are padding. Returns the names and whether any chunk was compressed.
pub fn decode_names(data: &[u8], base: u64) -> Result<(Vec<String>, bool)> {
    let mut names = Vec::new();
    let mut compressed_any = false;
    let mut pos = 0usize;
    while pos < data.len() {
        let chunk_at = base + pos as u64;
        let raw_len = uleb(data, &mut pos, base)?;
        let zlen = uleb(data, &mut pos, base)?;
        let stored = if zlen == 0 { raw_len } else { zlen };
        let start = pos;
        let end = usize::try_from(stored)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                Error::new(
                    usize::try_from(base).unwrap_or(usize::MAX) + start,
                    ErrorKind::Truncated {
                        what: "a chunk of the names section",
                        needed: stored,
                        available: data.len() - start,
                    },
                )
            })?;
        let bytes = data.get(start..end).unwrap_or_default();
        let text = if zlen == 0 {
            bytes.to_vec()
        } else {
            compressed_any = true;
            // zlib cannot expand by more than about 1032:1; a larger claim lies
            // (and would make us allocate what the header says).
            if raw_len > zlen.saturating_mul(1032) {
                return Err(fail(
                    chunk_at,
                    LlvmError::InflateRatio {
                        what: CHUNK,
                        claimed: raw_len,
                        compressed: zlen,
                    },
                ));
            }
            let limit = usize::try_from(raw_len).unwrap_or(usize::MAX);
            let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, limit)
                .map_err(|e| {
                    fail(
                        chunk_at,
                        LlvmError::Inflate {
                            what: "the names section: a chunk's compressed names",
                            status: format!("{:?}", e.status),
                        },
                    )
                })?;
            if out.len() as u64 != raw_len {
                return Err(fail(
                    chunk_at,
                    LlvmError::InflatedSize {
                        what: CHUNK,
                        found: out.len() as u64,
                        claimed: raw_len,
                    },
                ));
            }
            out
        };
        for name in text.split(|&b| b == 1) {
            let name = String::from_utf8(name.to_vec()).map_err(|_| {
                fail(
                    chunk_at,
                    LlvmError::NotUtf8 {
                        what: "a function name in the names section",
                    },
                )
            })?;
            names.push(name);
        }
        pos = end;
        while data.get(pos) == Some(&0) {
            pos += 1;
        }
    }
    Ok((names, compressed_any))
}

/// LLVM's name hash: the first 8 bytes of the name's MD5, little-endian.
pub fn name_hash(name: &str) -> u64 {
    let digest = Md5::digest(name.as_bytes());
    let mut low = [0u8; 8];
    for (d, s) in low.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    u64::from_le_bytes(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (offset, kind) of the error decoding the names section `data` at 0x100.
    fn refusal(data: &[u8]) -> (usize, ErrorKind) {
        let e = decode_names(data, 0x100).unwrap_err();
        (e.offset, e.kind)
    }

    #[test]
    fn a_chunk_size_of_more_than_64_bits() {
        // Ten ULEB128 bytes whose last carries bits past bit 63.
        let data = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        let leb = LlvmError::LebOverflow {
            section: "the names section",
            what: "a ULEB128 length",
        };
        assert_eq!(refusal(&data), (0x109, leb.into()));
    }

    #[test]
    fn compressed_chunks_that_lie() {
        // 16383 bytes claimed from 1 compressed byte.
        let ratio = LlvmError::InflateRatio {
            what: CHUNK,
            claimed: 16383,
            compressed: 1,
        };
        assert_eq!(refusal(&[0xff, 0x7f, 0x01, 0x00]), (0x100, ratio.into()));
        // Two bytes that are no zlib stream.
        let (at, kind) = refusal(&[0x05, 0x02, 0x00, 0x00]);
        assert_eq!(at, 0x100);
        assert!(
            matches!(
                &kind,
                ErrorKind::Llvm(LlvmError::Inflate { what, .. })
                    if *what == "the names section: a chunk's compressed names"
            ),
            "{kind:?}"
        );
        // "f" compressed (zlib of 0x66), claimed as 2 bytes.
        let f = [
            0x02, 0x09, 0x78, 0x9c, 0x4b, 0x03, 0x00, 0x00, 0x67, 0x00, 0x67,
        ];
        let size = LlvmError::InflatedSize {
            what: CHUNK,
            found: 1,
            claimed: 2,
        };
        assert_eq!(refusal(&f), (0x100, size.into()));
    }

    #[test]
    fn a_name_that_is_not_utf8() {
        let utf8 = LlvmError::NotUtf8 {
            what: "a function name in the names section",
        };
        assert_eq!(refusal(&[0x01, 0x00, 0xff]), (0x100, utf8.into()));
        assert_eq!(
            decode_names(&[0x01, 0x00, b'f'], 0).unwrap(),
            (vec!["f".to_string()], false)
        );
    }
}

//! LLVM's function-name encodings, shared by raw profiles and coverage
//! mappings: ULEB128 numbers, the names section (chunks, possibly
//! zlib-compressed) and the MD5 name hash.

use crate::error::{Error, ErrorKind, Result};
use crate::llvm::invalid;
use md5::{Digest, Md5};

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
            return Err(invalid(
                base + *pos as u64,
                "a ULEB128 length in the names section does not fit in 64 bits".into(),
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
                return Err(invalid(
                    chunk_at,
                    format!(
                        "a names chunk claims {raw_len} bytes from {zlen} compressed bytes, \
                         more than zlib can produce"
                    ),
                ));
            }
            let limit = usize::try_from(raw_len).unwrap_or(usize::MAX);
            let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, limit)
                .map_err(|e| {
                    invalid(
                        chunk_at,
                        format!(
                            "a zlib-compressed names chunk does not inflate: {:?}",
                            e.status
                        ),
                    )
                })?;
            if out.len() as u64 != raw_len {
                return Err(invalid(
                    chunk_at,
                    format!(
                        "a names chunk inflates to {} bytes, but claims {raw_len}",
                        out.len()
                    ),
                ));
            }
            out
        };
        for name in text.split(|&b| b == 1) {
            let name = String::from_utf8(name.to_vec()).map_err(|_| {
                invalid(
                    chunk_at,
                    "a function name in the names section is not UTF-8".into(),
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

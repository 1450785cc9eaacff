//! The Xen 4.9+ dump: a magic word, then per compilation unit its gcda path
//! and gcda image, borrowed from the input (zero-copy).

use super::{Identified, XCOV_MAGIC, identify};
use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::bytes::writer::Writer;
use crate::error::{Error, ErrorKind, Result};
use crate::gcov::gcda::Gcda;
use crate::plural::count;

/// A Xen 4.9+ dump: records borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container<'a> {
    /// The hypervisor's byte order, told by how `XCOV` is stored.
    pub endian: Endian,
    /// The records in dump order, one per compilation unit of the hypervisor.
    pub units: Vec<Unit<'a>>,
}

/// One record of a container: a compilation unit's gcda path and image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit<'a> {
    /// Record number, from 0.
    pub index: usize,
    /// Offset of the record (its path) in the dump.
    pub offset: usize,
    /// The recorded gcda path, without its NUL.
    pub path: &'a [u8],
    /// Offset of the payload in the dump.
    pub payload_offset: usize,
    /// The unit's gcda image, as libgcov would have written it (without the end marker).
    pub payload: &'a [u8],
}

impl Unit<'_> {
    /// Decodes the payload; error offsets are offsets in the dump.
    pub fn gcda(&self) -> Result<Gcda> {
        Gcda::decode(self.payload).map_err(|e| Error::new(e.offset + self.payload_offset, e.kind))
    }

    /// The recorded path as text (bytes that are not UTF-8 replaced), for messages.
    pub fn path_lossy(&self) -> String {
        String::from_utf8_lossy(self.path).into_owned()
    }
}

impl<'a> Container<'a> {
    /// Parses the container. Every record is checked for a terminated,
    /// non-empty path and a size within the input; payloads are not decoded
    /// here (see [`Unit::gcda`]) so that a caller can keep a bad one verbatim.
    pub fn parse(data: &'a [u8]) -> Result<Container<'a>> {
        let endian = match identify(data)? {
            Identified::Container(e) => e,
            _ => {
                return Err(Error::new(
                    0,
                    ErrorKind::Invalid("not a Xen 4.9+ coverage dump (no XCOV magic)".into()),
                ));
            }
        };
        let mut r = Reader::new(data, endian);
        r.u32("the magic word")?;
        let mut units = Vec::new();
        while !r.is_empty() {
            let index = units.len();
            let offset = r.offset();
            let rest = data.get(offset..).unwrap_or_default();
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return Err(Error::new(
                    offset,
                    ErrorKind::Invalid(format!(
                        "record {index}: the gcda path has no NUL terminator ({} left)",
                        count(rest.len(), "byte", "bytes")
                    )),
                ));
            };
            if nul == 0 {
                return Err(Error::new(
                    offset,
                    ErrorKind::Invalid(format!("record {index}: empty gcda path")),
                ));
            }
            let path = r.bytes(nul as u64, "a gcda path")?;
            r.bytes(1, "the path's NUL")?;
            let size_at = r.offset();
            let size = r.u32("a payload size")?;
            if u64::from(size) > r.remaining() as u64 {
                return Err(Error::new(
                    size_at,
                    ErrorKind::Invalid(format!(
                        "record {index} ({}): payload size {size} but only {} {}",
                        String::from_utf8_lossy(path),
                        count(r.remaining(), "byte", "bytes"),
                        if r.remaining() == 1 {
                            "remains"
                        } else {
                            "remain"
                        }
                    )),
                ));
            }
            // Xen writes a whole gcda per unit: a payload too small for a gcda
            // header is no unit at all (and a million of them no dump).
            if size < 12 {
                return Err(Error::new(
                    size_at,
                    ErrorKind::Invalid(format!(
                        "record {index} ({}): a payload of {} cannot hold a gcda",
                        String::from_utf8_lossy(path),
                        count(size, "byte", "bytes")
                    )),
                ));
            }
            let payload_offset = r.offset();
            let payload = r.bytes(u64::from(size), "a payload")?;
            units.push(Unit {
                index,
                offset,
                path,
                payload_offset,
                payload,
            });
        }
        Ok(Container { endian, units })
    }
}

/// Writes a container of `(path, payload)` records in `endian` order.
pub fn encode_container<'p>(
    endian: Endian,
    units: impl IntoIterator<Item = (&'p [u8], &'p [u8])>,
) -> Vec<u8> {
    let mut w = Writer::new(endian);
    w.u32(XCOV_MAGIC);
    for (path, payload) in units {
        w.bytes(path);
        w.bytes(&[0]);
        w.u32(payload.len() as u32);
        w.bytes(payload);
    }
    w.into_bytes()
}

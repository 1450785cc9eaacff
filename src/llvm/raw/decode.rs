//! Decoding and validating a raw profile, section by section, as the header
//! places them.
//!
//! The file stays whole (about 400 lines): one function walks the header,
//! the sections it places and the data records in order, each check next to
//! the field it checks, as LLVM's `RawInstrProfReader` does.

use super::*;

impl RawProfile {
    /// Decodes and validates a raw profile. Zero bytes after the profile (a
    /// hypervisor's buffer is zero-filled) are accepted; anything else is not.
    pub fn decode(data: &[u8]) -> Result<RawProfile> {
        let Some((endian, ptr)) = sniff(data) else {
            return Err(Error::new(
                0,
                ErrorKind::BadMagic {
                    expected: "raw LLVM profile",
                    found: data.get(..8.min(data.len())).unwrap_or_default().to_vec(),
                },
            ));
        };
        let input = Reader::new(data, endian);
        // The header is a run of u64 fields; `at` is the next one's offset.
        let at = std::cell::Cell::new(0u64);
        let next = |what: &'static str| -> Result<u64> {
            let v = input.seek(at.get()).uint(8, what)?;
            at.set(at.get() + 8);
            Ok(v)
        };
        let magic = next("the magic")?;
        let version_field = next("the version")?;
        let version = (version_field & 0xffff_ffff) as u32;
        let variant = version_field >> 32;
        if !VERSIONS.contains(&version) {
            return Err(fail(8, LlvmError::UnsupportedVersion { version }));
        }
        if version_field & VARIANT_BYTE_COVERAGE != 0 {
            return Err(fail(8, LlvmError::SingleByteCounters));
        }
        let v9 = version >= 9;
        let v10 = version >= 10;
        let binary_ids_size = if version >= 7 {
            Some(next("the header's binary_ids_size")?)
        } else {
            None
        };
        let num_data_at = at.get();
        let num_data = next("the header's num_data")?;
        let padding_bytes_before_counters = next("the header's padding_bytes_before_counters")?;
        let num_counters = next("the header's num_counters")?;
        let padding_bytes_after_counters = next("the header's padding_bytes_after_counters")?;
        let num_bitmap_bytes = if v9 {
            Some(next("the header's num_bitmap_bytes")?)
        } else {
            None
        };
        let padding_bytes_after_bitmap_bytes = if v9 {
            Some(next("the header's padding_bytes_after_bitmap_bytes")?)
        } else {
            None
        };
        let names_size = next("the header's names_size")?;
        let counters_delta = next("the header's counters_delta")?;
        let bitmap_delta = if v9 {
            Some(next("the header's bitmap_delta")?)
        } else {
            None
        };
        let names_delta = next("the header's names_delta")?;
        let num_vtables = if v10 {
            Some(next("the header's num_vtables")?)
        } else {
            None
        };
        let vnames_size = if v10 {
            Some(next("the header's vnames_size")?)
        } else {
            None
        };
        let value_kind_last_at = at.get();
        let value_kind_last = next("the header's value_kind_last")?;
        let header_size = at.get();
        let header = Header {
            magic,
            version,
            variant,
            binary_ids_size,
            num_data,
            padding_bytes_before_counters,
            num_counters,
            padding_bytes_after_counters,
            num_bitmap_bytes,
            padding_bytes_after_bitmap_bytes,
            names_size,
            counters_delta,
            bitmap_delta,
            names_delta,
            num_vtables,
            vnames_size,
            value_kind_last,
        };
        if num_data == 0 {
            // An empty result is an error: without records there is nothing
            // to report (a build whose records live in the binary, with
            // profile correlation, writes such files).
            return Err(fail(num_data_at, LlvmError::NoFunctions));
        }
        let layout = RecordLayout::new(version, ptr);
        if value_kind_last.checked_add(1) != Some(layout.kinds) {
            return Err(fail(
                value_kind_last_at,
                LlvmError::ValueKindLast {
                    value_kind_last,
                    version,
                    kinds: layout.kinds,
                },
            ));
        }

        // Sections, placed as the header says.
        let ids_size = binary_ids_size.unwrap_or(0);
        if ids_size % 8 != 0 {
            return Err(fail(16, LlvmError::BinaryIdsSize { size: ids_size }));
        }
        let data_at = add(16, header_size, ids_size, "binary_ids_size")?;
        let data_size = num_data.checked_mul(layout.size).ok_or_else(|| {
            fail(
                header_size,
                LlvmError::Overflow {
                    what: "num_data",
                    value: num_data,
                },
            )
        })?;
        let counters_size = num_counters.checked_mul(8).ok_or_else(|| {
            fail(
                header_size,
                LlvmError::Overflow {
                    what: "num_counters",
                    value: num_counters,
                },
            )
        })?;
        let mut end = add(0, data_at, data_size, "num_data")?;
        end = add(
            0,
            end,
            padding_bytes_before_counters,
            "padding before counters",
        )?;
        let counters_at = end;
        end = add(0, end, counters_size, "num_counters")?;
        end = add(
            0,
            end,
            padding_bytes_after_counters,
            "padding after counters",
        )?;
        let bitmap_at = end;
        let bitmap_size = num_bitmap_bytes.unwrap_or(0);
        end = add(0, end, bitmap_size, "num_bitmap_bytes")?;
        end = add(
            0,
            end,
            padding_bytes_after_bitmap_bytes.unwrap_or(0),
            "padding after the bitmap",
        )?;
        let names_at = end;
        end = add(0, end, names_size, "names_size")?;
        end = add(0, end, padding(names_size, 8), "names padding")?;
        let vtables_size = num_vtables
            .unwrap_or(0)
            .checked_mul(if ptr == 8 { 24 } else { 16 })
            .ok_or_else(|| {
                fail(
                    header_size,
                    LlvmError::Overflow {
                        what: "num_vtables",
                        value: num_vtables.unwrap_or(0),
                    },
                )
            })?;
        let vtables_at = end;
        end = add(0, end, vtables_size, "num_vtables")?;
        end = add(0, end, padding(vtables_size, 8), "vtable padding")?;
        let vnames_at = end;
        let vnames_len = vnames_size.unwrap_or(0);
        end = add(0, end, vnames_len, "vnames_size")?;
        end = add(0, end, padding(vnames_len, 8), "vnames padding")?;
        let value_at = end;
        if value_at > data.len() as u64 {
            return Err(fail(
                data.len() as u64,
                LlvmError::SectionsPastEnd {
                    promised: value_at,
                    available: data.len() as u64,
                },
            ));
        }

        // Binary IDs: u64 length, the ID, padding to 8.
        let mut binary_ids = Vec::new();
        let mut id_at = header_size;
        while id_at < data_at {
            let len = input.seek(id_at).uint(8, "a binary ID's length")?;
            let padded = add(id_at, len, padding(len, 8), "binary ID length")?;
            if padded > data_at - id_at - 8 {
                return Err(fail(id_at, LlvmError::BinaryIdPastSection { len }));
            }
            binary_ids.push(input.seek(id_at + 8).bytes(len, "a binary ID")?.to_vec());
            id_at += 8 + padded;
        }

        let (names, names_compressed) = decode_names(
            input
                .seek(names_at)
                .bytes(names_size, "the names section")?,
            names_at,
        )?;
        let by_hash: HashMap<u64, &String> = names.iter().map(|n| (name_hash(n), n)).collect();
        if v10 {
            // Virtual-table names are validated like function names.
            decode_names(
                input
                    .seek(vnames_at)
                    .bytes(vnames_len, "the vtable names")?,
                vnames_at,
            )?;
        }
        let _ = vtables_at;

        input
            .seek(counters_at)
            .bytes(counters_size, "the counters section")?;
        let bitmap = input
            .seek(bitmap_at)
            .bytes(bitmap_size, "the bitmap section")?;
        let relative = version >= 8;
        let mut functions = Vec::new();
        let mut value_kinds_used = Vec::new();
        for i in 0..num_data {
            let rec = data_at + i * layout.size;
            let name_ref = input.seek(rec).uint(8, "a data record's name hash")?;
            let hash = input
                .seek(rec + 8)
                .uint(8, "a data record's function hash")?;
            let counter_ptr = input
                .seek(rec + layout.counter_ptr)
                .uint(ptr, "a counter pointer")?;
            let n = input
                .seek(rec + layout.num_counters)
                .uint(4, "a record's counter count")?;
            let mut value_sites = Vec::new();
            for k in 0..layout.kinds {
                value_sites.push(
                    input
                        .seek(rec + layout.value_sites + 2 * k)
                        .uint(2, "value sites")? as u16,
                );
            }
            let name = by_hash.get(&name_ref).ok_or_else(|| {
                fail(
                    rec,
                    LlvmError::UnknownNameHash {
                        record: i,
                        hash: name_ref,
                    },
                )
            })?;
            if n == 0 {
                return Err(fail(
                    rec + layout.num_counters,
                    LlvmError::NoCounters {
                        record: i,
                        function: (*name).clone(),
                    },
                ));
            }
            // Where this record's counters start in the counters section.
            let base = if relative {
                counters_delta.wrapping_sub(i.wrapping_mul(layout.size))
            } else {
                counters_delta
            };
            let off = ptr_diff(counter_ptr, base, layout.ptr);
            let first = u64::try_from(off)
                .ok()
                .filter(|o| o % 8 == 0)
                .filter(|o| o.checked_add(n * 8).is_some_and(|e| e <= counters_size))
                .ok_or_else(|| {
                    fail(
                        rec + layout.counter_ptr,
                        LlvmError::CountersOutside {
                            record: i,
                            function: (*name).clone(),
                            counters: n,
                            at: off,
                            section_size: counters_size,
                        },
                    )
                })?;
            let mut values = Vec::new();
            for c in 0..n {
                values.push(
                    input
                        .seek(counters_at + first + c * 8)
                        .uint(8, "a counter")?,
                );
            }
            let mut bits = Vec::new();
            let mut bitmap_offset = bitmap_at as usize;
            if let (Some(bp), Some(nb), Some(bd)) =
                (layout.bitmap_ptr, layout.num_bitmap_bytes, bitmap_delta)
            {
                let bitmap_ptr = input.seek(rec + bp).uint(ptr, "a bitmap pointer")?;
                let nbytes = input.seek(rec + nb).uint(4, "a record's bitmap size")?;
                if nbytes > 0 {
                    let base = bd.wrapping_sub(i.wrapping_mul(layout.size));
                    let off = ptr_diff(bitmap_ptr, base, layout.ptr);
                    let first = u64::try_from(off)
                        .ok()
                        .filter(|o| o.checked_add(nbytes).is_some_and(|e| e <= bitmap_size))
                        .ok_or_else(|| {
                            fail(
                                rec + bp,
                                LlvmError::BitmapOutside {
                                    record: i,
                                    function: (*name).clone(),
                                    bytes: nbytes,
                                    at: off,
                                    section_size: bitmap_size,
                                },
                            )
                        })?;
                    bits = bitmap
                        .get(first as usize..(first + nbytes) as usize)
                        .unwrap_or_default()
                        .to_vec();
                    bitmap_offset = (bitmap_at + first) as usize;
                }
            }
            value_kinds_used.push(value_sites.iter().any(|&s| s != 0));
            functions.push(Function {
                name: (*name).clone(),
                name_hash: name_ref,
                hash,
                counters: values,
                bitmap: bits,
                value_sites,
                offset: rec as usize,
                counters_offset: (counters_at + first) as usize,
                bitmap_offset,
            });
        }

        // Value-profile data: one block per record that has value sites,
        // each starting with its u32 total size. A hypervisor writes none and
        // leaves zeros, which is accepted.
        let mut vat = value_at;
        for (i, used) in value_kinds_used.iter().enumerate() {
            if !used {
                continue;
            }
            let rest = data.get(vat as usize..).unwrap_or_default();
            if rest.iter().all(|&b| b == 0) {
                break;
            }
            let total = input.seek(vat).uint(4, "a value-profile block's size")?;
            let kinds = input
                .seek(vat + 4)
                .uint(4, "a value-profile block's kind count")?;
            if total < 8 || total % 8 != 0 || kinds > layout.kinds {
                return Err(fail(
                    vat,
                    LlvmError::ValueBlock {
                        record: i,
                        bytes: total,
                        kinds,
                    },
                ));
            }
            input.seek(vat).bytes(total, "a value-profile block")?;
            vat += total;
        }
        let used_bytes = vat as usize;
        if let Some(p) = data
            .get(used_bytes..)
            .unwrap_or_default()
            .iter()
            .position(|&b| b != 0)
        {
            return Err(fail(
                (used_bytes + p) as u64,
                LlvmError::TrailingData { end: used_bytes },
            ));
        }
        Ok(RawProfile {
            endian,
            pointer_bytes: ptr,
            header,
            binary_ids,
            functions,
            names_compressed,
            value_data_bytes: (vat - value_at) as usize,
            used_bytes,
        })
    }
}

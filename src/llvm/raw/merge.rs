//! Merging raw profiles of one build, as `llvm-profdata merge` does for raw
//! inputs: counters summed, bitmaps or'ed, another build refused.

use super::*;

/// Why profiles cannot be merged: the input (index) and what differs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input {input}: {error}")]
pub struct MergeError {
    /// Which input (0 is the first) could not be merged.
    pub input: usize,
    /// What is wrong with it.
    pub error: Error,
}

/// Merges raw profiles of one build: counters are summed (each input's
/// multiplied by its weight; a sum that does not fit in 64 bits is an error,
/// never a wrapped count), MC/DC bitmaps ORed. The result is the first
/// input's bytes (without its zero fill) with the merged values written in
/// place, so it is a raw profile of the same version that `llvm-profdata`
/// reads. Profiles of another build are refused: a different version, byte
/// order, build ID, or function list (name, structural hash, counter and
/// bitmap sizes, in the same order), where `llvm-profdata merge` would keep
/// the functions of both builds side by side or stop at a counter mismatch.
/// Value-profile data is not merged: profiles that carry some are refused.
pub fn merge(inputs: &[(&[u8], u64)]) -> std::result::Result<Vec<u8>, MergeError> {
    let err = |input: usize, error: Error| MergeError { input, error };
    let mut decoded = Vec::with_capacity(inputs.len());
    for (i, (bytes, _)) in inputs.iter().enumerate() {
        decoded.push(RawProfile::decode(bytes).map_err(|e| err(i, e))?);
    }
    let Some(first) = decoded.first() else {
        return Err(err(0, fail(0, LlvmError::NothingToMerge)));
    };
    let mut out = inputs
        .first()
        .and_then(|(b, _)| b.get(..first.used_bytes))
        .unwrap_or_default()
        .to_vec();
    let mut sums: Vec<Vec<u64>> = first
        .functions
        .iter()
        .map(|f| vec![0; f.counters.len()])
        .collect();
    let mut bits: Vec<Vec<u8>> = first
        .functions
        .iter()
        .map(|f| vec![0; f.bitmap.len()])
        .collect();
    for (i, (p, (_, weight))) in decoded.iter().zip(inputs).enumerate() {
        if p.value_data_bytes != 0 {
            return Err(err(
                i,
                fail(
                    p.used_bytes as u64 - p.value_data_bytes as u64,
                    LlvmError::MergeValueData,
                ),
            ));
        }
        let what = if p.header.version != first.header.version {
            Some(LlvmError::MergeVersion {
                version: p.header.version,
                first: first.header.version,
            })
        } else if p.endian != first.endian || p.pointer_bytes != first.pointer_bytes {
            Some(LlvmError::MergeLayout {
                big_endian: p.endian == Endian::Big,
                pointer_bytes: p.pointer_bytes,
                first_big_endian: first.endian == Endian::Big,
                first_pointer_bytes: first.pointer_bytes,
            })
        } else if !p.binary_ids.is_empty()
            && !first.binary_ids.is_empty()
            && p.binary_ids != first.binary_ids
        {
            Some(LlvmError::MergeBuildId)
        } else if p.functions.len() != first.functions.len() {
            Some(LlvmError::MergeFunctionCount {
                functions: p.functions.len(),
                first: first.functions.len(),
            })
        } else {
            None
        };
        if let Some(what) = what {
            return Err(err(i, fail(0, what)));
        }
        for (k, (f, g)) in p.functions.iter().zip(&first.functions).enumerate() {
            if f.name_hash != g.name_hash
                || f.hash != g.hash
                || f.counters.len() != g.counters.len()
                || f.bitmap.len() != g.bitmap.len()
            {
                return Err(err(
                    i,
                    fail(
                        f.offset as u64,
                        LlvmError::MergeFunction {
                            index: k,
                            name: f.name.clone(),
                            hash: f.hash,
                            counters: f.counters.len(),
                            first_name: g.name.clone(),
                            first_hash: g.hash,
                            first_counters: g.counters.len(),
                        },
                    ),
                ));
            }
            for ((sum, &c), n) in sums
                .get_mut(k)
                .into_iter()
                .flatten()
                .zip(&f.counters)
                .zip(0u64..)
            {
                *sum = c
                    .checked_mul(*weight)
                    .and_then(|w| sum.checked_add(w))
                    .ok_or_else(|| {
                        err(
                            i,
                            fail(
                                f.counters_offset as u64 + 8 * n,
                                LlvmError::MergeOverflow {
                                    counter: n,
                                    function: f.name.clone(),
                                },
                            ),
                        )
                    })?;
            }
            if *weight != 0 {
                for (b, &x) in bits.get_mut(k).into_iter().flatten().zip(&f.bitmap) {
                    *b |= x;
                }
            }
        }
    }
    let endian = first.endian;
    for ((f, sum), bitmap) in first.functions.iter().zip(&sums).zip(&bits) {
        for (n, v) in sum.iter().enumerate() {
            let bytes = match endian {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            let at = f.counters_offset + 8 * n;
            if let Some(dst) = out.get_mut(at..at + 8) {
                dst.copy_from_slice(&bytes);
            }
        }
        if let Some(dst) = out.get_mut(f.bitmap_offset..f.bitmap_offset + bitmap.len()) {
            dst.copy_from_slice(bitmap);
        }
    }
    Ok(out)
}

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
        return Err(err(0, invalid(0, "no profile to merge".into())));
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
                invalid(
                    p.used_bytes as u64 - p.value_data_bytes as u64,
                    "the profile carries value-profile data, which merge does not combine".into(),
                ),
            ));
        }
        let what = if p.header.version != first.header.version {
            Some(format!(
                "raw profile version {} is not the first input's {}",
                p.header.version, first.header.version
            ))
        } else if p.endian != first.endian || p.pointer_bytes != first.pointer_bytes {
            Some("the byte order or pointer size differs from the first input's".into())
        } else if !p.binary_ids.is_empty()
            && !first.binary_ids.is_empty()
            && p.binary_ids != first.binary_ids
        {
            Some("its build ID differs from the first input's: another build".into())
        } else if p.functions.len() != first.functions.len() {
            Some(format!(
                "it has {} where the first input has {}: another build",
                count(p.functions.len() as u64, "function", "functions"),
                first.functions.len()
            ))
        } else {
            None
        };
        if let Some(what) = what {
            return Err(err(i, invalid(0, what)));
        }
        for (k, (f, g)) in p.functions.iter().zip(&first.functions).enumerate() {
            if f.name_hash != g.name_hash
                || f.hash != g.hash
                || f.counters.len() != g.counters.len()
                || f.bitmap.len() != g.bitmap.len()
            {
                return Err(err(
                    i,
                    invalid(
                        f.offset as u64,
                        format!(
                            "function {k} is {} (hash {:#x}, {}), but in the first input {} \
                             (hash {:#x}, {}): another build",
                            f.name,
                            f.hash,
                            count(f.counters.len() as u64, "counter", "counters"),
                            g.name,
                            g.hash,
                            count(g.counters.len() as u64, "counter", "counters")
                        ),
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
                            invalid(
                                f.counters_offset as u64 + 8 * n,
                                format!("counter {n} of {} overflows 64 bits when merged", f.name),
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

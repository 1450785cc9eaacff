//! Checked arithmetic of counts: where libgcov wraps modulo 2^64, a result
//! past [`MAX_COUNT`] saturates and is counted in `saturated`.

use super::MAX_COUNT;

/// `a + b` of two counts (arcs, interval, pow2; an average's two values
/// are gcov_type sums, see [`add_value`]). An
/// input value already above `MAX_COUNT` (a counter libgcov wrapped past
/// 2^63) plus 0 is left as it is; plus more, the result is the largest of
/// the two and `MAX_COUNT`: never less than an input, never wrapped.
pub(super) fn add(a: u64, b: u64, saturated: &mut usize) -> u64 {
    if a == 0 || b == 0 {
        return a | b;
    }
    match a.checked_add(b) {
        Some(sum) if sum <= MAX_COUNT => sum,
        _ => {
            *saturated += 1;
            MAX_COUNT.max(a).max(b)
        }
    }
}

/// `a × w` of a count, saturating as [`add`] does.
pub(super) fn mul(a: u64, w: u64, saturated: &mut usize) -> u64 {
    if a == 0 || w <= 1 {
        return if w == 0 { 0 } else { a };
    }
    match a.checked_mul(w) {
        Some(p) if p <= MAX_COUNT => p,
        _ => {
            *saturated += 1;
            MAX_COUNT.max(a)
        }
    }
}

/// Holds a signed result within ±`MAX_COUNT`.
fn fit(x: i128, saturated: &mut usize) -> i64 {
    let max = i128::from(i64::MAX);
    if x > max {
        *saturated += 1;
        i64::MAX
    } else if x < -max {
        *saturated += 1;
        -i64::MAX
    } else {
        // In range by the two tests above.
        i64::try_from(x).unwrap_or(i64::MAX)
    }
}

/// `a + b` of two gcov_type values (votes, top-N totals and counts, an
/// average's sum of values), saturating at ±`MAX_COUNT`.
pub(super) fn add_signed_i64(a: i64, b: i64, saturated: &mut usize) -> i64 {
    if a == 0 || b == 0 {
        return a | b;
    }
    fit(i128::from(a) + i128::from(b), saturated)
}

/// [`add_signed_i64`] of two words as stored.
pub(super) fn add_signed(a: u64, b: u64, saturated: &mut usize) -> u64 {
    add_signed_i64(a as i64, b as i64, saturated) as u64
}

/// `a × w` of a gcov_type value, saturating at ±`MAX_COUNT`.
pub(super) fn mul_signed(a: u64, w: u64, saturated: &mut usize) -> u64 {
    let a = a as i64;
    if a == 0 || w <= 1 {
        return if w == 0 { 0 } else { a as u64 };
    }
    fit(i128::from(a) * i128::from(w), saturated) as u64
}

/// An Add-rule value: an average's values are signed sums, the others counts.
pub(super) fn add_value(a: u64, b: u64, signed: bool, saturated: &mut usize) -> u64 {
    if signed {
        add_signed(a, b, saturated)
    } else {
        add(a, b, saturated)
    }
}

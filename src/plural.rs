//! Counted nouns for messages: "1 unit", "2 units", "0 units".

use std::fmt::Display;

/// `n` followed by `one` when `n` is 1, by `many` otherwise.
pub fn count<N: Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    if n == N::from(1) {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1usize, "unit", "units"), "1 unit");
        assert_eq!(count(0usize, "unit", "units"), "0 units");
        assert_eq!(count(2u64, "gcda file", "gcda files"), "2 gcda files");
        assert_eq!(count(1u32, "byte", "bytes"), "1 byte");
    }
}

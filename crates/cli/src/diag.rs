//! The one place warnings are printed, counted, and turned into errors by
//! `--strict`. Every command that warns takes a [`Diagnostics`]; no command
//! decides on its own what `--strict` means.
//!
//! Two levels: [`Diagnostics::warn`] for what may make the output wrong or
//! incomplete (escalated by `--strict`), [`Diagnostics::note`] for what the
//! user should know but leaves the output right (never escalated: sources
//! that cannot be read for exclusion markers or HTML pages, dot-named
//! files). The library returns these as typed values; the command renders
//! them here. Status lines (what was written) are not diagnostics.

use std::cell::Cell;
use std::fmt::Display;

/// Warnings of one command run.
pub struct Diagnostics {
    strict: bool,
    warnings: Cell<usize>,
}

impl Diagnostics {
    /// Warnings are printed and counted; with `strict`, the first one is the
    /// error that stops the command (before anything is written).
    pub fn new(strict: bool) -> Diagnostics {
        Diagnostics {
            strict,
            warnings: Cell::new(0),
        }
    }

    /// Reports a warning: printed as `xencov-rs: warning: ...`, or, with
    /// `--strict`, returned as the command's error.
    pub fn warn(&self, msg: impl Display) -> anyhow::Result<()> {
        if self.strict {
            anyhow::bail!("{msg} (a warning, an error with --strict)");
        }
        eprintln!("xencov-rs: warning: {msg}");
        self.warnings.set(self.warnings.get() + 1);
        Ok(())
    }

    /// Something the user should know that is not wrong: printed as
    /// `xencov-rs: note: ...`, never counted, never an error (not even
    /// with `--strict`).
    pub fn note(&self, msg: impl Display) {
        eprintln!("xencov-rs: note: {msg}");
    }

    /// How many warnings were printed.
    pub fn count(&self) -> usize {
        self.warnings.get()
    }
}

/// The first `at_most` of `items` joined by commas, and how many more there
/// are: what a one-line warning about many files or units names.
pub fn first_few(items: &[String], at_most: usize) -> String {
    let shown = items
        .iter()
        .take(at_most)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().checked_sub(at_most) {
        Some(more) if more > 0 => format!("{shown} and {more} more"),
        _ => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::first_few;

    #[test]
    fn first_few_names_the_first_and_counts_the_rest() {
        let v: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!(first_few(&v, 3), "a, b, c and 2 more");
        assert_eq!(first_few(&v, 5), "a, b, c, d, e");
        assert_eq!(first_few(&v[..1], 3), "a");
        assert_eq!(first_few(&[], 3), "");
    }
}

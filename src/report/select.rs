//! What CI jobs ask of a report beyond its figures: which source files it
//! covers (gcovr's `--filter`/`--exclude`/`-r`, lcov's `--no-external`) and
//! whether the totals meet the wanted thresholds (gcovr's `--fail-under-*`).
//! Pure: paths and totals in, verdicts out.

use crate::report::Totals;
use regex::Regex;

/// A source-path regular expression as gcovr applies it (gcovr 8.8,
/// `gcovr/filter.py`): one that starts with `/` is matched against the
/// absolute path; any other against the path relative to the root (with
/// `../` for files outside it). Matching is Python's `re.match`: anchored
/// at the start of the path, not at its end, so `src/` keeps everything
/// below `src` and `.*\.c` also matches `a.cc`; add `$` for a full match.
#[derive(Debug, Clone)]
pub struct PathRegex {
    text: String,
    regex: Regex,
}

impl PathRegex {
    /// Compiles `text` as gcovr compiles a `--filter`/`--exclude` pattern: anchored at
    /// the start only (Python's `re.match`).
    pub fn new(text: &str) -> Result<Self, regex::Error> {
        // `^(?:…)`: anchored at the start only, as `re.match` is.
        let regex = Regex::new(&format!("^(?:{text})"))?;
        Ok(Self {
            text: text.to_string(),
            regex,
        })
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn absolute(&self) -> bool {
        self.text.starts_with('/')
    }
}

/// Which source files a report keeps. Paths are compared as text, folded
/// (`.` and `..` removed) but with symlinks unresolved: they are the paths
/// the compiler recorded, which need not exist where the report is made.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The project root, absolute and folded: relative patterns are matched
    /// against paths relative to it; without `include`, only files below it
    /// are kept (gcovr's `-r` without `--filter`; lcov's `--no-external`).
    pub root: Option<String>,
    /// What relative patterns are relative to without a root (gcovr: the
    /// working directory), absolute and folded.
    pub base: String,
    /// Keep a file when any of these matches (all files when empty,
    /// or all below the root when there is one).
    pub include: Vec<PathRegex>,
    /// Then drop it when any of these matches.
    pub exclude: Vec<PathRegex>,
}

impl Selection {
    /// Nothing to select: every file is kept.
    pub fn is_everything(&self) -> bool {
        self.root.is_none() && self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether the report keeps the source file `path` (as the tracefile
    /// names it: absolute unless the notes recorded no directory).
    pub fn keeps(&self, path: &str) -> bool {
        let base = self.root.as_deref().unwrap_or(&self.base);
        let matches = |p: &PathRegex| {
            if p.absolute() {
                p.regex.is_match(path)
            } else {
                p.regex.is_match(&relative_path(path, base))
            }
        };
        let included = if self.include.is_empty() {
            self.root
                .as_deref()
                .is_none_or(|r| under_root(path, r).is_some())
        } else {
            self.include.iter().any(matches)
        };
        included && !self.exclude.iter().any(matches)
    }
}

/// `path` relative to `root` when it lies strictly below it.
pub fn under_root<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    let root = root.trim_end_matches('/');
    path.strip_prefix(root)?
        .strip_prefix('/')
        .filter(|rel| !rel.is_empty())
}

/// `path` relative to the directory `base`, as Python's `os.path.relpath`
/// writes it (`../` for each of `base`'s components not shared). A relative
/// `path` (notes without a directory) is returned as it is.
pub fn relative_path(path: &str, base: &str) -> String {
    if !path.starts_with('/') {
        return path.to_string();
    }
    let p: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let b: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len().saturating_sub(common)];
    parts.extend(p.iter().skip(common));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// What a threshold is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Lines (`--fail-under-line`).
    Line,
    /// Branch outcomes (`--fail-under-branch`).
    Branch,
    /// Functions (`--fail-under-function`).
    Function,
    /// Condition outcomes of GCC 14+ `-fcondition-coverage` (the summary's
    /// `conditions` column).
    Condition,
}

impl Metric {
    /// The metric's name in messages: `line`, `branch`, `function`, `condition`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Line => "line",
            Self::Branch => "branch",
            Self::Function => "function",
            Self::Condition => "condition",
        }
    }

    fn of(self, t: &Totals) -> (usize, usize) {
        match self {
            Self::Line => t.lines,
            Self::Branch => t.branches,
            Self::Function => t.functions,
            Self::Condition => t.conditions,
        }
    }
}

/// The percentage thresholds compare: the summary table's, gcovr's rule.
pub use crate::report::percent;

/// A threshold that was not met.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    /// The metric whose threshold was missed.
    pub metric: Metric,
    /// Items of the metric covered, over the selected files.
    pub hit: usize,
    /// Items of the metric recorded, over the selected files.
    pub found: usize,
    /// The rounded percentage that was compared.
    pub actual: f64,
    /// The threshold asked for, in percent.
    pub wanted: f64,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} coverage {:.1}% ({}/{}) is under the wanted {}%: {:.1} points short",
            self.metric.name(),
            self.actual,
            self.hit,
            self.found,
            self.wanted,
            self.wanted - self.actual
        )
    }
}

/// The thresholds the totals miss, in the order given. As gcovr: a
/// threshold of 0 checks nothing, and a metric with nothing found (no
/// branches at all) counts as 100% covered.
pub fn shortfalls(totals: &Totals, wanted: &[(Metric, f64)]) -> Vec<Shortfall> {
    wanted
        .iter()
        .filter(|(_, w)| *w > 0.0)
        .filter_map(|&(metric, wanted)| {
            let (hit, found) = metric.of(totals);
            let actual = percent((hit, found)).unwrap_or(100.0);
            (actual < wanted).then_some(Shortfall {
                metric,
                hit,
                found,
                actual,
                wanted,
            })
        })
        .collect()
}

/// A `--fail-under-*` value: a percentage from 0 to 100, with or without a
/// trailing `%` (as gcovr reads it).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .strip_suffix('%')
        .unwrap_or(s)
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s} is not in 0..100"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_as_gcovr() {
        // gcovr's doctests of CoverageStat.percent_or.
        assert_eq!(percent((1234, 10000)), Some(12.3));
        assert_eq!(percent((9999, 10000)), Some(99.9));
        assert_eq!(percent((10000, 10000)), Some(100.0));
        assert_eq!(percent((0, 0)), None);
        // 106/154 = 68.831…
        assert_eq!(percent((106, 154)), Some(68.8));
        // 1/8 = 12.5 exactly: half-even, as Python's round(12.5, 1) = 12.5.
        assert_eq!(percent((1, 8)), Some(12.5));
        // 1/16 = 6.25 exactly in binary: Python's round(6.25, 1) is 6.2.
        assert_eq!(percent((1, 16)), Some(6.2));
    }

    #[test]
    fn thresholds() {
        let t = Totals {
            lines: (106, 154),
            functions: (12, 16),
            branches: (0, 0),
            conditions: (0, 0),
        };
        let w = [
            (Metric::Line, 68.8),
            (Metric::Function, 75.1),
            (Metric::Branch, 100.0),
        ];
        let s = shortfalls(&t, &w);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].metric, Metric::Function);
        assert_eq!(
            s[0].to_string(),
            "function coverage 75.0% (12/16) is under the wanted 75.1%: 0.1 points short"
        );
        assert!(shortfalls(&t, &[(Metric::Line, 68.9)]).len() == 1);
        assert!(shortfalls(&t, &[(Metric::Line, 0.0)]).is_empty());
    }

    #[test]
    fn percent_arguments() {
        assert_eq!(parse_percent("80"), Ok(80.0));
        assert_eq!(parse_percent("80.5%"), Ok(80.5));
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("x").is_err());
    }

    #[test]
    fn relative_paths_as_python() {
        assert_eq!(relative_path("/a/b/c.c", "/a"), "b/c.c");
        assert_eq!(relative_path("/a/b/c.c", "/a/x"), "../b/c.c");
        assert_eq!(
            relative_path("/usr/include/x.h", "/a/b"),
            "../../usr/include/x.h"
        );
        assert_eq!(relative_path("/a", "/a"), ".");
        assert_eq!(relative_path("rel.c", "/a"), "rel.c");
    }

    fn sel(root: Option<&str>, inc: &[&str], exc: &[&str]) -> Selection {
        Selection {
            root: root.map(String::from),
            base: "/cwd".into(),
            include: inc.iter().map(|p| PathRegex::new(p).unwrap()).collect(),
            exclude: exc.iter().map(|p| PathRegex::new(p).unwrap()).collect(),
        }
    }

    #[test]
    fn selections_as_gcovr() {
        // The root alone keeps what is below it.
        let s = sel(Some("/p"), &[], &[]);
        assert!(s.keeps("/p/a.c") && !s.keeps("/usr/include/stdio.h") && !s.keeps("/pq/a.c"));
        // Relative patterns: relative to the root, anchored at the start only.
        let s = sel(Some("/p"), &["src/"], &[]);
        assert!(s.keeps("/p/src/a.c") && !s.keeps("/p/test/src/a.c"));
        // An include pattern may reach outside the root.
        let s = sel(Some("/p"), &["/usr/"], &[]);
        assert!(s.keeps("/usr/include/x.h") && !s.keeps("/p/a.c"));
        let s = sel(Some("/p"), &[r"\.\./q/"], &[]);
        assert!(s.keeps("/q/a.c"));
        // Exclusions after inclusions; without a root, relative to the base.
        let s = sel(None, &[], &[r".*\.h$", "/usr/"]);
        assert!(s.keeps("/p/a.c") && !s.keeps("/p/a.h") && !s.keeps("/usr/lib/x.c"));
        let s = sel(None, &["src"], &[]);
        assert!(s.keeps("/cwd/src/a.c") && !s.keeps("/other/src/a.c"));
        assert!(sel(None, &[], &[]).is_everything());
    }
}

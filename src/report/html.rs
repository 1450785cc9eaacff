//! A static HTML report: an index with the totals and a row per directory
//! and source file (lines, functions, branches and, when the data has them,
//! condition outcomes, each with a bar), and one page per source file with
//! every line's count, its branches taken and not taken and its uncovered
//! conditions, colour-coded. Plain HTML and one CSS file: no server and no
//! JavaScript is needed to read it.
//!
//! Pure: the caller gives the [`Tracefile`] (already selected, its names as
//! the report should show them) and each file's source text, and gets back
//! where each page goes ([`Site::pages`], relative paths made of normal
//! components only, so that they cannot leave the report's directory) and
//! the bytes of each page, written to any [`io::Write`]. The figures are the
//! ones `report --format summary` prints ([`super::totals`], gcovr's
//! percentages).
//!
//! The file stays whole (about 490 lines): the index and the file pages share
//! one stylesheet, one escaping and one page-path scheme (which keeps every
//! page inside the output directory); most of it is markup.

use super::{Totals, percent, totals};
use crate::report::lcov::{Count, FileRecord, Sense, Tracefile};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// The index page's path, relative to the report's directory.
pub const INDEX: &str = "index.html";
/// The style sheet's path, relative to the report's directory.
pub const STYLE: &str = "xencov.css";
/// What the index's `generator` meta tag says: a directory whose
/// `index.html` holds it is a report this program wrote (and may replace).
pub const GENERATOR: &str = "<meta name=\"generator\" content=\"xencov-rs\">";

/// The style sheet every page links to.
pub const CSS: &str = "\
body{font-family:sans-serif;margin:1em 2em;color:#222;background:#fff}
h1{font-size:1.4em;margin:.2em 0}
p.note{background:#fff4d6;border:1px solid #e0c060;padding:.4em .6em}
table.cov{border-collapse:collapse;margin:.8em 0}
table.cov th,table.cov td{padding:.15em .5em;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
table.cov th{background:#e8e8f0}
table.cov td.name{text-align:left}
table.cov tr.dir td{background:#f0f0f6;font-weight:bold}
table.cov tr.total td{background:#dde;font-weight:bold}
table.cov tr.file td.name{padding-left:1.5em}
.bar{display:inline-block;width:6em;height:.8em;background:#e6b0b0;vertical-align:middle}
.bar span{display:block;height:100%}
.hi .bar span{background:#4a4}.med .bar span{background:#dc4}.lo .bar span{background:#d44}
td.hi{color:#060}td.med{color:#760}td.lo{color:#a00}
.pct{display:inline-block;min-width:3.5em}
table.src{width:100%;border-collapse:collapse;font-family:monospace;font-size:90%}
table.src td{padding:0 .4em;vertical-align:top;white-space:pre;tab-size:8}
table.src td.s{width:100%}
table.src td.n{text-align:right;color:#777;border-right:1px solid #ccc}
table.src td.n a{color:inherit;text-decoration:none}
table.src td.c{text-align:right;border-right:1px solid #ccc;min-width:4em}
table.src td.b{border-right:1px solid #ccc}
tr.hit td.c,tr.hit td.s{background:#cfc}
tr.miss td.c,tr.miss td.s{background:#fcc}
tr.part td.c,tr.part td.s{background:#ffc}
span.bt{color:#060}span.bn{color:#a00;font-weight:bold}span.bx{color:#a00;font-weight:bold}
span.cu{color:#a00;font-size:85%;white-space:normal}
table.fn td.name a{color:inherit}
";

/// Where each source file's page goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    /// Source name (as the tracefile names it) -> the page's path relative to
    /// the report's directory: `/`-separated normal components, never `.`,
    /// `..` or empty, ending in `.html`, none of them [`INDEX`] or [`STYLE`],
    /// and no page path a directory of another.
    pub pages: BTreeMap<String, String>,
}

/// A page path's components for a source name: a leading `/` and `.` or
/// empty components dropped, `..` written `__` (a name that would climb
/// out of the report), `.html` appended to the last.
fn page_parts(name: &str) -> Vec<String> {
    let mut parts: Vec<String> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .map(|p| {
            if p == ".." {
                "__".to_string()
            } else {
                p.to_string()
            }
        })
        .collect();
    match parts.last_mut() {
        Some(last) => last.push_str(".html"),
        None => parts.push("_.html".to_string()),
    }
    parts
}

impl Site {
    /// One page per source file of `t`, at its name below the report's
    /// directory (`/src/xen/common/sched.c` → `src/xen/common/sched.c.html`).
    /// Two names that would land on one path (`/a/b.c` and `a/b.c`, or a page
    /// that is another's directory) get distinct ones (`b.c~2.html`).
    pub fn new(t: &Tracefile) -> Site {
        let mut files: BTreeSet<String> = [INDEX.to_string(), STYLE.to_string()].into();
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        let mut pages = BTreeMap::new();
        for name in t.files.keys() {
            let parts = page_parts(name);
            let (leaf, dir_parts) = match parts.split_last() {
                Some((leaf, d)) => (leaf.clone(), d.to_vec()),
                None => ("_.html".to_string(), Vec::new()),
            };
            // Every prefix directory must not be a page.
            let mut dir = String::new();
            let mut dir_list = Vec::new();
            for p in &dir_parts {
                let mut d = if dir.is_empty() {
                    p.clone()
                } else {
                    format!("{dir}/{p}")
                };
                let mut n = 2;
                while files.contains(&d) {
                    d = if dir.is_empty() {
                        format!("{p}~{n}")
                    } else {
                        format!("{dir}/{p}~{n}")
                    };
                    n += 1;
                }
                dir = d;
                dir_list.push(dir.clone());
            }
            let stem = leaf.strip_suffix(".html").unwrap_or(&leaf).to_string();
            let join = |leaf: &str| {
                if dir.is_empty() {
                    leaf.to_string()
                } else {
                    format!("{dir}/{leaf}")
                }
            };
            let mut path = join(&leaf);
            let mut n = 2;
            while files.contains(&path) || dirs.contains(&path) {
                path = join(&format!("{stem}~{n}.html"));
                n += 1;
            }
            files.insert(path.clone());
            dirs.extend(dir_list);
            pages.insert(name.clone(), path);
        }
        Site { pages }
    }
}

/// HTML-escaped text (element content and attribute values).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `href` of `target` from a page at `from` (both relative to the report's
/// directory), each component percent-encoded where a URL needs it.
fn href(from: &str, target: &str) -> String {
    let depth = from.matches('/').count();
    let mut s = "../".repeat(depth);
    for (i, part) in target.split('/').enumerate() {
        if i > 0 {
            s.push('/');
        }
        for b in part.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
                s.push(char::from(b));
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
    }
    escape(&s)
}

/// lcov's colour classes (genhtml's default limits: 90% and 75%).
fn level(p: Option<f64>) -> &'static str {
    match p {
        None => "none",
        Some(p) if p >= 90.0 => "hi",
        Some(p) if p >= 75.0 => "med",
        Some(_) => "lo",
    }
}

/// One figure's cell: bar, percentage, hit/found, with the metric as
/// class and the numbers in their own elements (tests read them back).
fn cell(w: &mut impl Write, metric: &str, v: (usize, usize)) -> io::Result<()> {
    let p = percent(v);
    let lvl = level(p);
    let shown = p.map_or_else(|| "-".to_string(), |p| format!("{p:.1}%"));
    let width = p.unwrap_or(0.0);
    write!(
        w,
        "<td class=\"{metric} {lvl}\"><span class=\"bar\"><span style=\"width:{width:.1}%\"></span></span> \
         <span class=\"pct\">{shown}</span> <span class=\"hit\">{}</span>/<span class=\"found\">{}</span></td>",
        v.0, v.1
    )
}

/// A metric's name (its cells' class) and how to get its figures.
type Metric = (&'static str, fn(&Totals) -> (usize, usize));

/// The metrics shown: conditions only when the data has any.
fn metrics(all: &Totals) -> Vec<Metric> {
    let mut m: Vec<Metric> = vec![
        ("lines", |t| t.lines),
        ("functions", |t| t.functions),
        ("branches", |t| t.branches),
    ];
    if all.conditions.1 > 0 {
        m.push(("conditions", |t| t.conditions));
    }
    m
}

fn head(w: &mut impl Write, title: &str, page: &str) -> io::Result<()> {
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{GENERATOR}\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{}\">\n</head>\n<body>\n",
        escape(title),
        href(page, STYLE)
    )
}

fn file_totals(rec: &FileRecord) -> Totals {
    Totals {
        lines: (rec.lines_hit(), rec.lines.len()),
        functions: (rec.functions_hit(), rec.functions.len()),
        branches: (rec.branches_hit(), rec.branches.len()),
        conditions: (rec.conditions_hit(), rec.conditions.len()),
    }
}

fn header_row(w: &mut impl Write, first: &str, m: &[Metric]) -> io::Result<()> {
    write!(w, "<tr><th class=\"name\">{first}</th>")?;
    for (name, _) in m {
        write!(w, "<th>{name}</th>")?;
    }
    writeln!(w, "</tr>")
}

/// A row of figures; `data` is the source name or directory it stands for
/// (a `data-name` attribute, for tests and scripts).
fn totals_row(
    w: &mut impl Write,
    class: &str,
    data: Option<&str>,
    name_html: &str,
    v: &Totals,
    m: &[Metric],
) -> io::Result<()> {
    write!(w, "<tr class=\"{class}\"")?;
    if let Some(d) = data {
        write!(w, " data-name=\"{}\"", escape(d))?;
    }
    write!(w, "><td class=\"name\">{name_html}</td>")?;
    for (metric, get) in m {
        cell(w, metric, get(v))?;
    }
    writeln!(w, "</tr>")
}

/// The index: the totals, then each directory's row followed by the rows of
/// its files, each name linking to the file's page. `title` heads the page.
pub fn write_index(w: &mut impl Write, t: &Tracefile, site: &Site, title: &str) -> io::Result<()> {
    let (dirs, all) = totals(t);
    let m = metrics(&all);
    head(w, title, INDEX)?;
    writeln!(w, "<h1>{}</h1>", escape(title))?;
    writeln!(w, "<table class=\"cov\" id=\"totals\">")?;
    header_row(w, "", &m)?;
    totals_row(w, "total", None, "total", &all, &m)?;
    writeln!(w, "</table>")?;
    writeln!(w, "<table class=\"cov\" id=\"files\">")?;
    header_row(w, "directory / file", &m)?;
    let mut files = t.files.iter().peekable();
    for (dir, v) in &dirs {
        totals_row(w, "dir", Some(dir), &escape(dir), v, &m)?;
        // Files of this directory follow it (tracefile order is by name and
        // `totals` groups by the same directory rule).
        while let Some((name, rec)) = files.peek() {
            if super::dir_of(name) != dir.as_str() {
                break;
            }
            let leaf = name.rsplit('/').next().unwrap_or(name);
            let link = match site.pages.get(*name) {
                Some(p) => format!("<a href=\"{}\">{}</a>", href(INDEX, p), escape(leaf)),
                None => escape(leaf),
            };
            totals_row(w, "file", Some(name), &link, &file_totals(rec), &m)?;
            files.next();
        }
    }
    writeln!(w, "</table>")?;
    writeln!(w, "</body>\n</html>")
}

/// What the caller knows of a file's source text.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The file's bytes (shown as UTF-8, invalid sequences replaced).
    Text(&'a [u8]),
    /// Not readable: the note says where it was looked for and why.
    Missing(&'a str),
}

/// Branch markers of a line: `+` taken, `-` not taken, `#` never
/// executed (lcov's `-`), each with its count in the title.
fn branch_cell(w: &mut impl Write, brs: &[Option<Count>]) -> io::Result<()> {
    write!(w, "<td class=\"b\">")?;
    for b in brs {
        match b {
            Some(c) if *c > 0 => {
                write!(w, "<span class=\"bt\" title=\"taken {c} times\">+</span>")?
            }
            Some(_) => write!(w, "<span class=\"bn\" title=\"not taken\">-</span>")?,
            None => write!(w, "<span class=\"bx\" title=\"never executed\">#</span>")?,
        }
    }
    write!(w, "</td>")
}

/// The uncovered condition outcomes of a line, as gcov -g words them.
fn conditions_note(rec: &FileRecord, line: u32) -> String {
    let mut missing = Vec::new();
    for ((_, terms, term, sense), c) in rec
        .conditions
        .range((line, 0, 0, Sense::True)..=(line, u32::MAX, u32::MAX, Sense::False))
    {
        if *c == 0 {
            let s = match sense {
                Sense::True => "true",
                Sense::False => "false",
            };
            missing.push(format!("condition {term} of {terms} never {s}"));
        }
    }
    missing.join("; ")
}

/// A source file's page: its totals, its functions, and its lines with
/// counts, branches and uncovered conditions. Lines past the end of the
/// source text, or all of them when it is missing, are shown with their
/// figures and no text.
pub fn write_file_page(
    w: &mut impl Write,
    name: &str,
    rec: &FileRecord,
    source: Source<'_>,
    site: &Site,
    title: &str,
) -> io::Result<()> {
    let page = site.pages.get(name).map_or(INDEX, String::as_str);
    let tot = file_totals(rec);
    let m = metrics(&tot);
    head(w, &format!("{name} - {title}"), page)?;
    writeln!(
        w,
        "<p><a href=\"{}\">{}</a></p>\n<h1>{}</h1>",
        href(page, INDEX),
        escape(title),
        escape(name)
    )?;
    writeln!(w, "<table class=\"cov\" id=\"totals\">")?;
    header_row(w, "", &m)?;
    totals_row(w, "total", Some(name), "this file", &tot, &m)?;
    writeln!(w, "</table>")?;

    let text = match source {
        Source::Text(b) => Some(String::from_utf8_lossy(b)),
        Source::Missing(note) => {
            writeln!(
                w,
                "<p class=\"note\">Source not available: {}. The lines with coverage data are shown by number.</p>",
                escape(note)
            )?;
            None
        }
    };
    let lines: Vec<&str> = text
        .as_deref()
        .map_or_else(Vec::new, |t| t.lines().collect());
    let last_data = rec
        .lines
        .keys()
        .chain(rec.branches.keys().map(|k| &k.0))
        .chain(rec.functions.values().map(|f| &f.0))
        .max()
        .copied()
        .unwrap_or(0);
    if text.is_some() && (last_data as usize) > lines.len() {
        writeln!(
            w,
            "<p class=\"note\">The source has {} lines but the coverage data names line {last_data}: \
             it is probably not the version that was compiled.</p>",
            lines.len()
        )?;
    }

    // Functions, by line, linking to their first line.
    if !rec.functions.is_empty() {
        let mut fns: Vec<(&String, &(u32, Count))> = rec.functions.iter().collect();
        fns.sort_by_key(|(n, (l, _))| (*l, (*n).clone()));
        writeln!(
            w,
            "<table class=\"cov fn\" id=\"functions\">\n<tr><th class=\"name\">function</th><th>line</th><th>calls</th></tr>"
        )?;
        for (n, (l, c)) in fns {
            let cls = if *c > 0 { "hi" } else { "lo" };
            writeln!(
                w,
                "<tr class=\"fn\"><td class=\"name\"><a href=\"#L{l}\">{}</a></td><td>{l}</td><td class=\"{cls}\">{c}</td></tr>",
                escape(n)
            )?;
        }
        writeln!(w, "</table>")?;
    }

    // Branches per line, in block and branch order.
    let mut branches: BTreeMap<u32, Vec<Option<Count>>> = BTreeMap::new();
    for ((l, _, _), b) in &rec.branches {
        branches.entry(*l).or_default().push(*b);
    }
    let has_branches = !rec.branches.is_empty();
    writeln!(w, "<table class=\"src\" id=\"source\">")?;
    write!(w, "<tr><th>line</th>")?;
    if has_branches {
        write!(w, "<th>branches</th>")?;
    }
    writeln!(w, "<th>count</th><th>source</th></tr>")?;
    let numbers: Box<dyn Iterator<Item = u32>> = if text.is_some() {
        let n = u32::try_from(lines.len())
            .unwrap_or(u32::MAX)
            .max(last_data);
        Box::new(1..=n)
    } else {
        let mut set: BTreeSet<u32> = rec.lines.keys().copied().collect();
        set.extend(branches.keys().copied());
        set.extend(rec.conditions.keys().map(|k| k.0));
        Box::new(set.into_iter())
    };
    let empty: Vec<Option<Count>> = Vec::new();
    for n in numbers {
        let count = rec.lines.get(&n);
        let brs = branches.get(&n).unwrap_or(&empty);
        let cond = conditions_note(rec, n);
        let partial = brs.iter().any(|b| !b.is_some_and(|c| c > 0)) || !cond.is_empty();
        let class = match count {
            None => "",
            Some(0) => " class=\"miss\"",
            Some(_) if partial => " class=\"part\"",
            Some(_) => " class=\"hit\"",
        };
        write!(
            w,
            "<tr id=\"L{n}\"{class}><td class=\"n\"><a href=\"#L{n}\">{n}</a></td>"
        )?;
        if has_branches {
            branch_cell(w, brs)?;
        }
        match count {
            Some(c) => write!(w, "<td class=\"c\">{c}</td>")?,
            None => write!(w, "<td class=\"c\"></td>")?,
        }
        let src = (n as usize)
            .checked_sub(1)
            .and_then(|i| lines.get(i))
            .map_or(String::new(), |l| escape(l));
        write!(w, "<td class=\"s\">{src}")?;
        if !cond.is_empty() {
            write!(w, " <span class=\"cu\">[{}]</span>", escape(&cond))?;
        }
        writeln!(w, "</td></tr>")?;
    }
    writeln!(w, "</table>\n</body>\n</html>")
}

#[cfg(test)]
mod tests;

//! `xencov-rs dump`: gcov-dump-style text or JSON for gcda and gcno files,
//! the units of Xen dumps, and every such file below a directory.

use anyhow::{Result, anyhow};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xencov::gcov::gcda::{Function, Gcda, OtherRecord, Record, Values};
use xencov::gcov::gcno::Gcno;
use xencov::gcov::version::{Family, LengthUnit};
use xencov::input::Kind;
use xencov::llvm::clangs_of_raw_version;
use xencov::llvm::raw::RawProfile;
use xencov::xen::dump::{Container, Identified, LegacyDump, identify};

/// One thing to print: a file's (or a dump record's) name and what it holds.
enum Item {
    Data(Gcda),
    Notes(Gcno, Vec<u8>),
    /// A raw LLVM profile (a clang-built program or hypervisor).
    Llvm(RawProfile),
}

/// The printable items of one input: a gcda or gcno file (by magic), or
/// each unit of a Xen dump, named by its recorded path.
fn items(name: &str, bytes: Vec<u8>) -> Result<Vec<(String, Option<String>, Item)>> {
    let kind = xencov::input::recognise(&bytes);
    if matches!(kind, Kind::Gcda(_)) {
        return Ok(vec![(
            name.to_string(),
            None,
            Item::Data(Gcda::decode(&bytes)?),
        )]);
    }
    if matches!(kind, Kind::Gcno(_)) {
        let notes = Gcno::decode(&bytes)?;
        return Ok(vec![(name.to_string(), None, Item::Notes(notes, bytes))]);
    }
    let identified = identify(&bytes).map_err(|_| {
        // Neither magic: the gcda decoder's error names the offset (0) and
        // what was expected; say what the file is instead.
        let e = Gcda::decode(&bytes)
            .err()
            .map_or_else(String::new, |e| e.to_string());
        let what = crate::kind::recognise_named(&bytes).unwrap_or("none of them");
        anyhow!("{e}; dump prints .gcda and .gcno files and Xen coverage dumps, and this is {what}")
    })?;
    let header = |i: usize, offset: usize, path: &str| {
        format!("{name}: record {i} at byte offset {offset}: {path}")
    };
    match identified {
        Identified::Container(_) => {
            let c = Container::parse(&bytes)?;
            c.units
                .iter()
                .map(|u| {
                    let path = u.path_lossy();
                    let g = u
                        .gcda()
                        .map_err(|e| anyhow!("record {} ({path}): {e}", u.index))?;
                    Ok((
                        path.clone(),
                        Some(header(u.index, u.offset, &path)),
                        Item::Data(g),
                    ))
                })
                .collect()
        }
        Identified::Legacy(endian) => {
            let d = LegacyDump::parse(&bytes)?;
            Ok(d.units
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let path = String::from_utf8_lossy(&u.path).into_owned();
                    (
                        path.clone(),
                        Some(format!("{name}: unit {i}: {path}")),
                        Item::Data(u.to_gcda(endian)),
                    )
                })
                .collect())
        }
        Identified::LlvmProfile { .. } => {
            let p = RawProfile::decode(&bytes).map_err(|e| anyhow!("raw LLVM profile: {e}"))?;
            Ok(vec![(name.to_string(), None, Item::Llvm(p))])
        }
    }
}

/// The inputs named on the command line: `-` is standard input, a
/// directory stands for every .gcda and .gcno below it (sorted).
fn expand(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        if f != Path::new("-") && f.is_dir() {
            let found = crate::output::files_with_extension(f, &["gcda", "gcno"])?;
            if found.is_empty() {
                return Err(anyhow!("{}: no .gcda or .gcno file below it", f.display()));
            }
            out.extend(found);
        } else {
            out.push(f.clone());
        }
    }
    Ok(out)
}

/// Prints every file it can decode; a file that does not decode is reported
/// with its path and byte offset, and makes the exit status 1.
pub fn run(files: &[PathBuf], json: bool) -> Result<ExitCode> {
    let mut failed = false;
    let mut decoded = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in expand(files)? {
        let name = if path == Path::new("-") {
            "-".to_string()
        } else {
            path.display().to_string()
        };
        let got = crate::output::read_input(&path).and_then(|b| items(&name, b));
        match got {
            Ok(list) if json => decoded.extend(list),
            Ok(list) => {
                for (label, header, item) in list {
                    if let Some(h) = header {
                        writeln!(out, "{h}")?;
                    }
                    let text = match &item {
                        Item::Data(g) => text(&label, g),
                        Item::Notes(n, bytes) => notes_text(&label, n, bytes),
                        Item::Llvm(p) => llvm_text(&label, p),
                    };
                    out.write_all(text.as_bytes())?;
                }
            }
            Err(e) => {
                eprintln!("xencov-rs: error: {name}: {e:#}");
                failed = true;
            }
        }
    }
    if json {
        #[derive(Serialize)]
        struct File<'a> {
            file: &'a str,
            /// Where a dump's unit came from.
            #[serde(skip_serializing_if = "Option::is_none")]
            record: Option<&'a str>,
            #[serde(flatten)]
            gcda: Option<&'a Gcda>,
            #[serde(skip_serializing_if = "Option::is_none")]
            notes: Option<&'a Gcno>,
            #[serde(skip_serializing_if = "Option::is_none")]
            llvm_raw_profile: Option<&'a RawProfile>,
        }
        let files: Vec<File<'_>> = decoded
            .iter()
            .map(|(file, record, item)| File {
                file,
                record: record.as_deref(),
                gcda: match item {
                    Item::Data(g) => Some(g),
                    _ => None,
                },
                notes: match item {
                    Item::Notes(n, _) => Some(n),
                    _ => None,
                },
                llvm_raw_profile: match item {
                    Item::Llvm(p) => Some(p),
                    _ => None,
                },
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &files)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A raw LLVM profile function by function, with the fields of
/// `llvm-profdata show --all-functions --counts` (the first counter is the
/// function's entry count) and the MC/DC bitmap bytes.
fn llvm_text(p: &str, r: &RawProfile) -> String {
    let h = &r.header;
    let clangs = clangs_of_raw_version(h.version);
    let written_by = match (clangs.first(), clangs.last()) {
        (Some(a), Some(b)) if a == b => format!(" (clang {a})"),
        (Some(a), Some(b)) => format!(" (clang {a}-{b})"),
        _ => String::new(),
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{p}:raw LLVM profile, version {}{written_by}, {}, {}-bit pointers",
        h.version,
        r.endian.name(),
        r.pointer_bytes * 8
    );
    let _ = writeln!(
        s,
        "{p}:{}, {}, {}; names {}",
        xencov::plural::count(r.functions.len() as u64, "function", "functions"),
        xencov::plural::count(r.num_counters() as u64, "counter", "counters"),
        xencov::plural::count(
            h.num_bitmap_bytes.unwrap_or(0),
            "bitmap byte",
            "bitmap bytes"
        ),
        if r.names_compressed {
            "zlib-compressed"
        } else {
            "stored"
        }
    );
    for id in &r.binary_ids {
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(s, "{p}:binary id {hex}");
    }
    for f in &r.functions {
        let _ = writeln!(s, "{p}:  {}:", f.name);
        let _ = writeln!(s, "{p}:    hash: {:#018x}", f.hash);
        let _ = writeln!(s, "{p}:    counters: {:?}", f.counters);
        if !f.bitmap.is_empty() {
            let _ = writeln!(s, "{p}:    bitmap: {:02x?}", f.bitmap);
        }
    }
    s
}

/// A notes file record by record, as `gcov-dump -l` prints it (GCC 11 and
/// 12 checked line for line; older releases in the same shape with what
/// their records hold). The file is decoded first, so every record here is
/// known to be well formed.
fn notes_text(p: &str, n: &Gcno, bytes: &[u8]) -> String {
    use xencov::gcov::gcno::MAGIC;
    use xencov::gcov::tag::Tag;
    let h = &n.header;
    let mut s = String::new();
    header_text(&mut s, p, "note", "gcno", h);
    if let Some(cwd) = &n.cwd {
        let _ = writeln!(s, "{p}:cwd: {cwd}");
    }
    let Ok((_, mut reader)) = xencov::gcov::record::read_header(bytes, MAGIC) else {
        return s;
    };
    // Past the rest of the notes header (see gcno.rs): the compilation
    // directory (GCC 9+; a length in bytes from GCC 12, in words before)
    // and the unexecuted-blocks flag (GCC 8+).
    let v = h.version;
    if v.at_least(9, 0) {
        let len = reader.u32("").map_or(0, u64::from);
        let len = if v.at_least(12, 0) { len } else { len * 4 };
        let _ = reader.bytes(len, "");
    }
    if v.at_least(8, 0) {
        let _ = reader.u32("");
    }
    let mut function: Option<xencov::gcov::gcno::FunctionRef<'_>> = None;
    let mut functions = n.functions();
    let first_word = |raw: &xencov::gcov::record::RawRecord<'_>| {
        raw.reader(h.endian).u32("").map_or(0, |w| w as usize)
    };
    for raw in xencov::gcov::record::Records::new(reader, h.version).map_while(Result::ok) {
        let depth = if raw.tag == Tag::FUNCTION {
            "  "
        } else {
            "    "
        };
        let name = match raw.tag {
            Tag::FUNCTION | Tag::BLOCKS | Tag::ARCS | Tag::LINES => raw.tag.name(),
            // gcov-dump names these from the release that introduced them.
            Tag::CONDITIONS if v.at_least(14, 0) => raw.tag.name(),
            Tag::PATHS if v.at_least(16, 0) => raw.tag.name(),
            _ => None,
        }
        .unwrap_or("UNKNOWN");
        let _ = write!(s, "{p}:{depth}{:08x}:{:4}:{name}", raw.tag, raw.length);
        match raw.tag {
            Tag::FUNCTION => {
                function = functions.next();
                match function {
                    Some(f) if !raw.payload.is_empty() => {
                        let _ = write!(s, " ident={}, ", f.id.ident);
                        match f.id.cfg_checksum {
                            Some(cfg) => {
                                let _ = write!(
                                    s,
                                    "lineno_checksum={:#010x}, cfg_checksum={cfg:#010x}",
                                    f.id.lineno_checksum
                                );
                            }
                            None => {
                                let _ = write!(s, "checksum={:#010x}", f.id.lineno_checksum);
                            }
                        }
                        let _ = write!(
                            s,
                            ", `{}' {}:{}:{}-{}:{}",
                            f.name,
                            f.source(),
                            f.start_line,
                            f.start_column,
                            f.end_line,
                            f.end_column
                        );
                        if f.artificial {
                            let _ = write!(s, ", artificial");
                        }
                    }
                    _ => {
                        let _ = write!(s, " placeholder");
                    }
                }
            }
            Tag::BLOCKS => {
                let _ = write!(s, " {} blocks", function.map_or(0, |f| f.blocks().len()));
            }
            Tag::ARCS => {
                let src = first_word(&raw);
                let arcs = function
                    .and_then(|f| f.block(src))
                    .map_or(&[][..], |b| b.arcs());
                let _ = write!(s, " {} arcs", arcs.len());
                for (i, a) in arcs.iter().enumerate() {
                    if i % 4 == 0 {
                        let _ = write!(s, "\n{p}:{:18}block {src}:", "");
                    }
                    let _ = write!(s, " {}:{:04x}", a.dest, a.flags);
                    let names: Vec<&str> = [
                        (a.on_tree(), "tree"),
                        (a.fake(), "fake"),
                        (a.fall_through(), "fall"),
                    ]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, n)| *n)
                    .collect();
                    // gcov-dump opens the parenthesis with the first name it
                    // knows and closes it for any flag: GCC 15's true/false
                    // arc flags (0008, 0010) alone print as `3:0008)`.
                    if a.flags != 0 {
                        if !names.is_empty() {
                            let _ = write!(s, "({}", names.join(","));
                        }
                        s.push(')');
                    }
                }
            }
            Tag::LINES => {
                let block = first_word(&raw);
                let locations = function.and_then(|f| f.block(block));
                for l in locations.into_iter().flat_map(|b| b.locations()) {
                    let _ = write!(s, "\n{p}:{:18}block {block}:`{}'", "", l.file);
                    for (i, line) in l.lines.iter().enumerate() {
                        let _ = write!(s, "{}{line}", if i == 0 { ":" } else { ", " });
                    }
                }
            }
            Tag::CONDITIONS if v.at_least(14, 0) => {
                let conditions = function.map_or(&[][..], |f| f.conditions());
                let _ = write!(s, " {} conditions", conditions.len());
                for c in conditions {
                    let _ = write!(s, "\n{p}:{:18}block {}: {}", "", c.block, c.terms);
                }
            }
            Tag::PATHS if v.at_least(16, 0) => {
                let _ = write!(s, " {} paths", first_word(&raw));
            }
            _ => {}
        }
        s.push('\n');
    }
    s
}

/// The header lines gcov-dump prints for a data or notes file (`kind` is
/// `data` or `note`), the first one also naming the release and byte order.
fn header_text(s: &mut String, p: &str, kind: &str, magic: &str, h: &xencov::gcov::record::Header) {
    let _ = writeln!(
        s,
        "{p}:{kind}:magic `{magic}':version `{}' ({}, {})",
        h.version.chars(),
        h.version,
        h.endian
    );
    let _ = writeln!(s, "{p}:stamp {}", h.stamp);
    if let Some(c) = h.checksum {
        let _ = writeln!(s, "{p}:checksum {c}");
    }
}

/// The `gcov-dump -l` rendering: one line per record, counters eight to a row.
fn text(p: &str, gcda: &Gcda) -> String {
    let h = &gcda.header;
    let format = h.version.format();
    let unit = format.length_unit;
    let mut s = String::new();
    header_text(&mut s, p, "data", "gcda", h);
    for record in &gcda.records {
        match record {
            Record::Function(f) => function(&mut s, &p, f, format.family, unit),
            Record::Other(o) => other(&mut s, &p, o, unit),
        }
    }
    if !gcda.after_end.is_empty() {
        let _ = writeln!(
            s,
            "{p}:  {} after the end marker (ignored, as gcov does)",
            xencov::plural::count(gcda.after_end.len(), "byte", "bytes")
        );
    }
    s
}

fn length(unit: LengthUnit, bytes: usize) -> usize {
    bytes / unit.bytes_per_unit() as usize
}

fn function(
    s: &mut String,
    p: &impl std::fmt::Display,
    f: &Function,
    family: Family,
    unit: LengthUnit,
) {
    let words = f.id.map_or(0, |_| family.function_words()) + f.extra.len();
    let _ = write!(
        s,
        "{p}:  {:08x}:{:4}:FUNCTION",
        xencov::gcov::tag::Tag::FUNCTION,
        length(unit, words * 4)
    );
    match (f.id, family) {
        (None, _) => {
            let _ = write!(s, " placeholder");
        }
        (Some(id), Family::Gcc34) => {
            let _ = write!(
                s,
                " ident={}, checksum={:#010x}",
                id.ident, id.lineno_checksum
            );
        }
        (Some(id), Family::Gcc47) => {
            let _ = write!(
                s,
                " ident={}, lineno_checksum={:#010x}, cfg_checksum={:#010x}",
                id.ident,
                id.lineno_checksum,
                id.cfg_checksum.unwrap_or(0)
            );
        }
    }
    if !f.extra.is_empty() {
        let more = xencov::plural::count(f.extra.len(), "more word", "more words");
        let _ = write!(s, ", {more}");
    }
    s.push('\n');
    for c in &f.counters {
        let n = c.values.len();
        let zero = if c.values.is_compact() {
            " (all zero)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{p}:    {:08x}:{:4}:COUNTERS {} {n} counts{zero}",
            c.kind.tag(),
            length(unit, n * 8),
            c.kind.name
        );
        rows(s, p, &c.values);
    }
}

fn rows(s: &mut String, p: &impl std::fmt::Display, values: &Values) {
    for (i, v) in values.iter().enumerate() {
        if i % 8 == 0 {
            if i > 0 {
                s.push('\n');
            }
            // gcov-dump: 18 spaces, then the index in at least two columns.
            let _ = write!(s, "{p}:{:18}{i:2}: ", "");
        }
        let _ = write!(s, "{v} ");
    }
    if !values.is_empty() {
        s.push('\n');
    }
}

fn other(s: &mut String, p: &impl std::fmt::Display, o: &OtherRecord, unit: LengthUnit) {
    let _ = write!(
        s,
        "{p}:  {:08x}:{:4}:{}",
        o.tag,
        length(unit, o.words.len() * 4),
        o.name()
    );
    match o.summary() {
        Some(sum) if sum.checksum.is_none() => {
            let _ = writeln!(s, " runs={}, sum_max={}", sum.runs, sum.sum_max);
        }
        Some(sum) => {
            let _ = writeln!(
                s,
                " checksum={:#010x}, num={}, runs={}, sum_all={}, run_max={}, sum_max={}, {} histogram buckets",
                sum.checksum.unwrap_or(0),
                sum.num.unwrap_or(0),
                sum.runs,
                sum.sum_all.unwrap_or(0),
                sum.run_max.unwrap_or(0),
                sum.sum_max,
                sum.histogram.len()
            );
        }
        None => {
            let words: Vec<String> = o.words.iter().map(|w| format!("{w:#010x}")).collect();
            let _ = writeln!(s, " {}", words.join(" "));
        }
    }
}

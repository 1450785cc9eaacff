//! `lcov PROFILE... --object ELF` and `report PROFILE... --object ELF`:
//! coverage of a clang-built program (a clang-built Xen) from its raw
//! profiles and the coverage mapping in its ELF file, as `llvm-cov export`
//! computes it, with no LLVM installed.

use anyhow::{Context, Result, anyhow, bail};
use std::path::Path;
use std::process::ExitCode;
use xencov::llvm::coverage::{Coverage, FileReport, Options, export, write_lcov};
use xencov::llvm::covmap::{CoverageMapping, clangs_of_version, sections};
use xencov::llvm::raw::RawProfile;
use xencov::llvm::{clang_major_in_banner, raw_version_of_clang};
use xencov::plural::count;
use xencov::report::lcov::{FileRecord, Tracefile};

use crate::merge::Input;

/// The newest LLVM whose llvm-cov we follow.
const NEWEST: u32 = 21;

/// The reports of the inputs over the object, selected by the arguments.
pub fn reports(args: &crate::lcov::Args<'_>, object: &Path) -> Result<Vec<FileReport>> {
    let elf = crate::output::read_input(object)?;
    let name = object.display().to_string();
    let s = sections(&elf).with_context(|| name.clone())?;
    let map = CoverageMapping::decode(&s).map_err(|e| anyhow!("{name}: coverage mapping: {e}"))?;

    // Which clang built it: its llvm-cov is the one we answer like.
    let clang = xencov::check::elf::producers(&elf)
        .map_err(|e| anyhow!("{name}: {e}"))?
        .iter()
        .find_map(|p| clang_major_in_banner(&p.text));
    let versions = clangs_of_version(map.version).unwrap_or(NEWEST..=NEWEST);
    let llvm_major = match clang {
        Some(m) => {
            if !versions.contains(&m) && m <= *versions.end() {
                bail!(
                    "{name}: its .comment names clang {m}, but its coverage mapping is version \
                     {} (clang {}-{}): the file is not what it says",
                    map.version,
                    versions.start(),
                    versions.end()
                );
            }
            m
        }
        None => {
            args.diag.warn(format_args!(
                "{name}: no clang release in .comment; computing as llvm-cov {} would",
                (*versions.end()).min(NEWEST)
            ))?;
            (*versions.end()).min(NEWEST)
        }
    };

    let profile = merged_profile(args.inputs)?;
    let pname = args
        .inputs
        .first()
        .map_or_else(String::new, |i| i.path.display().to_string());
    let v = profile.header.version;
    if let Some(expected) = raw_version_of_clang(llvm_major)
        && expected != v
    {
        bail!(
            "{pname}: raw profile version {v}, but {name} was built by clang {llvm_major}, \
             which writes version {expected}: the profile is not of this binary's build"
        );
    }
    let cov = Coverage::load(&map, &profile).map_err(|e| anyhow!("{pname} and {name}: {e}"))?;
    if !cov.unmapped_profile_functions.is_empty() {
        let u = &cov.unmapped_profile_functions;
        args.diag.warn(format_args!(
            "{} of the profile {} no coverage mapping in {name} (first: \
             {}); left out, as llvm-cov leaves them out",
            count(u.len() as u64, "function", "functions"),
            if u.len() == 1 { "has" } else { "have" },
            u.first().map_or("", String::as_str)
        ))?;
    }
    // Records of one function that do not sum cleanly: as every warning,
    // an error with --strict.
    for w in &cov.warnings {
        args.diag.warn(format_args!("{pname}: {w}"))?;
    }
    let mut reports = export(&cov, &Options { llvm_major });
    let before = reports.len();
    reports.retain(|r| args.selection.keeps(&r.name));
    if reports.is_empty() {
        bail!(
            "{}: nothing written",
            if before == 0 {
                format!("{name} maps no source file")
            } else {
                format!(
                    "--root/--include/--exclude leave none of the {}",
                    count(before as u64, "source file", "source files")
                )
            }
        );
    }
    Ok(reports)
}

/// Decodes every input (each validated on its own, so that a bad one is
/// named) and merges them as `llvm-profdata merge` does.
fn merged_profile(inputs: &[Input]) -> Result<RawProfile> {
    let mut data = Vec::with_capacity(inputs.len());
    for i in inputs {
        let bytes = crate::output::read_input(&i.path)?;
        let name = i.path.display().to_string();
        if xencov::llvm::raw::sniff(&bytes).is_none() {
            bail!(
                "{name} is not a raw LLVM profile: with --object, the inputs are the profiles \
                 of the clang-built program (`xencov-rs read` of a clang-built Xen)"
            );
        }
        crate::llvm::decode(&name, &bytes)?;
        data.push(bytes);
    }
    if let [(one, i)] = data.iter().zip(inputs).collect::<Vec<_>>().as_slice()
        && i.weight == 1
    {
        return crate::llvm::decode(&i.path.display().to_string(), one);
    }
    let merged = crate::llvm::merge_raw(&data, inputs)?;
    crate::llvm::decode("the merged profile", &merged)
}

/// `lcov --object`: the tracefile as `llvm-cov export -format=lcov` writes it.
pub fn run_lcov(args: &crate::lcov::Args<'_>, object: &Path, test_name: &str) -> Result<ExitCode> {
    let reports = reports(args, object)?;
    crate::lcov::emit(args.output, |mut w| {
        if !test_name.is_empty() {
            let (tn, _) = xencov::report::lcov::test_name(test_name);
            writeln!(w, "TN:{tn}")?;
        }
        write_lcov(&reports, &mut w)
    })?;
    Ok(crate::lcov::check_thresholds(
        &tracefile(&reports),
        args.thresholds,
    ))
}

/// The reports as a [`Tracefile`], for the report formats.
pub fn tracefile(reports: &[FileReport]) -> Tracefile {
    let mut t = Tracefile::default();
    for r in reports {
        let mut rec = FileRecord::default();
        for f in &r.functions {
            let e = rec.functions.entry(f.name.clone()).or_insert((f.line, 0));
            e.1 += u128::from(f.count);
        }
        // Collected, not inserted one by one: the record's maps are sorted
        // arrays, sorted once here whatever order llvm-cov's records come
        // in (a key given twice keeps its last value, as an insert would).
        rec.lines = r.lines.iter().map(|&(l, c)| (l, u128::from(c))).collect();
        rec.branches = r
            .branches
            .iter()
            .map(|b| ((b.line, b.pair, b.index), b.count.map(u128::from)))
            .collect();
        t.files.insert(r.name.clone(), rec);
    }
    t
}

/// The reports as a [`Tracefile`] with one condition entry per MC/DC
/// condition llvm-cov counts (hit when it has an independence pair), so that
/// the summary's conditions column is llvm-cov's MC/DC conditions. Keyed
/// (decision line, conditions of the decision, running number on the line,
/// true): unique however many decisions share a line.
pub fn tracefile_with_mcdc(reports: &[FileReport]) -> Tracefile {
    use xencov::report::lcov::Sense;
    let mut t = tracefile(reports);
    for r in reports {
        let Some(rec) = t.files.get_mut(&r.name) else {
            continue;
        };
        let mut on_line: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        for d in &r.mcdc {
            let line = d.decision.line_start;
            let n = d.conditions.len() as u32;
            for c in d.conditions.iter().filter(|c| !c.folded) {
                let k = on_line.entry(line).or_insert(0);
                rec.conditions
                    .insert((line, n, *k, Sense::True), u128::from(c.covered));
                *k += 1;
            }
        }
    }
    t
}

/// The function extents of the reports, for Cobertura's `<method>`s.
pub fn function_ranges(reports: &[FileReport]) -> xencov::report::FunctionRanges {
    let mut out = xencov::report::FunctionRanges::new();
    for r in reports {
        let fns = out.entry(r.name.clone()).or_default();
        for f in &r.functions {
            let e = fns
                .entry(f.name.clone())
                .or_insert((f.line, f.end_line.max(f.line)));
            e.0 = e.0.min(f.line);
            e.1 = e.1.max(f.end_line);
        }
    }
    out
}

/// `report --object`: the summary, Cobertura XML or the HTML report of the
/// same coverage (gcov's JSON is of gcc units and does not apply).
pub fn run_report(
    args: &crate::lcov::Args<'_>,
    object: &Path,
    format: crate::lcov::Format,
) -> Result<ExitCode> {
    use crate::lcov::Format;
    if format == Format::Json {
        bail!(
            "--format json is gcov's JSON, one document per gcc unit: a clang-built program has \
             none (use `lcov --object` for a tracefile, or --format summary or cobertura)"
        );
    }
    let reports = reports(args, object)?;
    let t = tracefile(&reports);
    // The summary's conditions column and --fail-under-condition: llvm-cov's
    // MC/DC conditions (the HTML and Cobertura reports show none).
    let with_mcdc = tracefile_with_mcdc(&reports);
    let root = args.selection.root.as_deref();
    if format == Format::Html {
        // The same pages as of gcov data: the renderer takes the tracefile.
        if let Some(out) = args.output {
            crate::html::write(&t, out, root, args.source_root, args.diag)?;
        }
        return Ok(crate::lcov::check_thresholds(&with_mcdc, args.thresholds));
    }
    match format {
        Format::Summary => {
            let rel = crate::lcov::relative_to_root(with_mcdc.clone(), root);
            crate::lcov::emit(args.output, |w| xencov::report::write_summary(w, &rel))?;
        }
        _ => {
            let now = crate::lcov::report_timestamp()?;
            let ranges = function_ranges(&reports);
            let opts = xencov::report::CoberturaOptions {
                root,
                timestamp: now,
            };
            crate::lcov::emit(args.output, |w| {
                xencov::report::write_cobertura(w, &t, &ranges, &opts)
            })?;
        }
    }
    Ok(crate::lcov::check_thresholds(&with_mcdc, args.thresholds))
}

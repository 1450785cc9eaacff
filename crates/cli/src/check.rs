//! `xencov-rs check`: every GCC version in sight — the compiler in ELF
//! `.comment`, the data files and dump records, the notes files, the gcov
//! that lcov would run — and a verdict on each pair.

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xencov::check::elf::{ProducerKind, XenRelease, producers, xen_release};
use xencov::check::judge::{Agreement, Role, Verdict};
use xencov::check::llvm::{
    judge_mapping_clang, judge_mapping_profile, llvm_name, mapping_versions,
};
use xencov::check::pairs::{self, Llvm, Side};
use xencov::gcov::gcda::MAGIC as GCDA_MAGIC;
use xencov::gcov::record::read_header;
use xencov::gcov::version::{Status, Version};
use xencov::llvm::clang_major_in_banner;
use xencov::llvm::raw::RawProfile;
use xencov::xen::dump::{Container, Identified, LegacyDump, identify};

/// Everything seen with one version in one role.
#[derive(Debug, Serialize)]
struct Source {
    role: Role,
    /// `None` for a clang compiler or an LLVM profile: no gcov version at all.
    chars: Option<String>,
    gcc: Option<String>,
    /// What named it: a `.comment` string or the `gcov --version` line.
    banner: Option<String>,
    count: usize,
    examples: Vec<String>,
    #[serde(skip)]
    version: Option<Version>,
    /// The clang release or raw-profile version of an LLVM side.
    #[serde(skip_serializing_if = "Option::is_none")]
    llvm: Option<Llvm>,
}

#[derive(Debug, Serialize)]
struct PairVerdict {
    a: String,
    b: String,
    #[serde(flatten)]
    verdict: Verdict,
    /// False when another compiler listed in the same ELF file agrees, so
    /// this pair alone does not make the inputs incompatible.
    decisive: bool,
    /// Whether it makes the inputs incompatible (the library's `Pair::fails`).
    #[serde(skip)]
    fails: bool,
}

#[derive(Default)]
struct Seen {
    sources: BTreeMap<(Role, String), Source>,
    /// Inputs that name no version at all (an ELF file without `.comment`).
    notes: Vec<String>,
    /// Hypervisor ELF files whose Xen release could be told.
    xen: Vec<XenSeen>,
    /// ELF files with a clang coverage mapping (`__llvm_covmap`).
    mappings: Vec<MappingSeen>,
}

/// The coverage mapping versions of one ELF file and the clang releases its
/// `.comment` names (judged by `xencov::check::llvm`).
#[derive(Debug, Serialize)]
struct MappingSeen {
    file: String,
    /// The distinct version fields of its units (6: LLVM's Version7).
    versions: Vec<u32>,
    #[serde(skip)]
    clangs: Vec<Option<u32>>,
}

/// A hypervisor binary, its Xen release and the newest GCC in its `.comment`.
#[derive(Debug, Serialize)]
struct XenSeen {
    file: String,
    release: XenRelease,
    #[serde(skip)]
    newest_gcc: Option<Version>,
}

impl Seen {
    fn add(
        &mut self,
        role: Role,
        version: Option<Version>,
        banner: Option<String>,
        origin: String,
    ) {
        let key = match (version, &banner) {
            (Some(v), _) => v.chars(),
            (None, Some(b)) => b.clone(),
            (None, None) => String::new(),
        };
        let s = self.sources.entry((role, key)).or_insert_with(|| Source {
            role,
            chars: version.map(Version::chars),
            gcc: version.map(Version::gcc),
            banner: banner.clone(),
            count: 0,
            examples: Vec::new(),
            version,
            llvm: None,
        });
        s.count += 1;
        if s.examples.len() < 3 {
            s.examples.push(origin);
        }
    }

    /// Adds an LLVM side, keyed by its banner.
    fn add_llvm(&mut self, role: Role, llvm: Llvm, banner: String, origin: String) {
        self.add(role, None, Some(banner.clone()), origin);
        if let Some(s) = self.sources.get_mut(&(role, banner)) {
            s.llvm = Some(llvm);
        }
    }
}

/// Reads one input; anything unreadable is bad input (exit 2). Directories
/// are searched for files with one of `extensions`.
fn gather(seen: &mut Seen, path: &Path, extensions: &[&str]) -> Result<()> {
    if path != Path::new("-") && path.is_dir() {
        let files = crate::output::files_with_extension(path, extensions)?;
        if files.is_empty() {
            // An empty tree checks nothing; "all agree" would be a lie.
            return Err(anyhow!(
                "{}: no .{} file below it: nothing to check",
                path.display(),
                extensions.join(" or .")
            ));
        }
        return files.iter().try_for_each(|f| gather(seen, f, extensions));
    }
    let data = crate::output::read_input(path)?;
    let name = path.display().to_string();
    if data.starts_with(b"\x7fELF") {
        let list = producers(&data).with_context(|| name.clone())?;
        if let Some(release) = xen_release(&data).with_context(|| name.clone())? {
            let newest_gcc = list
                .iter()
                .filter_map(|p| match p.kind {
                    ProducerKind::Gcc { major, minor, .. } => {
                        Version::new(major, minor, Status::Release).ok()
                    }
                    _ => None,
                })
                .max_by_key(|v| (v.major(), v.minor()));
            seen.xen.push(XenSeen {
                file: name.clone(),
                release,
                newest_gcc,
            });
        }
        if let Some(versions) = mapping_versions(&data).with_context(|| name.clone())? {
            let clangs = list
                .iter()
                .filter(|p| p.kind == ProducerKind::Clang)
                .map(|p| clang_major_in_banner(&p.text))
                .collect();
            seen.mappings.push(MappingSeen {
                file: name.clone(),
                versions,
                clangs,
            });
        }
        if list.is_empty() {
            seen.notes.push(format!(
                "{name} has no .comment section (stripped?): its compiler cannot be told"
            ));
            return Ok(());
        }
        for p in list {
            match p.kind {
                ProducerKind::Gcc { major, minor, .. } => {
                    let v = Version::new(major, minor, Status::Release)
                        .map_err(|e| anyhow!("{name}: {}: {e}", p.text))?;
                    seen.add(Role::Compiler, Some(v), Some(p.text), name.clone());
                }
                ProducerKind::Clang => seen.add_llvm(
                    Role::Compiler,
                    Llvm::Clang(clang_major_in_banner(&p.text)),
                    p.text,
                    name.clone(),
                ),
                ProducerKind::Other => {}
            }
        }
        return Ok(());
    }
    let notes_or_data = match xencov::input::recognise(&data) {
        xencov::input::Kind::Gcda(_) => Some((GCDA_MAGIC, Role::Data)),
        xencov::input::Kind::Gcno(_) => Some((xencov::gcov::gcno::MAGIC, Role::Notes)),
        _ => None,
    };
    if let Some((magic, role)) = notes_or_data {
        let (h, _) = read_header(&data, magic).with_context(|| name.clone())?;
        seen.add(role, Some(h.version), None, name);
        return Ok(());
    }
    match identify(&data).with_context(|| format!("{name}: not ELF, gcda, gcno or a Xen dump"))? {
        Identified::Container(_) => {
            let c = Container::parse(&data).with_context(|| name.clone())?;
            for u in &c.units {
                let origin = format!("{name}: {}", u.path_lossy());
                match read_header(u.payload, GCDA_MAGIC) {
                    Ok((h, _)) => seen.add(Role::Data, Some(h.version), None, origin),
                    Err(e) => return Err(anyhow!("{origin}: {e}")),
                }
            }
        }
        Identified::Legacy(_) => {
            let d = LegacyDump::parse(&data).with_context(|| name.clone())?;
            for u in &d.units {
                let origin = format!("{name}: {}", String::from_utf8_lossy(&u.path));
                seen.add(Role::Data, Some(u.version), None, origin);
            }
        }
        Identified::LlvmProfile { .. } => {
            // Validated whole: a truncated or lying profile is bad input, not
            // a version to compare.
            let p =
                RawProfile::decode(&data).map_err(|e| anyhow!("{name}: raw LLVM profile: {e}"))?;
            let version = p.header.version;
            seen.add_llvm(
                Role::Data,
                Llvm::RawProfile(version),
                format!("LLVM raw profile, version {version}"),
                name,
            );
        }
    }
    Ok(())
}

/// `gcov --version` of the given or the PATH gcov; `None` if there is none to run.
fn gcov(seen: &mut Seen, gcov: Option<&Path>) -> Result<()> {
    let program = gcov.map_or_else(|| PathBuf::from("gcov"), Path::to_path_buf);
    let out = match std::process::Command::new(&program)
        .arg("--version")
        .output()
    {
        Ok(o) => o,
        Err(e) if gcov.is_none() && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(anyhow!("cannot run {} --version: {e}", program.display())),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or_default().trim().to_string();
    let (major, minor, _) = xencov::gcov::version::release_in_banner(&line).ok_or_else(|| {
        anyhow!(
            "{} --version printed no GCC version: {line:?}",
            program.display()
        )
    })?;
    let v = Version::new(major, minor, Status::Release).map_err(|e| anyhow!("{line}: {e}"))?;
    seen.add(
        Role::Gcov,
        Some(v),
        Some(line),
        program.display().to_string(),
    );
    Ok(())
}

fn label(s: &Source) -> String {
    match (&s.chars, &s.banner) {
        (Some(c), _) if s.role == Role::Compiler => {
            format!(
                "compiler GCC {} ({c})",
                s.gcc.as_deref().unwrap_or_default()
            )
        }
        (Some(c), _) => format!("{} {c}", s.role.name()),
        (None, Some(b)) if s.role == Role::Compiler => format!("compiler {b:?}"),
        (None, Some(b)) => format!("{} {b:?}", s.role.name()),
        (None, None) => s.role.name().to_string(),
    }
}

/// The library's verdicts on every pair of `sources`, labelled.
fn verdicts(sources: &[&Source]) -> Vec<PairVerdict> {
    let sides: Vec<Side> = sources
        .iter()
        .map(|s| Side {
            role: s.role,
            version: s.version,
            llvm: s.llvm,
        })
        .collect();
    pairs::verdicts(&sides)
        .into_iter()
        .filter_map(|p| {
            Some(PairVerdict {
                a: label(sources.get(p.a)?),
                b: label(sources.get(p.b)?),
                fails: p.fails(),
                verdict: p.verdict,
                decisive: p.decisive,
            })
        })
        .collect()
}

pub struct Args<'a> {
    pub inputs: &'a [PathBuf],
    pub xen_syms: &'a [PathBuf],
    pub gcno_dir: Option<&'a Path>,
    pub gcov: Option<&'a Path>,
    pub json: bool,
}

pub fn run(args: Args<'_>) -> Result<ExitCode> {
    let mut seen = Seen::default();
    let all = ["gcda", "gcno"];
    let gathered = args
        .xen_syms
        .iter()
        .chain(args.inputs)
        .try_for_each(|p| gather(&mut seen, p, &all))
        .and_then(|()| match args.gcno_dir {
            Some(dir) => gather(&mut seen, dir, &["gcno"]),
            None => Ok(()),
        })
        .and_then(|()| gcov(&mut seen, args.gcov));
    let gathered = gathered.and_then(|()| {
        if seen.sources.keys().all(|(role, _)| *role == Role::Gcov) {
            Err(anyhow!(
                "no dump, gcda, gcno or ELF file among the inputs: nothing to check"
            ))
        } else {
            Ok(())
        }
    });
    if let Err(e) = gathered {
        eprintln!("xencov-rs: error: {e:#}");
        return Ok(ExitCode::from(2));
    }
    for note in &seen.notes {
        eprintln!("xencov-rs: note: {note}");
    }
    let sources: Vec<&Source> = seen.sources.values().collect();
    let mut verdicts = verdicts(&sources);
    verdicts.extend(seen.xen.iter().filter_map(xen_verdict));
    verdicts.extend(mapping_verdicts(&seen.mappings, &sources));
    let bad = verdicts.iter().any(|v| v.fails);
    if args.json {
        #[derive(Serialize)]
        struct Report<'a> {
            sources: &'a [&'a Source],
            xen: &'a [XenSeen],
            mappings: &'a [MappingSeen],
            notes: &'a [String],
            verdicts: &'a [PairVerdict],
            status: &'static str,
        }
        let report = Report {
            sources: &sources,
            xen: &seen.xen,
            mappings: &seen.mappings,
            notes: &seen.notes,
            verdicts: &verdicts,
            status: if bad { "incompatible" } else { "ok" },
        };
        crate::output::print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        crate::output::print(&text(&sources, &seen, &verdicts, bad))?;
    }
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The coverage mapping of each clang-built ELF file against the clang
/// releases its `.comment` names and the raw profiles among the inputs
/// (the judgement is `xencov::check::llvm`'s).
fn mapping_verdicts(mappings: &[MappingSeen], sources: &[&Source]) -> Vec<PairVerdict> {
    let mut out = Vec::new();
    for m in mappings {
        let a = format!(
            "coverage mapping version {} in {}",
            m.versions
                .iter()
                .map(|&v| format!("{v} ({})", llvm_name(v)))
                .collect::<Vec<_>>()
                .join(" and "),
            m.file
        );
        for &clang in &m.clangs {
            let verdict = judge_mapping_clang(&m.file, &m.versions, clang);
            out.push(PairVerdict {
                fails: verdict.agreement == Agreement::Incompatible,
                a: a.clone(),
                b: clang.map_or_else(
                    || "compiler clang".into(),
                    |c| format!("compiler clang {c}"),
                ),
                verdict,
                decisive: true,
            });
        }
        let [field] = m.versions.as_slice() else {
            continue;
        };
        for s in sources {
            if let Some(Llvm::RawProfile(raw)) = s.llvm {
                let verdict = judge_mapping_profile(&m.file, *field, raw);
                out.push(PairVerdict {
                    fails: verdict.agreement == Agreement::Incompatible,
                    a: a.clone(),
                    b: label(s),
                    verdict,
                    decisive: true,
                });
            }
        }
    }
    out
}

/// The library's verdict on a hypervisor and its newest GCC, labelled.
fn xen_verdict(x: &XenSeen) -> Option<PairVerdict> {
    let gcc = x.newest_gcc?;
    let verdict = pairs::xen_gcc(x.release, gcc)?;
    Some(PairVerdict {
        a: format!("hypervisor Xen {} ({})", x.release, x.file),
        b: format!("compiler GCC {} ({})", gcc.gcc(), gcc.chars()),
        fails: verdict.agreement == Agreement::Incompatible,
        verdict,
        decisive: true,
    })
}

fn text(sources: &[&Source], seen: &Seen, verdicts: &[PairVerdict], bad: bool) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<9} {:<7} {:<6} {:>5}  seen in",
        "role", "version", "GCC", "count"
    );
    for src in sources {
        let mut seen_in = src.examples.join(", ");
        if src.count > src.examples.len() {
            let _ = write!(seen_in, " (+{} more)", src.count - src.examples.len());
        }
        if let Some(b) = &src.banner {
            seen_in = format!("{seen_in} [{b}]");
        }
        let _ = writeln!(
            s,
            "{:<9} {:<7} {:<6} {:>5}  {seen_in}",
            src.role.name(),
            src.chars.as_deref().unwrap_or("-"),
            src.gcc.as_deref().unwrap_or("-"),
            src.count
        );
    }
    if sources.iter().all(|s| s.role != Role::Gcov) {
        let _ = writeln!(s, "(no gcov on PATH: `xencov-rs lcov` needs none)");
    }
    for x in &seen.xen {
        let _ = writeln!(
            s,
            "hypervisor Xen {} in {} (from xen_major_version/xen_minor_version)",
            x.release, x.file
        );
    }
    for m in &seen.mappings {
        let versions: Vec<String> = m
            .versions
            .iter()
            .map(|&v| format!("{v} ({})", llvm_name(v)))
            .collect();
        let _ = writeln!(
            s,
            "coverage mapping version {} in {} (from __llvm_covmap)",
            versions.join(" and "),
            m.file
        );
    }
    s.push('\n');
    for v in verdicts {
        let word = match v.verdict.agreement {
            Agreement::Same => "same format",
            Agreement::Compatible => "compatible",
            Agreement::Incompatible if v.decisive => "INCOMPATIBLE",
            Agreement::Incompatible => "incompatible (another listed compiler agrees)",
        };
        let _ = writeln!(s, "{} vs {}: {word}: {}", v.a, v.b, v.verdict.why);
        if let Some(a) = &v.verdict.advice
            && v.verdict.agreement != Agreement::Same
        {
            let _ = writeln!(s, "    what to do: {a}");
        }
    }
    let _ = writeln!(
        s,
        "verdict: {}",
        if bad {
            "incompatible (exit status 1)"
        } else {
            "all agree"
        }
    );
    s
}

//! Real hypervisors (issue 14): `scripts/xen-vm` builds Xen from the tarballs
//! in `../shared/xen` with coverage, boots it under qemu (TCG) with a busybox
//! dom0 carrying the binary under test (and Debian's `xencov` for 4.17), and
//! runs a fixed dom0 script of reads, resets and failure cases
//! (`scripts/xen-vm-dom0`); the results come back on a virtual disk. Here the
//! results are checked, and on the host the dumps against the real tools:
//! `check --xen-syms`, the matching `gcov` on every split file,
//! `lcov --capture` record by record, merge and reset arithmetic. A clang
//! build (issue 18) returns a raw LLVM profile: there the oracles are
//! llvm-profdata and llvm-cov of the same release (clang 19: the trixie
//! chroot; clang 21, the newest in sid: the sid chroot).
//!
//! Booting needs qemu-system-x86_64, root (the build cache lives under
//! /var/cache) and `../shared/xen`. Without them every test here is skipped
//! with a loud message on stderr, unless XENCOV_REQUIRE_VM=1 (CI), where a
//! missing prerequisite fails the test. The boots run one at a time.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use xencov::gcov::gcda::{Gcda, Record, Values};
use xencov::gcov::kinds::MergeRule;
use xencov::llvm::raw::RawProfile;
use xencov::xen::dump::Container;

/// One boot at a time: two cores cannot run two TCG guests and stay inside
/// the guard timeout.
static VM: Mutex<()> = Mutex::new(());

/// What is missing for booting, if anything.
/// `suite`: the chroot the case's compiler lives in (`None`: the host's gcc-12).
fn missing_prerequisite(suite: Option<&str>) -> Option<String> {
    let on_path = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !on_path("qemu-system-x86_64") {
        return Some(
            "qemu-system-x86_64 is not installed (scripts/setup installs qemu-system-x86)".into(),
        );
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (the Xen build cache is /var/cache/xencov-rs)".into());
    }
    if !common::root().join("../shared/xen/README.md").is_file() {
        return Some("../shared/xen is missing".into());
    }
    if !std::fs::read_dir("/boot").is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-")))
    }) {
        return Some("no Debian kernel in /boot (scripts/setup installs linux-image-amd64)".into());
    }
    if let Some(suite) = suite
        && !Command::new(common::root().join("scripts/chroot"))
            .args(["have", suite])
            .status()
            .is_ok_and(|s| s.success())
    {
        return Some(format!(
            "no {suite} chroot for gcc-14 and clang (scripts/setup makes it)"
        ));
    }
    None
}

/// The results of one boot.
struct Boot {
    case: &'static str,
    /// The build directory (`tree/xen` holds xen-syms and the notes).
    build: PathBuf,
    results: PathBuf,
    console: String,
}

impl Boot {
    fn xen(&self) -> PathBuf {
        self.build.join("tree/xen")
    }
    fn file(&self, name: &str) -> PathBuf {
        self.results.join(name)
    }
    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_else(|e| {
            panic!(
                "{}: {name}: {e} (the dom0 script did not get there; console log:\n{})",
                self.case,
                tail(&self.console)
            )
        })
    }
    /// Exit status of a dom0 step.
    fn rc(&self, step: &str) -> i32 {
        self.text(&format!("{step}.rc")).trim().parse().unwrap()
    }
    fn err(&self, step: &str) -> String {
        self.text(&format!("{step}.err"))
    }
    /// Asserts that a dom0 step succeeded.
    fn ok(&self, step: &str) {
        assert_eq!(
            self.rc(step),
            0,
            "{}: {step} failed: {}",
            self.case,
            self.err(step)
        );
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// The chroot of a case's compiler, as scripts/xen-vm's `suite_of`: trixie
/// for gcc-14 and clang 19, sid for clang 21; `None` for the host's gcc-12.
fn suite_of(case: &str) -> Option<&'static str> {
    if case.contains("clang21") {
        Some("sid")
    } else if case.contains("gcc14") || case.contains("clang19") {
        Some("trixie")
    } else {
        None
    }
}

/// Boots `case` once through scripts/xen-vm, or says why not (None: skipped).
fn boot(case: &'static str) -> Option<Boot> {
    if let Some(why) = missing_prerequisite(suite_of(case)) {
        if std::env::var("XENCOV_REQUIRE_VM").is_ok_and(|v| v == "1") {
            panic!("XENCOV_REQUIRE_VM=1 but {why}");
        }
        // Straight to standard error: the test harness captures eprintln!.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "\n\
             ************************************************************\n\
             SKIPPED xen_vm {case}: {why}.\n\
             No real hypervisor was booted; set XENCOV_REQUIRE_VM=1 to fail.\n\
             ************************************************************\n"
            )
            .as_bytes(),
        );
        return None;
    }
    let _one = VM.lock().unwrap_or_else(|e| e.into_inner());
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("xen-vm/{case}"));
    // XENCOV_VM_RESULTS=DIR re-checks the results an earlier
    // `scripts/xen-vm matrix DIR` left (DIR/CASE), without booting: for
    // working on the checks. Never in CI.
    let rechecked = std::env::var_os("XENCOV_VM_RESULTS").map(|d| PathBuf::from(d).join(case));
    let status = if let Some(dir) = &rechecked {
        assert!(
            std::env::var("XENCOV_REQUIRE_VM").as_deref() != Ok("1"),
            "XENCOV_VM_RESULTS and XENCOV_REQUIRE_VM=1 do not go together"
        );
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "xen_vm {case}: NOT BOOTED: re-checking the results in {}\n",
                dir.display()
            )
            .as_bytes(),
        );
        std::process::ExitStatus::default()
    } else {
        Command::new(common::root().join("scripts/xen-vm"))
            .args(["run", case])
            .arg(&out)
            // The binary under test, not whatever target/release holds.
            .env("XENCOV_BIN", env!("CARGO_BIN_EXE_xencov-rs"))
            .status()
            .unwrap()
    };
    let out = rechecked.unwrap_or(out);
    let console = std::fs::read_to_string(out.join("console.log")).unwrap_or_default();
    assert!(
        status.success(),
        "scripts/xen-vm run {case} failed; console:\n{}",
        tail(&console)
    );
    let build = PathBuf::from(
        std::fs::read_to_string(out.join("build-dir"))
            .unwrap()
            .trim(),
    );
    Some(Boot {
        case,
        build,
        results: out.join("results"),
        console,
    })
}

fn xencov(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs our binary with `args` for `case`; it must succeed (the failure
/// names the case and the command, and shows both outputs).
fn ours_ok(case: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let o = xencov(args);
    assert!(
        o.status.success(),
        "{case}: {}:\n{}{}",
        args.first().map_or("".into(), |a| a.to_string_lossy()),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Our `merge` of two reads of `case` into `out`; it must succeed.
fn merge_reads(case: &str, read1: &Path, read2: &Path, out: &Path) {
    ours_ok(
        case,
        &[
            "merge".as_ref(),
            read1.as_os_str(),
            read2.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    );
}

/// (path, decoded payload) of every unit of a dump.
fn units(dump: &Path) -> Vec<(String, Gcda)> {
    let bytes = std::fs::read(dump).unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    let c = Container::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    c.units
        .iter()
        .map(|u| {
            let g = u
                .gcda()
                .unwrap_or_else(|e| panic!("{}: {}: {e}", dump.display(), u.path_lossy()));
            (u.path_lossy(), g)
        })
        .collect()
}

/// Every counter of kind `rule` of a dump, in order, as (unit, value).
fn counters(units: &[(String, Gcda)], rule: MergeRule) -> Vec<u64> {
    let mut v = Vec::new();
    for (_, g) in units {
        for f in g.functions() {
            for c in &f.counters {
                if c.kind.merge == rule {
                    v.extend(c.values.iter());
                }
            }
        }
    }
    v
}

/// Whether a dump is a raw LLVM profile (a clang build) rather than gcov data.
fn is_llvm(dump: &Path) -> bool {
    let bytes = std::fs::read(dump).unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    xencov::llvm::raw::sniff(&bytes).is_some()
}

/// A raw LLVM profile, decoded and validated.
fn profile(dump: &Path) -> RawProfile {
    let bytes = std::fs::read(dump).unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    RawProfile::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", dump.display()))
}

/// Units of a gcov dump, functions of a raw LLVM profile.
fn entries(dump: &Path) -> usize {
    if is_llvm(dump) {
        profile(dump).functions.len()
    } else {
        units(dump).len()
    }
}

/// The sum of the arc counters of a gcov dump, of every counter of a raw
/// LLVM profile (all of them count executions).
fn arc_sum(dump: &Path) -> u128 {
    if is_llvm(dump) {
        return profile(dump)
            .functions
            .iter()
            .flat_map(|f| &f.counters)
            .map(|&x| u128::from(x))
            .sum();
    }
    counters(&units(dump), MergeRule::Add)
        .iter()
        .map(|&x| u128::from(x))
        .sum()
}

/// The dump with every counter value zeroed: what must be identical between
/// two reads of the same hypervisor. For a raw LLVM profile: the header and
/// each function's name, hashes and counter, bitmap and value-site sizes.
fn shape(dump: &Path) -> Vec<(String, Vec<u8>)> {
    if is_llvm(dump) {
        let p = profile(dump);
        let mut v = vec![("header".to_string(), format!("{:?}", p.header).into_bytes())];
        v.extend(p.functions.iter().map(|f| {
            (
                f.name.clone(),
                format!(
                    "{:#x} {:#x} {} {} {:?}",
                    f.name_hash,
                    f.hash,
                    f.counters.len(),
                    f.bitmap.len(),
                    f.value_sites
                )
                .into_bytes(),
            )
        }));
        return v;
    }
    units(dump)
        .into_iter()
        .map(|(p, mut g)| {
            for r in &mut g.records {
                if let Record::Function(f) = r {
                    for c in &mut f.counters {
                        c.values = Values::Stored(vec![0; c.values.len()]);
                    }
                }
            }
            (p, g.encode())
        })
        .collect()
}

/// Checks of every dump-producing boot.
fn dom0_reads_and_resets(b: &Boot) {
    for s in [
        "read1",
        "read2",
        "read3",
        "reset",
        "read4",
        "readreset",
        "read6",
        "stdout",
    ] {
        b.ok(s);
    }
    let n = entries(&b.file("read1.xcov"));
    assert!(n > 100, "{}: only {n} units or functions", b.case);
    for d in ["read2", "read3", "read4", "read5", "read6", "stdout"] {
        assert_eq!(
            shape(&b.file("read1.xcov")),
            shape(&b.file(&format!("{d}.xcov"))),
            "{}: {d} differs from read1 in more than counters",
            b.case
        );
    }
    // Counters only grow while nothing resets them.
    let sum = |d: &str| arc_sum(&b.file(&format!("{d}.xcov")));
    assert!(sum("read2") >= sum("read1"), "{}", b.case);
    // read --reset with an unwritable output fails and resets nothing.
    assert_ne!(b.rc("failreset"), 0, "{}: failreset succeeded", b.case);
    assert!(
        b.err("failreset").contains("/no/such/dir"),
        "{}: {}",
        b.case,
        b.err("failreset")
    );
    assert!(
        sum("read3") >= sum("read2"),
        "{}: the counters were reset by a read --reset whose output failed ({} < {})",
        b.case,
        sum("read3"),
        sum("read2")
    );
    // After a reset (ours, and read --reset) the counters are smaller: the
    // boot-time code never runs again.
    assert!(sum("read4") < sum("read3"), "{}: reset", b.case);
    assert!(sum("read6") < sum("read5"), "{}: read --reset", b.case);
    // Not root: refused with a reason.
    assert_ne!(b.rc("nonroot"), 0, "{}", b.case);
    assert!(
        b.err("nonroot").contains("root"),
        "{}: {}",
        b.case,
        b.err("nonroot")
    );
}

/// Only /proc/xen/privcmd (xenfs): read falls back to it.
fn proc_xen_privcmd(b: &Boot) {
    b.ok("procxen");
    assert_eq!(
        shape(&b.file("read1.xcov")),
        shape(&b.file("procxen.xcov")),
        "{}",
        b.case
    );
}

/// No privcmd at all (module unloaded): Xen is told apart from "not Xen".
fn no_privcmd(b: &Boot) {
    assert_ne!(b.rc("noprivcmd"), 0, "{}", b.case);
    let e = b.err("noprivcmd");
    assert!(
        e.contains("privcmd") && !e.contains("not running on Xen"),
        "{}: {e}",
        b.case
    );
    assert!(!b.file("noprivcmd.xcov").exists());
}

/// The gcov of the build's compiler: gcov-12 on the host, gcov-14 in the
/// trixie chroot (which sees the temp directory at the same path).
fn gcov_cmd(gcc: u8, dir: &Path) -> Command {
    let mut c = common::gcc(gcc).tool("gcov");
    c.current_dir(dir);
    c
}

/// A tracefile as SF -> the sorted lines of its record.
fn records(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cur = String::new();
    for l in lines.iter().filter(|l| !l.starts_with("TN:")) {
        if let Some(sf) = l.strip_prefix("SF:") {
            cur = sf.to_string();
        }
        out.entry(cur.clone()).or_default().push(l.clone());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Every source file the notes name (folded, absolute), with the number of
/// units whose notes name it. The names are the notes' strings that end in
/// `.c` or `.h`, resolved against the build tree as gcov resolves them.
fn sources_in_notes(notes_dir: &Path, xen: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for gcno in common::files_with_suffix(notes_dir, ".gcno") {
        let bytes = std::fs::read(&gcno).unwrap();
        let mut here = std::collections::BTreeSet::new();
        for piece in bytes.split(|&c| !(0x21..0x7f).contains(&c)) {
            let piece = String::from_utf8_lossy(piece);
            if piece.ends_with(".c") || piece.ends_with(".h") {
                let folded = xencov::paths::fold(&piece);
                here.insert(if folded.starts_with('/') {
                    folded
                } else {
                    format!("{}/{folded}", xen.display())
                });
            }
        }
        for sf in here {
            *out.entry(sf).or_insert(0) += 1;
        }
    }
    out
}

/// Sources that a unit's notes name twice, once through `dir/..` (4.17's
/// common/xenoprof.c includes compat/xenoprof.c, which includes
/// ../xenoprof.c): gcov reports both names and geninfo keeps one of them at
/// random, so there lcov --capture is no oracle (formats/gcov-counts.md §11.4).
fn sources_under_two_names(notes_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for gcno in common::files_with_suffix(notes_dir, ".gcno") {
        let bytes = std::fs::read(&gcno).unwrap();
        for piece in bytes.split(|&c| !(0x21..0x7f).contains(&c)) {
            let piece = String::from_utf8_lossy(piece);
            if piece.contains("/../") && piece.ends_with(".c") {
                out.push(xencov::paths::fold(&piece));
            }
        }
    }
    out
}

/// Host side: check, split + gcov, lcov vs lcov --capture, merge.
fn host_checks(b: &Boot, gcc: u8) {
    let xen = b.xen();
    let read1 = b.file("read1.xcov");
    let t = common::Tmp::new(&format!("xen-vm-{}", b.case));

    // check: the compilers of xen-syms, the dump, the notes and the gcov
    // agree (gcov-14 runs in the chroot: a wrapper stands for it).
    let gcov = if gcc == 12 {
        PathBuf::from("gcov-12")
    } else {
        let w = t.p("gcov-14");
        std::fs::write(
            &w,
            format!(
                "#!/bin/sh\nexec {} run trixie {} gcov-14 \"$@\"\n",
                common::root().join("scripts/chroot").display(),
                std::env::temp_dir().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&w, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        w
    };
    let o = ours_ok(
        b.case,
        &[
            "check".as_ref(),
            "--gcov".as_ref(),
            gcov.as_os_str(),
            "--xen-syms".as_ref(),
            xen.join("xen-syms").as_os_str(),
            "--gcno-dir".as_ref(),
            xen.as_os_str(),
            read1.as_os_str(),
        ],
    );
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("verdict"), "{report}");

    // split: every unit lands at its path under the build tree prefix.
    let split = t.p("split");
    let prefix = format!("{}/", xen.display());
    ours_ok(
        b.case,
        &[
            "split".as_ref(),
            read1.as_os_str(),
            "-o".as_ref(),
            split.as_os_str(),
            "--strip-prefix".as_ref(),
            prefix.as_ref(),
            "--strict".as_ref(),
        ],
    );
    let gcdas = common::files_with_suffix(&split, ".gcda");
    let n = units(&read1).len();
    assert_eq!(gcdas.len(), n, "{}", b.case);
    // Notes beside the counters; gcov must take every unit.
    for g in &gcdas {
        let rel = g.strip_prefix(&split).unwrap();
        let stem = rel.to_string_lossy();
        let gcno = xen.join(format!("{}.gcno", stem.strip_suffix(".gcda").unwrap()));
        std::fs::copy(
            &gcno,
            split.join(format!("{}.gcno", stem.strip_suffix(".gcda").unwrap())),
        )
        .unwrap_or_else(|e| panic!("{}: {}: {e}", b.case, gcno.display()));
    }
    let o = gcov_cmd(gcc, &split)
        .args(["-n", "-b"])
        .args(&gcdas)
        .output()
        .unwrap();
    let gerr = String::from_utf8_lossy(&o.stderr);
    let gout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}: gcov: {gerr}", b.case);
    for bad in [
        "cannot open",
        "version",
        "stamp",
        "corrupt",
        "overflow",
        "mismatch",
    ] {
        assert!(!gerr.contains(bad), "{}: gcov: {gerr}", b.case);
    }
    assert!(
        gout.matches("Lines executed").count() >= n,
        "{}: gcov reported on fewer files than the {n} units",
        b.case
    );

    // lcov: ours equals lcov --capture after lcov -a. geninfo skips dot
    // files, so its copy has the leading dot of every name removed.
    {
        let lc = t.p("lcov-copy");
        for f in common::files_with_suffix(&split, "")
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "gcda" || e == "gcno"))
        {
            let rel = f.strip_prefix(&split).unwrap();
            let name = rel.file_name().unwrap().to_string_lossy();
            let dest = lc
                .join(rel.parent().unwrap())
                .join(name.strip_prefix('.').unwrap_or(&name));
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&f, &dest).unwrap();
        }
        let work = t.p("lcov-work");
        std::fs::create_dir_all(&work).unwrap();
        let info = t.p("ours.info");
        let map = format!("{}=", xen.display());
        ours_ok(
            b.case,
            &[
                "lcov".as_ref(),
                read1.as_os_str(),
                "--gcno-dir".as_ref(),
                xen.as_os_str(),
                "--prefix-map".as_ref(),
                map.as_ref(),
                "-o".as_ref(),
                info.as_os_str(),
            ],
        );
        if gcc == 12 {
            common::lcov_capture(&lc, "gcov-12", &work);
            let raw = |p: &Path| -> Vec<String> {
                std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect()
            };
            let (ours, theirs) = (raw(&info), raw(&work.join("combined.info")));
            assert!(theirs.iter().filter(|l| l.starts_with("DA:")).count() > 1000);
            let (mut ours, mut theirs) = (records(&ours), records(&theirs));
            for sf in sources_under_two_names(&split) {
                let sf = format!("{}/{sf}", xen.display());
                // lcov kept one name's functions, we fold both into one
                // record: ours has every function lcov reports.
                let (o, z) = (ours.remove(&sf), theirs.remove(&sf));
                let (o, z) = (o.unwrap_or_default(), z.unwrap_or_default());
                for f in z.iter().filter(|l| l.starts_with("FN:")) {
                    assert!(o.contains(f), "{}: {sf}: {f} missing", b.case);
                }
            }
            assert_eq!(ours.len(), theirs.len(), "{}: source files", b.case);
            for (sf, z) in &theirs {
                assert_eq!(ours.get(sf), Some(z), "{}: {sf}", b.case);
            }
        } else {
            // lcov 2.x of the chroot: its dialect differs, so the counts
            // per source file are compared.
            // lcov 2 stops on Xen's gcov output ("mismatched exception tag",
            // "inconsistent") unless told to go on (../shared/xen/README.md).
            let cap = work.join("capture.info");
            common::run(
                common::gcc(gcc)
                    .command("lcov")
                    .args(["--capture", "--quiet", "--rc", "branch_coverage=1"])
                    .args(["--ignore-errors", "source,source,mismatch,inconsistent"])
                    .args(["--gcov-tool", &common::gcc(gcc).gcov(), "-d"])
                    .arg(&lc)
                    .arg("-o")
                    .arg(&cap),
            );
            let theirs = common::tracefile_counts(&cap);
            let ours = common::tracefile_counts(&info);
            assert!(
                theirs.len() > 100,
                "{}: lcov 2 saw {} files",
                b.case,
                theirs.len()
            );
            assert_eq!(ours.len(), theirs.len(), "{}", b.case);
            // Sources of more than one unit (headers; efi/runtime.c, which
            // efi/compat.c includes) are left out: lcov 2 combines the
            // branches of several units' copies of one line by its own rule,
            // lcov 1's `lcov -a` (which we follow) by another; the gcc-12
            // cases compare those too.
            let units_of = sources_in_notes(&split, &xen);
            let mut compared = 0;
            for (file, c) in theirs.iter().filter(|(f, _)| units_of.get(*f) == Some(&1)) {
                let o = &ours[file];
                assert_eq!(o.lines, c.lines, "{}: {file}", b.case);
                assert_eq!(o.functions, c.functions, "{}: {file}", b.case);
                assert_eq!(o.branches, c.branches, "{}: {file}", b.case);
                // lcov 2 counts functions that start at one location once
                // in FNF/FNH (aliases, FNL); lcov 1 and we count each.
                for t in ["LF", "LH", "BRF", "BRH"] {
                    assert_eq!(o.totals.get(t), c.totals.get(t), "{}: {file}: {t}", b.case);
                }
                compared += 1;
            }
            assert!(compared > 100, "{}: {compared} .c files", b.case);
        }
    }

    // merge of two reads adds up (sums; bitwise or for condition masks).
    let merged = t.p("merged.xcov");
    let r2 = b.file("read2.xcov");
    merge_reads(b.case, &read1, &r2, &merged);
    let (u1, u2, um) = (units(&read1), units(&r2), units(&merged));
    let by_path = |u: &[(String, Gcda)]| -> BTreeMap<String, Gcda> { u.iter().cloned().collect() };
    let (m1, m2, mm) = (by_path(&u1), by_path(&u2), by_path(&um));
    assert_eq!(mm.len(), m1.len());
    let mut checked = 0u64;
    for (path, g) in &mm {
        let (a, z) = (&m1[path], &m2[path]);
        for ((fm, fa), fz) in g.functions().zip(a.functions()).zip(z.functions()) {
            for ((cm, ca), cz) in fm.counters.iter().zip(&fa.counters).zip(&fz.counters) {
                for ((m, x), y) in cm.values.iter().zip(ca.values.iter()).zip(cz.values.iter()) {
                    let want = match cm.kind.merge {
                        MergeRule::Add => x + y,
                        MergeRule::Ior => x | y,
                        other => panic!("{}: unexpected counter kind {other:?} in {path}", b.case),
                    };
                    assert_eq!(m, want, "{}: {path}", b.case);
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 10_000,
        "{}: only {checked} counters merged",
        b.case
    );
}

/// Facts dom0 reads from /sys/hypervisor before any coverage sysctl.
fn facts(b: &Boot, release: &str, gcc: &str) {
    let f = b.text("facts.txt");
    let (major, minor) = release.split_once('.').unwrap();
    assert!(f.contains(&format!("major {major}\n")), "{}: {f}", b.case);
    assert!(f.contains(&format!("minor {minor}\n")), "{}: {f}", b.case);
    assert!(f.contains(&format!(") {gcc}")), "{}: {f}", b.case);
}

/// read and reset refuse without the override, before any sysctl.
fn refused(b: &Boot, why: &str) {
    for s in ["read-refused", "reset-refused"] {
        assert_eq!(b.rc(s), 1, "{}: {s}: {}", b.case, b.err(s));
        assert!(b.err(s).contains(why), "{}: {s}: {}", b.case, b.err(s));
        assert!(
            b.err(s).contains("--i-know-the-risk"),
            "{}: {}",
            b.case,
            b.err(s)
        );
    }
    assert!(!b.file("refused.xcov").exists() && !b.file("stock.xcov").exists());
}

#[test]
fn master_gcc12() {
    let Some(b) = boot("master-gcc12") else {
        return;
    };
    facts(&b, "4.23", "12.2.0");
    dom0_reads_and_resets(&b);
    proc_xen_privcmd(&b);
    no_privcmd(&b);
    host_checks(&b, 12);
}

#[test]
fn master_gcc14_condition_coverage() {
    let Some(b) = boot("master-gcc14-cond") else {
        return;
    };
    facts(&b, "4.23", "14.");
    dom0_reads_and_resets(&b);
    proc_xen_privcmd(&b);
    no_privcmd(&b);
    // A real MC/DC dump: most units carry condition counters.
    let u = units(&b.file("read1.xcov"));
    let with_conditions = u
        .iter()
        .filter(|(_, g)| {
            g.functions()
                .any(|f| f.counters.iter().any(|c| c.kind.name == "conditions"))
        })
        .count();
    assert!(
        with_conditions * 10 > u.len() * 9,
        "only {with_conditions} of {} units have condition counters",
        u.len()
    );
    host_checks(&b, 14);
}

/// Stock 4.17.7 + gcc-12 takes a fatal page fault on the first coverage
/// sysctl: read and reset must refuse before it and leave the host up.
#[test]
fn stock_4_17_gcc12_is_refused_and_stays_up() {
    let Some(b) = boot("4.17.7-gcc12-stock") else {
        return;
    };
    facts(&b, "4.17", "12.2.0");
    refused(&b, "crash");
    b.ok("alive");
    assert!(b.file("done").exists(), "{}: dom0 did not finish", b.case);
    // The refusal is not overcautious: with the override the machine dies.
    assert!(
        !b.file("forced.rc").exists(),
        "{}: the forced read returned",
        b.case
    );
    assert!(
        b.console.contains("FATAL PAGE FAULT"),
        "{}: no page fault after the forced read:\n{}",
        b.case,
        tail(&b.console)
    );
}

/// 4.17.7 with the two upstream fixes: Debian's xencov and ours read the
/// same hypervisor (the same bytes apart from counters), and a reset by
/// either is seen by the other.
#[test]
fn patched_4_17_gcc12_beside_debian_xencov() {
    let Some(b) = boot("4.17.7-gcc12-patched") else {
        return;
    };
    facts(&b, "4.17", "12.2.0");
    // /sys/hypervisor cannot tell the fixed build from the stock one.
    refused(&b, "crash");
    dom0_reads_and_resets(&b);
    for s in [
        "deb-read1",
        "ours-read1",
        "deb-reset",
        "ours-read2",
        "ours-read3",
        "ours-reset",
        "deb-read2",
    ] {
        b.ok(s);
    }
    assert_eq!(shape(&b.file("deb1.xcov")), shape(&b.file("ours1.xcov")));
    assert_eq!(shape(&b.file("deb2.xcov")), shape(&b.file("ours1.xcov")));
    let sum = |d: &str| arc_sum(&b.file(&format!("{d}.xcov")));
    assert!(
        sum("ours2") < sum("ours1"),
        "Debian's reset not seen by ours"
    );
    assert!(
        sum("deb2") < sum("ours3"),
        "our reset not seen by Debian's xencov"
    );
    proc_xen_privcmd(&b);
    b.ok("procxen-deb");
    assert_eq!(
        shape(&b.file("procxen-deb.xcov")),
        shape(&b.file("procxen.xcov"))
    );
    no_privcmd(&b);
    host_checks(&b, 12);
}

/// 4.20.4 built with gcc-14: its coverage code lays out gcov_info for eight
/// counter kinds, GCC 14 emits nine.
#[test]
fn xen_4_20_gcc14_is_untrustworthy() {
    let Some(b) = boot("4.20.4-gcc14") else {
        return;
    };
    facts(&b, "4.20", "14.");
    refused(&b, "not be the coverage");
    // With the override: what the hypervisor returns, and read says it
    // cannot be trusted.
    b.ok("read1");
    assert!(
        b.err("read1").contains("cannot be trusted"),
        "{}: {}",
        b.case,
        b.err("read1")
    );
    // 305 units and not one function: each unit's function count came from
    // the wrong word of struct gcov_info.
    let u = units(&b.file("read1.xcov"));
    assert!(u.len() > 100, "{}", b.case);
    assert!(u.iter().all(|(_, g)| g.functions().next().is_none()));
    split_says_untrusted(&b.file("read1.xcov"));
    // check knows the release from xen-syms.
    let o = xencov(&[
        "check".as_ref(),
        "--xen-syms".as_ref(),
        b.xen().join("xen-syms").as_os_str(),
        b.file("read1.xcov").as_os_str(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("hypervisor Xen 4.20"), "{out}");
    assert!(out.contains("cannot be trusted"), "{out}");
}

/// `split` of such a dump warns, and `--strict` refuses it.
fn split_says_untrusted(dump: &Path) {
    let t = common::Tmp::new("xen-vm-untrusted");
    let o = xencov(&[
        "split".as_ref(),
        dump.as_os_str(),
        "-o".as_ref(),
        t.0.as_os_str(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{e}");
    assert!(e.contains("this dump cannot be trusted"), "{e}");
    let o = xencov(&[
        "split".as_ref(),
        dump.as_os_str(),
        "-o".as_ref(),
        t.p("strict").as_os_str(),
        "--strict".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be trusted"));
}

/// The dump a booted Xen 4.20.4 built with gcc-14 returned (kept in
/// samples/xen-vm/, so this runs without a VM).
#[test]
fn split_says_the_real_4_20_gcc14_dump_cannot_be_trusted() {
    split_says_untrusted(&common::samples().join("xen-vm/xen-4.20.4-gcc-14.xcov"));
}

/// An LLVM tool of the case's chroot (`llvm-profdata-19`, `llvm-cov-21`),
/// run in `dir` with `dir`, the build directory and the boot's results
/// bind-mounted at their own paths.
fn chroot_llvm(b: &Boot, dir: &Path, tool: &str) -> Command {
    let suite = suite_of(b.case).unwrap_or_else(|| panic!("{}: not a clang case", b.case));
    let mut c = Command::new(common::root().join("scripts/chroot"));
    let binds = format!(
        "{}:{}:{}",
        dir.display(),
        b.build.display(),
        b.results.display()
    );
    c.args(["run", suite]).arg(binds).arg(tool);
    c
}

/// Runs a command, asserts it succeeded, returns its standard output.
fn stdout_of(case: &str, what: &str, c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{case}: {what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `llvm-profdata show --all-functions --counts` as (name, hash, counters),
/// sorted: the function entry count first, then the block counts, as
/// [`RawProfile`] holds them.
fn parse_profdata_show(text: &str) -> Vec<(String, u64, Vec<u64>)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, u64, Vec<u64>)> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            out.extend(cur.take());
            cur = Some((name.to_string(), 0, Vec::new()));
            continue;
        }
        let (Some(f), Some(l)) = (cur.as_mut(), line.strip_prefix("    ")) else {
            continue;
        };
        if let Some(h) = l.strip_prefix("Hash: 0x") {
            f.1 = u64::from_str_radix(h, 16).unwrap();
        } else if let Some(c) = l.strip_prefix("Function count: ") {
            f.2.push(c.parse().unwrap());
        } else if let Some(c) = l.strip_prefix("Block counts: [") {
            f.2.extend(
                c.strip_suffix(']')
                    .unwrap()
                    .split(", ")
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<u64>().unwrap()),
            );
        }
    }
    out.extend(cur);
    out.sort();
    out
}

/// Records of one name and structural hash summed counter by counter, as an
/// indexed profile keeps them: Xen has files of one base name in several
/// directories (`acpi.c`), whose static functions share a PGO name
/// (`acpi.c:cpu_has`), and `llvm-profdata merge` adds such records up.
fn fold_same_name(v: &[(String, u64, Vec<u64>)]) -> Vec<(String, u64, Vec<u64>)> {
    let mut out: BTreeMap<(String, u64), Vec<u64>> = BTreeMap::new();
    for (name, hash, c) in v {
        match out.entry((name.clone(), *hash)) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(c.clone());
            }
            std::collections::btree_map::Entry::Occupied(mut e) => {
                assert_eq!(
                    e.get().len(),
                    c.len(),
                    "{name} {hash:#x}: counter numbers differ"
                );
                for (a, b) in e.get_mut().iter_mut().zip(c) {
                    *a += b;
                }
            }
        }
    }
    out.into_iter().map(|((n, h), c)| (n, h, c)).collect()
}

/// Two function lists are equal; a difference is shown by its first
/// function, not by thirteen thousand.
fn same_functions(
    case: &str,
    what: &str,
    ours: &[(String, u64, Vec<u64>)],
    theirs: &[(String, u64, Vec<u64>)],
) {
    if let Some((o, t)) = ours.iter().zip(theirs).find(|(o, t)| o != t) {
        panic!("{case}: {what}: first difference: ours {o:?}, theirs {t:?}");
    }
    assert_eq!(ours.len(), theirs.len(), "{case}: {what}: functions");
}

fn ours_sorted(p: &RawProfile) -> Vec<(String, u64, Vec<u64>)> {
    let mut v: Vec<_> = p
        .functions
        .iter()
        .map(|f| (f.name.clone(), f.hash, f.counters.clone()))
        .collect();
    v.sort();
    v
}

/// Host side of a clang build (issue 18): `check --xen-syms` says the
/// compiler, the profile and the coverage mapping belong together;
/// llvm-profdata of the same release reads every function's counters as we
/// decode them and merges two reads into what our `merge` gives; llvm-cov
/// exports an lcov tracefile with lines hit, which our `lcov --object`
/// equals per source file in every count, and our summary's totals are
/// what `lcov --summary` counts in it.
fn llvm_host_checks(b: &Boot, clang: u32) {
    let xen_syms = b.xen().join("xen-syms");
    let read1 = b.file("read1.xcov");
    let read2 = b.file("read2.xcov");
    let t = common::Tmp::new(&format!("xen-vm-{}", b.case));
    let (profdata, cov) = (
        format!("llvm-profdata-{clang}"),
        format!("llvm-cov-{clang}"),
    );

    // check: clang from xen-syms' .comment and the profile's raw version
    // belong together (issue 18 item 1).
    let o = ours_ok(
        b.case,
        &[
            "check".as_ref(),
            "--xen-syms".as_ref(),
            xen_syms.as_os_str(),
            read1.as_os_str(),
        ],
    );
    let report = String::from_utf8_lossy(&o.stdout);
    let version = xencov::llvm::raw_version_of_clang(clang).unwrap();
    assert!(
        report.contains(&format!(
            "clang {clang} writes raw profile version {version}"
        )),
        "{}: {report}",
        b.case
    );
    // The coverage mapping version of xen-syms: the one this clang writes,
    // and one some release writes together with the profile's version.
    let mapping = xencov::check::llvm::mapping_versions(&std::fs::read(&xen_syms).unwrap())
        .unwrap()
        .unwrap();
    let [field] = mapping[..] else {
        panic!("{}: mapping versions {mapping:?}", b.case);
    };
    let writers = xencov::llvm::covmap::clangs_of_version(field).unwrap();
    assert!(writers.contains(&clang), "{}: {writers:?}", b.case);
    assert!(
        report.contains(&format!(
            "clang {clang} writes coverage mapping version {field} (Version{})",
            field + 1
        )) && report.contains(&format!(
            "raw profile version {version} and {}'s coverage mapping version {field}",
            xen_syms.display()
        )),
        "{}: {report}",
        b.case
    );
    assert!(report.contains("verdict: all agree"), "{report}");
    // A profile cut short is no profile (item 3): check says where.
    let bytes = std::fs::read(&read1).unwrap();
    let cut = t.p("cut.xcov");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = xencov(&[
        "check".as_ref(),
        "--xen-syms".as_ref(),
        xen_syms.as_os_str(),
        cut.as_os_str(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "{}: check of a cut profile passed",
        b.case
    );
    assert!(
        e.contains("cut.xcov") && e.contains("offset"),
        "{}: {e}",
        b.case
    );

    // llvm-profdata reads each function as we do.
    let p1 = profile(&read1);
    let show = stdout_of(
        b.case,
        "llvm-profdata show",
        chroot_llvm(b, &t.0, &profdata)
            .args(["show", "--all-functions", "--counts"])
            .arg(&read1),
    );
    let theirs = parse_profdata_show(&show);
    assert_eq!(theirs.len(), p1.functions.len(), "{}", b.case);
    same_functions(b.case, "llvm-profdata show", &ours_sorted(&p1), &theirs);

    // Our merge of two reads is a raw profile whose counts are those of
    // llvm-profdata's merge (an indexed profile, where records of one name
    // and hash are one).
    // llvm-profdata of the same release merges (and indexes) raw profiles.
    let profdata_merge = |inputs: &[&PathBuf], out: &Path| {
        stdout_of(
            b.case,
            "llvm-profdata merge",
            chroot_llvm(b, &t.0, &profdata)
                .arg("merge")
                .args(inputs)
                .arg("-o")
                .arg(out),
        );
    };
    let merged = t.p("merged.xcov");
    merge_reads(b.case, &read1, &read2, &merged);
    let both = t.p("both.profdata");
    profdata_merge(&[&read1, &read2], &both);
    let show = |f: &Path| {
        parse_profdata_show(&stdout_of(
            b.case,
            "llvm-profdata show",
            chroot_llvm(b, &t.0, &profdata)
                .args(["show", "--all-functions", "--counts"])
                .arg(f),
        ))
    };
    let (ours_m, theirs_m) = (show(&merged), show(&both));
    assert_eq!(ours_m.len(), p1.functions.len());
    assert!(theirs_m.len() > 10_000, "{}: {}", b.case, theirs_m.len());
    same_functions(b.case, "merge", &fold_same_name(&ours_m), &theirs_m);
    assert!(arc_sum(&merged) == arc_sum(&read1) + arc_sum(&read2));

    // llvm-cov of the same release: a tracefile with lines hit.
    let one = t.p("read1.profdata");
    profdata_merge(&[&read1], &one);
    let theirs_info = t.p("llvm-cov.info");
    let text = stdout_of(
        b.case,
        "llvm-cov export",
        chroot_llvm(b, &t.0, &cov)
            .args(["export", "-format=lcov"])
            .arg(&xen_syms)
            .arg("-instr-profile")
            .arg(&one),
    );
    std::fs::write(&theirs_info, text).unwrap();
    let theirs = common::tracefile_counts(&theirs_info);
    assert!(
        theirs.len() > 100,
        "{}: llvm-cov saw {} files",
        b.case,
        theirs.len()
    );
    let hit: u64 = theirs.values().filter_map(|c| c.totals.get("LH")).sum();
    assert!(hit > 1000, "{}: llvm-cov: only {hit} lines hit", b.case);

    // Ours equals llvm-cov's per source file in every count.
    let ours_info = t.p("ours.info");
    ours_ok(
        b.case,
        &[
            "lcov".as_ref(),
            read1.as_os_str(),
            "--object".as_ref(),
            xen_syms.as_os_str(),
            "-o".as_ref(),
            ours_info.as_os_str(),
        ],
    );
    // Record by record: every FN, FNDA, DA, BRDA and total line of each
    // source file, in any order within the file.
    let lines = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    let (ours, theirs) = (records(&lines(&ours_info)), records(&lines(&theirs_info)));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{}: source files",
        b.case
    );
    for (file, z) in &theirs {
        assert_eq!(&ours[file], z, "{}: {file}", b.case);
    }

    // Our summary (`report --object`): its total row is what the real lcov
    // counts in llvm-cov's tracefile (`lcov --summary`: the DA, FN and BRDA
    // records; llvm-cov's own LF/FNF/BRF lines count a header's code once
    // for all units and are not what a summary of the records says).
    let o = xencov(&[
        "report".as_ref(),
        read1.as_os_str(),
        "--object".as_ref(),
        xen_syms.as_os_str(),
    ]);
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{}: report --object: {}",
        b.case,
        String::from_utf8_lossy(&o.stderr)
    );
    let total = summary
        .lines()
        .find(|l| l.starts_with("total "))
        .unwrap_or_else(|| panic!("{}: no total row in\n{summary}", b.case));
    let fractions: Vec<&str> = total
        .split_whitespace()
        .filter(|w| w.contains('/'))
        .collect();
    let o = Command::new("lcov")
        .args(["--rc", "lcov_branch_coverage=1", "--summary"])
        .arg(&theirs_info)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{}: lcov --summary: {text}", b.case);
    let expected: Vec<String> = ["lines", "functions", "branches"]
        .iter()
        .map(|what| {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(what))
                .unwrap_or_else(|| panic!("{}: lcov --summary: no {what}: {text}", b.case));
            // "  lines......: 17.8% (25537 of 143741 lines)"
            let inner = line.split('(').nth(1).unwrap();
            let w: Vec<&str> = inner.split_whitespace().collect();
            format!("{}/{}", w[0], w[2])
        })
        .collect();
    assert_eq!(fractions, expected, "{}: {total}", b.case);
}

/// Xen master built with clang `clang`: the hypervisor returns a raw LLVM
/// profile (of the version that release writes) through the same sysctl;
/// read, reset and the failure cases behave as for gcov dumps; then the
/// host checks against LLVM of the same release.
fn master_clang(case: &'static str, clang: u32) {
    let Some(b) = boot(case) else {
        return;
    };
    let f = b.text("facts.txt");
    assert!(f.contains("major 4\n") && f.contains("minor 23\n"), "{f}");
    assert!(
        f.contains(&format!("clang version {clang}.")),
        "{case}: {f}"
    );
    b.ok("read1");
    let version = xencov::llvm::raw_version_of_clang(clang).unwrap();
    assert!(
        b.err("read1").contains(&format!(
            "built with clang and returned a raw LLVM profile, version {version}"
        )),
        "{case}: {}",
        b.err("read1")
    );
    dom0_reads_and_resets(&b);
    proc_xen_privcmd(&b);
    no_privcmd(&b);
    llvm_host_checks(&b, clang);
}

/// Xen master built with Debian trixie's clang 19 (issue 18).
#[test]
fn master_clang19() {
    master_clang("master-clang19", 19);
}

/// Xen master built with the newest clang in sid, 21 (issue 18); its
/// oracles are llvm-profdata-21 and llvm-cov-21 of the sid chroot.
#[test]
fn master_clang21() {
    master_clang("master-clang21", 21);
}

/// The raw profile a booted Xen master built with clang `clang` returned
/// (kept in samples/xen-vm/, so this runs without a VM): Xen writes the
/// sections without compiler-rt's padding. It validates, `check` calls it
/// the version that release writes, and llvm-profdata of the same release
/// (in chroot `suite`) reads every function as we do.
fn real_xen_profile(clang: u32, suite: &str) {
    let sample = common::samples().join(format!("xen-vm/xen-4.23-unstable-clang-{clang}.xcov"));
    let version = xencov::llvm::raw_version_of_clang(clang).unwrap();
    let p = profile(&sample);
    assert_eq!(p.header.version, version);
    assert!(p.functions.len() > 10_000, "{}", p.functions.len());
    let o = xencov(&["check".as_ref(), sample.as_os_str()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(&format!("LLVM raw profile, version {version}")),
        "{out}"
    );
    let profdata = format!("llvm-profdata-{clang}");
    if !common::have_chroot(suite, &format!("{profdata} on the clang Xen profile")) {
        return;
    }
    let o = Command::new(common::root().join("scripts/chroot"))
        .args(["run", suite])
        .arg(common::samples().join("xen-vm"))
        .args([profdata.as_str(), "show", "--all-functions", "--counts"])
        .arg(&sample)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs = parse_profdata_show(&String::from_utf8(o.stdout).unwrap());
    same_functions("sample", "llvm-profdata show", &ours_sorted(&p), &theirs);
}

/// Xen master and trixie's clang 19 (version 10).
#[test]
fn the_real_clang19_xen_profile() {
    real_xen_profile(19, "trixie");
}

/// Xen master and sid's clang 21 (version 10 too).
#[test]
fn the_real_clang21_xen_profile() {
    real_xen_profile(21, "sid");
}

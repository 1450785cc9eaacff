//! The command line's rough edges (issue 10): closed pipes, output modes,
//! empty results, inputs of the wrong kind, `-fprofile-dir` names, stale
//! merge targets, and the order of split's checks. Every test runs the real
//! binary on files real compilers wrote (`samples/`).

mod common;

use common::Tmp;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
}

fn samples(rel: &str) -> PathBuf {
    common::samples().join(rel)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `cmd` with the process umask set to `mask` in the child only (the test
/// process is multi-threaded, so its own umask is left alone).
fn with_umask(cmd: &mut Command, mask: u32) -> &mut Command {
    // SAFETY: umask is async-signal-safe and touches nothing else.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask as libc::mode_t);
            Ok(())
        })
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

// ---- item 7: a closed pipe ends quietly with status 0 ----

/// Runs `args` with standard output a pipe whose reading end is already
/// closed, so the first write fails with EPIPE (deterministically: no
/// reader remains once ours is dropped).
fn into_closed_pipe(args: &[&std::ffi::OsStr]) -> Output {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly_with_status_0() {
    let run1 = samples("gcc-12/calc/run1");
    let gcda = run1.join("main.gcda");
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec!["dump".as_ref(), gcda.as_os_str()],
        vec!["dump".as_ref(), "--json".as_ref(), gcda.as_os_str()],
        vec!["check".as_ref(), run1.as_os_str()],
        vec!["check".as_ref(), "--json".as_ref(), run1.as_os_str()],
        vec![
            "lcov".as_ref(),
            run1.as_os_str(),
            "--gcno-dir".as_ref(),
            run1.as_os_str(),
        ],
        vec![
            "report".as_ref(),
            run1.as_os_str(),
            "--gcno-dir".as_ref(),
            run1.as_os_str(),
        ],
        vec![
            "report".as_ref(),
            run1.as_os_str(),
            "--gcno-dir".as_ref(),
            run1.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        vec![
            "report".as_ref(),
            run1.as_os_str(),
            "--gcno-dir".as_ref(),
            run1.as_os_str(),
            "--format".as_ref(),
            "cobertura".as_ref(),
        ],
    ];
    for args in cases {
        let o = into_closed_pipe(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("Broken pipe") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

// ---- item 6: output modes as libgcov and lcov give them ----

/// Runs one writing command under `mask`, which writes `written`.
fn write_under(mask: u32, args: &[&std::ffi::OsStr]) {
    let o = with_umask(&mut bin(), mask).args(args).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

/// The oracles of the rule: lcov (`lcov -c -o FILE`) and libgcov (a
/// program writing its gcda at exit) give a new file 0666 less the umask
/// and leave an existing file's mode alone. (gcov-tool merge deletes the
/// .gcda files of its target first, so its files are always new ones: the
/// byte-identical tests in tests/merge.rs compare those modes.)
#[test]
fn lcov_and_libgcov_keep_an_existing_mode_and_honour_the_umask() {
    let t = Tmp::new("edges-modes-oracle");
    let run1 = samples("gcc-12/calc/run1");
    let info = t.p("lcov.info");
    let lcov = |mask: u32| {
        let o = with_umask(&mut Command::new("lcov"), mask)
            .args(["--capture", "--quiet", "--gcov-tool", "gcov-12", "-d"])
            .arg(&run1)
            .arg("-o")
            .arg(&info)
            .output()
            .unwrap();
        assert!(o.status.success(), "lcov: {}", stderr(&o));
    };
    lcov(0o027);
    assert_eq!(mode(&info), 0o640, "lcov, new file");
    std::fs::set_permissions(&info, std::fs::Permissions::from_mode(0o604)).unwrap();
    lcov(0o077);
    assert_eq!(mode(&info), 0o604, "lcov, existing file");

    std::fs::write(t.p("p.c"), "int main(void) { return 0; }\n").unwrap();
    let o = Command::new("gcc-12")
        .current_dir(&t.0)
        .args(["--coverage", "p.c", "-o", "p"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let run = |mask: u32| {
        let o = with_umask(&mut Command::new(t.p("p")), mask)
            .output()
            .unwrap();
        assert!(o.status.success());
    };
    let gcda = t.p("p.gcda");
    run(0o027);
    assert_eq!(mode(&gcda), 0o640, "libgcov, new file");
    std::fs::set_permissions(&gcda, std::fs::Permissions::from_mode(0o604)).unwrap();
    run(0o077);
    assert_eq!(mode(&gcda), 0o604, "libgcov, existing file");
}

#[test]
fn new_outputs_honour_the_umask_and_existing_ones_keep_their_mode() {
    let t = Tmp::new("edges-modes");
    let run1 = samples("gcc-12/calc/run1");
    let run2 = samples("gcc-12/calc/run2");
    let dump = samples("xen/gcc-12/calc-run1.xcov");
    let (info, xml, merged, split_dir) = (t.p("a.info"), t.p("a.xml"), t.p("m.xcov"), t.p("split"));
    let split_file = split_dir.join("tmp/xencov-xen-build/gcc-12/calc/main.gcda");
    let commands: Vec<(Vec<&std::ffi::OsStr>, &Path)> = vec![
        (
            vec![
                "lcov".as_ref(),
                run1.as_os_str(),
                "--gcno-dir".as_ref(),
                run1.as_os_str(),
                "-o".as_ref(),
                info.as_os_str(),
            ],
            &info,
        ),
        (
            vec![
                "report".as_ref(),
                run1.as_os_str(),
                "--gcno-dir".as_ref(),
                run1.as_os_str(),
                "--format".as_ref(),
                "cobertura".as_ref(),
                "-o".as_ref(),
                xml.as_os_str(),
            ],
            &xml,
        ),
        (
            vec![
                "merge".as_ref(),
                run1.as_os_str(),
                run2.as_os_str(),
                "-o".as_ref(),
                merged.as_os_str(),
            ],
            &merged,
        ),
        (
            vec![
                "split".as_ref(),
                dump.as_os_str(),
                "-o".as_ref(),
                split_dir.as_os_str(),
            ],
            &split_file,
        ),
    ];
    for (args, written) in &commands {
        // New: 0666 less the umask, as open(2) with mode 0666 gives it.
        for (mask, want) in [(0o022, 0o644), (0o027, 0o640)] {
            let _ = std::fs::remove_file(written);
            write_under(mask, args);
            assert_eq!(mode(written), want, "{args:?} under umask {mask:o}");
        }
        // Existing: its mode is kept whatever the umask (libgcov opens the
        // file in place; lcov's perl `open '>'` truncates it in place).
        std::fs::set_permissions(written, std::fs::Permissions::from_mode(0o604)).unwrap();
        write_under(0o077, args);
        assert_eq!(mode(written), 0o604, "{args:?}: existing mode kept");
    }
    // A merged gcda tree: every file of a new tree.
    let tree = t.p("tree");
    let args: Vec<&std::ffi::OsStr> = vec![
        "merge".as_ref(),
        run1.as_os_str(),
        run2.as_os_str(),
        "--to".as_ref(),
        "gcda".as_ref(),
        "-o".as_ref(),
        tree.as_os_str(),
    ];
    write_under(0o027, &args);
    let files = common::files_with_suffix(&tree, ".gcda");
    assert_eq!(files.len(), 4);
    for f in files {
        assert_eq!(mode(&f), 0o640, "{}", f.display());
    }
}

// ---- item 4: an output with nothing in it is an error ----

fn xencov(args: &[&std::ffi::OsStr]) -> Output {
    bin().args(args).output().unwrap()
}

/// `args` must fail with status `code`, write nothing at `out`, and say
/// every one of `expect` on stderr; returns stderr.
fn refused(args: &[&std::ffi::OsStr], code: i32, out: &Path, expect: &[&str]) -> String {
    let o = xencov(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(!out.exists(), "{args:?}: {} written", out.display());
    for e in expect {
        assert!(err.contains(e), "{args:?}: expected {e:?} in:\n{err}");
    }
    err
}

#[test]
fn no_usable_unit_is_an_error_that_writes_nothing() {
    let t = Tmp::new("edges-empty");
    let out = t.p("out");
    let empty = t.p("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = empty.as_os_str();
    let run1 = samples("gcc-12/calc/run1");
    let o = out.as_os_str();
    // An empty input directory, for every command.
    for cmd in ["lcov", "report"] {
        refused(
            &[
                cmd.as_ref(),
                e,
                "--gcno-dir".as_ref(),
                run1.as_os_str(),
                "-o".as_ref(),
                o,
            ],
            1,
            &out,
            &["no units in"],
        );
    }
    refused(
        &["merge".as_ref(), e, "-o".as_ref(), o],
        1,
        &out,
        &["no units in"],
    );
    refused(
        &[
            "merge".as_ref(),
            e,
            "--to".as_ref(),
            "gcda".as_ref(),
            "-o".as_ref(),
            o,
        ],
        1,
        &out,
        &["no units in"],
    );
    let c = xencov(&["check".as_ref(), e]);
    assert_eq!(
        c.status.code(),
        Some(2),
        "check of an empty directory: {}",
        stderr(&c)
    );
    assert!(!String::from_utf8_lossy(&c.stdout).contains("all agree"));
    assert!(stderr(&c).contains("nothing to check"), "{}", stderr(&c));

    // Notes of another compiler: gcc-12 counters, gcc-11 notes.
    let gcc11 = samples("gcc-11/calc/run1");
    for cmd in ["lcov", "report"] {
        refused(
            &[
                cmd.as_ref(),
                run1.as_os_str(),
                "--gcno-dir".as_ref(),
                gcc11.as_os_str(),
                "-o".as_ref(),
                o,
            ],
            1,
            &out,
            &["not one build", "none of the 4 units has usable notes"],
        );
    }
    // And on standard output: nothing printed, not even a header.
    let r = xencov(&[
        "report".as_ref(),
        run1.as_os_str(),
        "--gcno-dir".as_ref(),
        gcc11.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        r.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
}

#[test]
fn a_wrong_gcno_dir_gets_the_path_tried_and_a_prefix_map_that_works() {
    let t = Tmp::new("edges-hint");
    let out = t.p("a.info");
    let dump = samples("xen/gcc-12/calc-run1.xcov");
    let notes = samples("xen/gcc-12/libgcov-run1");
    let err = refused(
        &[
            "lcov".as_ref(),
            dump.as_os_str(),
            "--gcno-dir".as_ref(),
            notes.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
        1,
        &out,
        &[
            // The path tried: the recorded path below --gcno-dir.
            &format!("{}/tmp/xencov-xen-build/gcc-12/calc/", notes.display()),
            "finds the notes of 4 of the 4 units",
        ],
    );
    // The suggested map, taken from the message, must make it work.
    let map = err
        .split("`--prefix-map ")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap_or_else(|| panic!("no --prefix-map in: {err}"))
        .to_string();
    assert_eq!(map, "/tmp/xencov-xen-build/gcc-12/calc=");
    let o = xencov(&[
        "lcov".as_ref(),
        dump.as_os_str(),
        "--gcno-dir".as_ref(),
        notes.as_os_str(),
        "--prefix-map".as_ref(),
        map.as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out).unwrap().contains("SF:"));
}

#[test]
fn merge_says_when_a_dumps_paths_and_a_trees_do_not_line_up() {
    let t = Tmp::new("edges-lineup");
    let out = t.p("m.xcov");
    let dump = samples("xen/gcc-12/calc-run1.xcov");
    let tree = samples("xen/gcc-12/libgcov-run2");
    let o = xencov(&[
        "merge".as_ref(),
        dump.as_os_str(),
        tree.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    let err = stderr(&o);
    assert!(err.contains("do not line up"), "{err}");
    assert!(
        err.contains("`--prefix-map /tmp/xencov-xen-build/gcc-12/calc=`"),
        "{err}"
    );
    // --strict makes it an error; with the map the units are summed.
    let o = xencov(&[
        "merge".as_ref(),
        dump.as_os_str(),
        tree.as_os_str(),
        "--strict".as_ref(),
        "-o".as_ref(),
        t.p("s").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = xencov(&[
        "merge".as_ref(),
        dump.as_os_str(),
        tree.as_os_str(),
        "--prefix-map".as_ref(),
        "/tmp/xencov-xen-build/gcc-12/calc=".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(
        o.status.success() && !stderr(&o).contains("line up"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("into 4 units"), "{}", stderr(&o));
}

// ---- item 10: -fprofile-dir names ----

/// A real gcc-12 `-fprofile-dir` build, run once: objects named by relative
/// paths get mangled data file names (`#T#src#^#obj#a.gcda`). Returns the
/// profile directory; `ref_tree` gets the same files named by their object
/// paths below `t` (where the notes are), the layout every other test uses.
fn profile_dir_build(t: &Tmp) -> (PathBuf, PathBuf) {
    let src = t.p("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::create_dir_all(t.p("obj")).unwrap();
    std::fs::write(
        src.join("sub/a.c"),
        "int f(int x)\n{\n  if (x > 2)\n    return 1;\n  return 2;\n}\n",
    )
    .unwrap();
    std::fs::write(
        src.join("main.c"),
        "int f(int);\nint main(void)\n{\n  int s = 0;\n  for (int i = 0; i < 5; i++)\n    s += f(i);\n  return s == 8 ? 0 : 1;\n}\n",
    )
    .unwrap();
    let prof = t.p("prof");
    let pd = format!("-fprofile-dir={}", prof.display());
    let gcc = |args: &[&str]| {
        let o = Command::new("gcc-12")
            .current_dir(&src)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "gcc-12 {args:?}: {}", stderr(&o));
    };
    gcc(&["--coverage", &pd, "-c", "sub/a.c", "-o", "../obj/a.o"]);
    gcc(&["--coverage", &pd, "-c", "main.c", "-o", "main.o"]);
    gcc(&["--coverage", "../obj/a.o", "main.o", "-o", "../prog"]);
    let o = Command::new(t.p("prog")).output().unwrap();
    assert!(o.status.success());
    let root = t.0.display().to_string();
    let mangled = |obj: &str| {
        prof.join(format!(
            "{}.gcda",
            String::from_utf8(xencov::paths::mangle_path(
                format!("{root}/{obj}").as_bytes()
            ))
            .unwrap()
        ))
    };
    // GCC's own names, checked against our rule.
    let (ma, mm) = (mangled("src/../obj/a"), mangled("src/main"));
    assert!(
        ma.file_name()
            .unwrap()
            .to_string_lossy()
            .contains("#^#obj#a.gcda")
    );
    let mut found = common::files_with_suffix(&prof, ".gcda");
    found.sort();
    let mut want = vec![ma.clone(), mm.clone()];
    want.sort();
    assert_eq!(found, want, "the data files gcc-12 -fprofile-dir wrote");
    let ref_tree = t.p("ref");
    std::fs::create_dir_all(ref_tree.join("obj")).unwrap();
    std::fs::create_dir_all(ref_tree.join("src")).unwrap();
    std::fs::copy(&ma, ref_tree.join("obj/a.gcda")).unwrap();
    std::fs::copy(&mm, ref_tree.join("src/main.gcda")).unwrap();
    (prof, ref_tree)
}

#[test]
fn profile_dir_names_find_their_notes_in_lcov_report_merge_and_check() {
    let t = Tmp::new("edges-profdir");
    let (prof, ref_tree) = profile_dir_build(&t);
    let map = format!("{}=", t.0.display());
    let tn = t.0.as_os_str();
    for (cmd, extra) in [("lcov", None), ("report", None), ("report", Some("json"))] {
        let run = |input: &Path, mapped: bool| {
            let mut c = bin();
            c.arg(cmd).arg(input).arg("--gcno-dir").arg(tn);
            if mapped {
                c.args(["--prefix-map", &map]);
            }
            if let Some(f) = extra {
                c.args(["--format", f]);
            }
            let o = c.output().unwrap();
            assert!(
                o.status.success(),
                "{cmd} {}: {}",
                input.display(),
                stderr(&o)
            );
            assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
            String::from_utf8(o.stdout).unwrap()
        };
        let (ours, reference) = (run(&prof, true), run(&ref_tree, false));
        assert!(reference.contains("/src"), "{reference}");
        if extra.is_some() {
            // data_file names the input's own path: compare the rest.
            let strip = |s: &str| {
                s.lines()
                    .filter(|l| !l.contains("data_file"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip(&ours), strip(&reference), "{cmd} --format json");
        } else {
            assert_eq!(ours, reference, "{cmd}");
        }
    }
    // merge: the mangled names match the same units of a tree.
    let o = bin()
        .arg("merge")
        .arg(&prof)
        .arg(&ref_tree)
        .args(["--prefix-map", &map, "--to", "gcda", "-o"])
        .arg(t.p("merged"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("into 2 units"), "{}", stderr(&o));
    // check reads a profile directory like any tree.
    let o = bin()
        .arg("check")
        .arg(&prof)
        .arg("--gcno-dir")
        .arg(tn)
        .args(["--gcov", "gcov-12"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// ---- item 9: an input of the wrong kind is named, with what is accepted ----

#[test]
fn a_notes_file_or_a_source_given_as_input_is_named_with_what_is_accepted() {
    let t = Tmp::new("edges-kind");
    let out = t.p("out");
    let o = out.as_os_str();
    let run1 = samples("gcc-12/calc/run1");
    let gcno = run1.join("main.gcno");
    let source = samples("src/calc/main.c");
    let elf = t.p("prog");
    // A real ELF object: the test binary's own compiler writes one.
    let cc = Command::new("gcc-12")
        .arg("-x")
        .arg("c")
        .arg("-")
        .arg("-o")
        .arg(&elf)
        .stdin(Stdio::piped())
        .spawn();
    let mut cc = cc.unwrap();
    std::io::Write::write_all(
        &mut cc.stdin.take().unwrap(),
        b"int main(void){return 0;}\n",
    )
    .unwrap();
    assert!(cc.wait().unwrap().success());
    let accepted = "inputs are Xen coverage dumps";
    for (input, what) in [
        (&gcno, "is a GCC notes file (.gcno)"),
        (&source, "is text"),
        (&elf, "is an ELF file"),
    ] {
        for cmd in ["merge", "lcov", "report"] {
            let mut args: Vec<&std::ffi::OsStr> =
                vec![cmd.as_ref(), input.as_os_str(), "-o".as_ref(), o];
            if cmd != "merge" {
                args.extend(["--gcno-dir".as_ref(), run1.as_os_str()]);
            }
            let err = refused(&args, 1, &out, &[what, accepted, "notes go to --gcno-dir"]);
            assert!(!err.contains("XCOV magic"), "{err}");
        }
        let err = refused(
            &["split".as_ref(), input.as_os_str(), "-o".as_ref(), o],
            1,
            &out,
            &[what, "split takes a Xen coverage dump"],
        );
        assert!(!err.contains("XCOV magic"), "{err}");
    }
    refused(
        &[
            "split".as_ref(),
            run1.join("main.gcda").as_os_str(),
            "-o".as_ref(),
            o,
        ],
        1,
        &out,
        &["is a .gcda counter file, already split"],
    );
}

// ---- item 11: merge --to gcda never leaves stale files in its target ----

#[test]
fn merge_to_gcda_refuses_a_non_empty_target_and_replace_swaps_it_whole() {
    let t = Tmp::new("edges-stale");
    let (run1, run2) = (samples("gcc-12/calc/run1"), samples("gcc-12/calc/run2"));
    let out = t.p("tree");
    let merge = |extra: &[&str], out: &Path| {
        bin()
            .arg("merge")
            .arg(&run1)
            .arg(&run2)
            .args(["--to", "gcda", "-o"])
            .arg(out)
            .args(extra)
            .output()
            .unwrap()
    };
    // A tree from an earlier merge, with a unit this merge does not have.
    std::fs::create_dir(&out).unwrap();
    let stale = out.join("sub/stale.gcda");
    std::fs::create_dir(out.join("sub")).unwrap();
    std::fs::copy(run1.join("main.gcda"), &stale).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o750)).unwrap();
    let o = merge(&[], &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--replace") && stderr(&o).contains("not empty"),
        "{}",
        stderr(&o)
    );
    assert!(stale.exists());
    assert_eq!(
        common::files_with_suffix(&out, ".gcda").len(),
        1,
        "nothing written"
    );

    // --replace: exactly the new tree, byte-identical to a merge into a new
    // directory, the directory's own mode kept, nothing left beside it.
    let o = merge(&["--replace"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = merge(&[], &t.p("fresh"));
    assert!(o.status.success(), "{}", stderr(&o));
    let names = |d: &Path| -> Vec<PathBuf> {
        common::files_with_suffix(d, "")
            .iter()
            .map(|p| p.strip_prefix(d).unwrap().to_path_buf())
            .collect()
    };
    assert_eq!(names(&out), names(&t.p("fresh")));
    assert!(!stale.exists() && !out.join("sub").exists());
    for n in names(&out) {
        assert_eq!(
            std::fs::read(out.join(&n)).unwrap(),
            std::fs::read(t.p("fresh").join(&n)).unwrap()
        );
    }
    assert_eq!(mode(&out), 0o750);
    let mut beside: Vec<String> = std::fs::read_dir(&t.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["fresh", "tree"], "no temporary directory left");
    // An empty directory is a fine target without --replace.
    std::fs::create_dir(t.p("empty")).unwrap();
    let o = merge(&[], &t.p("empty"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(&t.p("empty")), names(&t.p("fresh")));
}

/// `read` writes the dump itself, not a listing: a reader that went away
/// lost data (and with --reset the counters are gone), so there a closed
/// pipe stays an error. Run against the fake hypervisor of tests/fake-xen.
#[test]
fn read_into_a_closed_pipe_is_still_an_error() {
    let t = Tmp::new("edges-read-pipe");
    let status = Command::new("sh")
        .arg(common::root().join("tests/fake-xen/build.sh"))
        .arg(t.p("fake"))
        .status()
        .unwrap();
    assert!(status.success());
    // The pipe's reading end is closed before the child starts, so its
    // first write fails whatever the timing (closing it after the spawn
    // raced with a child that had already written into the pipe's buffer).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = bin()
        .arg("read")
        .env("LD_PRELOAD", t.p("fake/libfakexen.so"))
        .env("FAKE_XEN_DUMP", samples("xen/gcc-12/calc-run1.xcov"))
        .env("FAKE_XEN_STATE", t.p("state"))
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Broken pipe"), "{}", stderr(&o));
}

/// `-o` naming a device or a FIFO writes into it: the atomic write's
/// rename would otherwise replace `/dev/null` with a regular file (as root,
/// which CI and Xen users are). A device node made in the test directory
/// stands for /dev/null, so a failure cannot clobber the machine's.
#[test]
fn output_to_a_device_or_fifo_is_written_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let t = Tmp::new("edges-device");
    let dump = samples("xen/gcc-12/calc-run1.xcov");
    // `merge DUMP -o OUT`, which must succeed.
    let merge_to = |out: &Path| {
        let o = bin()
            .arg("merge")
            .arg(&dump)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let file = t.p("merged.xcov");
    merge_to(&file);
    let expected = std::fs::read(&file).unwrap();

    let null = t.p("null");
    let made = Command::new("mknod")
        .arg(&null)
        .args(["c", "1", "3"])
        .status();
    if made.is_ok_and(|s| s.success()) {
        merge_to(&null);
        let m = std::fs::symlink_metadata(&null).unwrap();
        assert!(
            m.file_type().is_char_device(),
            "the device was replaced: {m:?}"
        );
    } else {
        // Not root: /dev/null itself cannot be replaced then; still check it.
        merge_to(Path::new("/dev/null"));
    }

    let fifo = t.p("fifo");
    let s = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(s.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    merge_to(&fifo);
    assert_eq!(
        reader.join().unwrap(),
        expected,
        "the FIFO's reader got the dump"
    );
    let m = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(m.file_type().is_fifo(), "the FIFO was replaced: {m:?}");
}

/// A FIFO given as the input is read once, by the merge. The check for a
/// raw LLVM profile read the first input whole before the merge opened it
/// again: the FIFO's bytes went to the check and the merge waited for a
/// writer for ever. A hang fails the test after 60 s (no timing decides
/// the result: the merge either finishes or never does).
#[test]
fn a_fifo_input_is_read_once_by_the_merge() {
    let t = Tmp::new("edges-fifo-input");
    let dump = samples("xen/gcc-12/calc-run1.xcov");
    let merge = |input: &Path, out: &Path| {
        let mut c = bin();
        c.arg("merge").arg(input).arg("-o").arg(out);
        c
    };
    let expected = t.p("direct.xcov");
    let o = merge(&dump, &expected).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let fifo = t.p("in.fifo");
    let s = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(s.success());
    let writer = {
        let (fifo, bytes) = (fifo.clone(), std::fs::read(&dump).unwrap());
        std::thread::spawn(move || std::fs::write(fifo, bytes))
    };
    let out = t.p("merged.xcov");
    let child = merge(&fifo, &out).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let o = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            // SAFETY: signalling the child this test started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("merge of a FIFO input did not finish in 60 s: it opened the FIFO twice");
        }
    };
    assert!(o.status.success(), "{}", stderr(&o));
    writer.join().unwrap().unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&expected).unwrap(),
        "the FIFO's dump merged as the file's"
    );
}

/// What is synced before the rename (README, "Reliability"): coverage data
/// (a merged dump, a split tree) is flushed to disk first, a report (a
/// tracefile, the HTML pages) is not. Seen through strace: the fsync calls
/// each command makes. strace is installed by scripts/setup.
#[test]
fn data_is_synced_before_its_rename_and_reports_are_not() {
    let t = Tmp::new("edges-durability");
    let have = Command::new("strace").arg("-V").output();
    assert!(
        have.is_ok_and(|o| o.status.success()),
        "strace is missing (scripts/setup installs it)"
    );
    // The fsync-family calls `args` makes, as strace logs them.
    let syncs = |name: &str, args: &[std::ffi::OsString]| -> usize {
        let log = t.p(&format!("{name}.strace"));
        let o = Command::new("strace")
            .args([
                "-f",
                "-qq",
                "-e",
                "trace=fsync,fdatasync,sync_file_range",
                "-o",
            ])
            .arg(&log)
            .arg(env!("CARGO_BIN_EXE_xencov-rs"))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let text = std::fs::read_to_string(&log).unwrap();
        text.lines().filter(|l| l.contains("sync")).count()
    };
    let dump = samples("xen/gcc-12/calc-run1.xcov");
    let tree = samples("gcc-12/calc/run2");
    let (merged, split) = (t.p("merged.xcov"), t.p("split"));
    let (info, html) = (t.p("o.info"), t.p("html"));
    let os = |p: &Path| p.as_os_str().to_owned();
    let merge = [os(Path::new("merge")), os(&dump), "-o".into(), os(&merged)];
    let split_args = [os(Path::new("split")), os(&merged), "-o".into(), os(&split)];
    let lcov = [
        "lcov".into(),
        os(&tree),
        "--gcno-dir".into(),
        os(&tree),
        "-o".into(),
        os(&info),
    ];
    let report = [
        "report".into(),
        os(&tree),
        "--gcno-dir".into(),
        os(&tree),
        "--format".into(),
        "html".into(),
        "-o".into(),
        os(&html),
    ];
    assert!(syncs("merge", &merge) >= 1, "the merged dump is synced");
    assert!(syncs("split", &split_args) >= 1, "the split tree is synced");
    assert_eq!(syncs("lcov", &lcov), 0, "a tracefile is not synced");
    assert_eq!(syncs("report", &report), 0, "an HTML report is not synced");
}

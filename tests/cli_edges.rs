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

//! Linux's gcov debugfs as an input: /sys/kernel/debug/gcov mirrors the
//! build tree's absolute paths, holds each object's .gcda (which `stat`
//! reports as 0 bytes long: the kernel serialises it when it is read) and a
//! .gcno symlink into the build tree. Built here from gcc-12's files of the
//! samples: notes as symlinks, one .gcda a named pipe (size 0 to `stat`,
//! readable only to its end), the others regular files. Oracle: lcov's own
//! capture of the same tree (`lcov -c -d`, as the kernel's documentation
//! runs it), and our own report of the plain sample directory.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Tmp, run};

const SET: &str = "gcc-12/calc";
const RUN: &str = "run2";

fn data() -> PathBuf {
    common::samples().join(SET).join(RUN)
}

/// `<top>/tmp/xencov-samples-build/gcc-12/calc/NAME.gcda` (+ .gcno links)
/// for every unit: the build directory's absolute path below the top, as
/// the kernel lays it out. `fifo` names the units whose .gcda is a pipe.
fn kernel_tree(top: &Path, fifo: &[&str]) -> PathBuf {
    let dir = top.join(format!("tmp/xencov-samples-build/{SET}"));
    std::fs::create_dir_all(&dir).unwrap();
    for gcda in common::files_with_suffix(&data(), ".gcda") {
        let name = gcda.file_stem().unwrap().to_str().unwrap().to_string();
        let at = dir.join(format!("{name}.gcda"));
        if fifo.contains(&name.as_str()) {
            let c = CString::new(at.as_os_str().as_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        } else {
            std::fs::copy(&gcda, &at).unwrap();
        }
        std::os::unix::fs::symlink(
            gcda.with_extension("gcno"),
            dir.join(format!("{name}.gcno")),
        )
        .unwrap();
    }
    dir
}

/// Runs `cmd` while a thread writes each pipe's gcda into it, in pieces
/// (as a debugfs read returns what the kernel serialised so far). A pipe
/// the command never opened is opened here so that the writer ends.
fn with_pipes(cmd: &mut Command, pipes: &[(PathBuf, PathBuf)]) -> std::process::Output {
    let writers: Vec<_> = pipes
        .iter()
        .cloned()
        .map(|(pipe, src)| {
            std::thread::spawn(move || {
                use std::io::Write;
                let bytes = std::fs::read(src).unwrap();
                let mut f = std::fs::OpenOptions::new().write(true).open(&pipe).unwrap();
                for piece in bytes.chunks(37) {
                    f.write_all(piece).unwrap();
                    f.flush().unwrap();
                }
            })
        })
        .collect();
    let o = cmd.output().unwrap();
    for (w, (pipe, _)) in writers.into_iter().zip(pipes) {
        if !w.is_finished() {
            // Unblock the writer: the command did not read this pipe.
            let c = CString::new(pipe.as_os_str().as_bytes()).unwrap();
            // SAFETY: a valid path; the descriptor is closed right away.
            unsafe {
                let fd = libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK);
                let mut buf = [0u8; 4096];
                while libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) > 0 {}
                libc::close(fd);
            }
        }
        let _ = w.join();
    }
    o
}

fn lcov(inputs: &[&Path], extra: &[&str], out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
    c.arg("lcov").args(inputs).args(extra).arg("-o").arg(out);
    c
}

/// A tree with a zero-size-reporting .gcda and symlinked notes, with and
/// without --gcno-dir, gives the plain sample directory's tracefile.
#[test]
fn a_debugfs_tree_with_a_pipe_and_linked_notes() {
    let t = Tmp::new("kgcov-pipe");
    let top = t.p("gcov");
    let dir = kernel_tree(&top, &["main"]);
    let pipe = dir.join("main.gcda");
    assert_eq!(std::fs::metadata(&pipe).unwrap().len(), 0);
    let pipes = [(pipe, data().join("main.gcda"))];
    let want = t.p("plain.info");
    run(&mut lcov(
        &[&data()],
        &["--gcno-dir", data().to_str().unwrap()],
        &want,
    ));
    let want = common::tracefile_by_file(&want);
    assert!(want.len() > 50);

    // No --gcno-dir: the notes beside each .gcda, through the links.
    let out = t.p("tree.info");
    let o = with_pipes(&mut lcov(&[&top], &[], &out), &pipes);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(common::tracefile_by_file(&out), want);

    // --gcno-dir the tree itself.
    let out = t.p("tree2.info");
    let top_s = top.to_str().unwrap();
    let o = with_pipes(&mut lcov(&[&top], &["--gcno-dir", top_s], &out), &pipes);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(common::tracefile_by_file(&out), want);

    // merge reads the pipe too: its gcda tree equals the sample's data.
    let merged = t.p("merged");
    let mut c = Command::new(env!("CARGO_BIN_EXE_xencov-rs"));
    c.arg("merge")
        .arg(&top)
        .args(["--to", "gcda", "-o"])
        .arg(&merged);
    let o = with_pipes(&mut c, &pipes);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let back = merged.join(format!("tmp/xencov-samples-build/{SET}/main.gcda"));
    assert_eq!(
        std::fs::read(back).unwrap(),
        std::fs::read(data().join("main.gcda")).unwrap()
    );
}

/// lcov's own capture of the tree (regular .gcda files, linked notes) and
/// of a `cp -rL` copy of it, against ours of the same trees.
#[test]
fn a_debugfs_tree_and_its_copy_as_lcov_captures_them() {
    let t = Tmp::new("kgcov-lcov");
    let top = t.p("gcov");
    kernel_tree(&top, &[]);
    let copy = t.p("copy");
    run(Command::new("cp").arg("-rL").arg(&top).arg(&copy));
    assert!(
        !std::fs::symlink_metadata(copy.join(format!("tmp/xencov-samples-build/{SET}/main.gcno")))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let work = t.p("work");
    std::fs::create_dir_all(&work).unwrap();
    let theirs = common::lcov_capture_counts(common::gcc(12), &top, &work);
    assert!(theirs.len() >= 4, "{theirs:?}");
    for tree in [&top, &copy] {
        let out = t.p("ours.info");
        run(&mut lcov(&[tree.as_path()], &[], &out));
        assert_eq!(common::tracefile_counts(&out), theirs, "{}", tree.display());
    }
}

/// A dump or a single file without --gcno-dir: a clear error.
#[test]
fn a_file_input_needs_the_notes_directory() {
    let t = Tmp::new("kgcov-err");
    let o = Command::new(env!("CARGO_BIN_EXE_xencov-rs"))
        .arg("lcov")
        .arg(data().join("main.gcda"))
        .arg("-o")
        .arg(t.p("x.info"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--gcno-dir DIR is needed"));
}

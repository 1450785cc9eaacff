//! Writing outputs safely: every file goes to a temporary name in its
//! directory and is renamed into place, so a reader (or a crash) never sees
//! half a file; directories inside an output root are created without
//! following symlinks, so nothing lands outside the root.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Fault points for the tests (tests/faults.rs): `XENCOV_FAULT=POINT[:N]`
/// makes the process abort (no destructor, no cleanup, as under SIGKILL) the
/// Nth time (default 1st) any output reaches POINT: `mid-write` (after half
/// of the bytes are written and flushed), `before-rename` or `after-rename`.
/// This stops the program at the exact moment a kill is dangerous, where a
/// timed kill only lands there by luck.
mod fault {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static PLAN: OnceLock<Option<(String, usize)>> = OnceLock::new();
    static HITS: AtomicUsize = AtomicUsize::new(0);

    /// Whether this arrival at `point` is the one to stop at.
    pub fn here(point: &str) -> bool {
        let plan = PLAN.get_or_init(|| {
            let v = std::env::var("XENCOV_FAULT").ok()?;
            let (p, n) = match v.split_once(':') {
                Some((p, n)) => (p.to_string(), n.parse().ok()?),
                None => (v, 1),
            };
            Some((p, n))
        });
        match plan {
            Some((p, n)) if p == point => HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n,
            _ => false,
        }
    }

    pub fn stop(point: &str) -> ! {
        eprintln!("xencov-rs: XENCOV_FAULT: stopping at {point}");
        std::process::abort()
    }
}

/// Writes `bytes` to `path` atomically (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// A temporary directory beside `out` (in its parent, made when missing):
/// a tree written there is swapped in by one rename on the same file
/// system, so a reader or a crash sees the old tree or the new one. Its
/// mode is 0777 less the umask, as `mkdir` gives; callers that want
/// another set it.
pub fn temp_dir_beside(out: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    let parent = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o777))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })
}

/// Writes what `render` writes to `path` atomically: temporary file in the
/// same directory, written through a buffer (a large report streams, it is
/// never held whole in memory), flushed to disk, renamed over `path`
/// ([`write_report_with`] leaves out the flush to disk). On
/// error the temporary file is removed (tempfile does so on drop).
///
/// The file gets the mode an in-place write would give it, as libgcov and
/// lcov write: an existing file keeps its mode, a new one gets 0666 less
/// the umask (the kernel applies the umask to the mode given to open).
pub fn write_atomic_with(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomic_as(path, Durability::Disk, render)
}

/// How far a file's bytes go before it is renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// To the disk (fsync): coverage data that may be the only copy of
    /// what was run (a hypervisor's dump, a merge of dumps, a split tree).
    Disk,
    /// To the kernel: a report, computed again from the files it was
    /// made from. Readers still see the old file or the new, never part
    /// of one; a power cut may lose the new report, as it loses lcov's,
    /// gcovr's and grcov's, none of which syncs. The sync was about 2 ms
    /// of SQLite's 55 ms tracefile on ext4, and an HTML report synced each
    /// of its pages (Lua's: 25 ms with the syncs, 17 without).
    Kernel,
}

/// [`write_atomic_with`] for a report: see [`Durability::Kernel`].
pub fn write_report_with(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomic_as(path, Durability::Kernel, render)
}

fn write_atomic_as(
    path: &Path,
    durability: Durability,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // A device, a FIFO or a socket (`-o /dev/null`, `-o /dev/stdout`, a
    // named pipe) is written to, not replaced: renaming a temporary file
    // over it would put a regular file where the device was (root can do
    // that to /dev/null). Atomicity is a property of files only.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return write_in_place(path, render);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Permission bits only: writing a file in place clears set-user-ID
    // and set-group-ID, so a rewritten file does not keep them either.
    let existing = std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.permissions().mode() & 0o777);
    let tmp = tempfile::Builder::new()
        .prefix(".xencov-")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    if let Some(mode) = existing {
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| {
                format!(
                    "cannot give {} the mode of {}",
                    tmp.path().display(),
                    path.display()
                )
            })?;
    }
    let mut out = std::io::BufWriter::with_capacity(
        1 << 16,
        MidWrite {
            file: tmp.as_file(),
            stop: fault::here("mid-write"),
        },
    );
    render(&mut out)
        .and_then(|()| out.flush())
        .and_then(|()| {
            if out.get_ref().stop {
                // Nothing was written: stop with the file empty.
                fault::stop("mid-write");
            }
            match durability {
                Durability::Disk => tmp.as_file().sync_all(),
                Durability::Kernel => Ok(()),
            }
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
    drop(out);
    if fault::here("before-rename") {
        fault::stop("before-rename");
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot rename the temporary file to {}", path.display()))?;
    if fault::here("after-rename") {
        fault::stop("after-rename");
    }
    Ok(())
}

/// Writes what `render` writes into `path`, a device or FIFO that exists.
fn write_in_place(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    render(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The temporary file, which stops the process (tests/faults.rs) after
/// half of the first bytes that reach it are written and flushed when
/// `XENCOV_FAULT=mid-write` picked this output.
struct MidWrite<'a> {
    file: &'a std::fs::File,
    stop: bool,
}

impl Write for MidWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stop {
            let half = buf.get(..buf.len().div_ceil(2)).unwrap_or_default();
            let _ = self
                .file
                .write_all(half)
                .and_then(|()| self.file.sync_all());
            fault::stop("mid-write");
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// `root/rel`, creating the directories of `rel` below `root` one by one and
/// refusing any that is a symlink or not a directory, and refusing a final
/// path that is a symlink. `rel` must be made of normal components (see
/// `xencov::paths`).
pub fn path_within(root: &Path, rel: &Path) -> Result<PathBuf> {
    let mut at = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    let Some((file, dirs)) = parts.split_last() else {
        bail!("empty path");
    };
    for part in dirs {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                bail!(
                    "{} is a symlink inside the output directory: refused",
                    at.display()
                )
            }
            Ok(m) if !m.is_dir() => bail!("{} exists and is not a directory", at.display()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(&at) {
                Ok(()) => {}
                // Files are written in parallel: another writer may have made
                // this directory since we looked. A real directory is fine; a
                // symlink or a file that appeared instead is not.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    match std::fs::symlink_metadata(&at) {
                        Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {}
                        _ => bail!("{} appeared and is not a directory: refused", at.display()),
                    }
                }
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", at.display())),
            },
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", at.display())),
        }
    }
    at.push(file);
    if let Ok(m) = std::fs::symlink_metadata(&at)
        && m.file_type().is_symlink()
    {
        bail!(
            "{} is a symlink inside the output directory: refused",
            at.display()
        );
    }
    Ok(at)
}

/// Reads a whole input file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    read_input_into(path, &mut buf)?;
    Ok(buf)
}

/// Reads a whole input file, or standard input for `-`, into `buf`
/// (emptied first). A caller that reads many inputs passes one buffer:
/// its capacity is kept, so no fresh pages are faulted in per input.
pub fn read_input_into(path: &Path, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    if path == Path::new("-") {
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), buf)
            .context("cannot read standard input")?;
        Ok(())
    } else {
        read_file_into(path, buf)
    }
}

/// Appends the whole file at `path` to `buf`.
pub fn read_file_into(path: &Path, buf: &mut Vec<u8>) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_to_end(&mut f, buf))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(())
}

/// Every file below `dir` whose extension is one of `extensions`, sorted.
/// Symlinked directories are not followed (a tree is walked, not a graph).
pub fn files_with_extension(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))? {
            let e = e.with_context(|| format!("cannot list {}", d.display()))?;
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| extensions.iter().any(|e| x == *e))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes `text` to standard output; an error (a closed pipe among them)
/// is returned, never a panic as `print!` would.
pub fn print(text: &str) -> Result<()> {
    print_with(|w| w.write_all(text.as_bytes()))
}

/// Streams what `render` writes to standard output, buffered.
pub fn print_with(render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    render(&mut out)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// Whether `e` comes from writing to a pipe whose reader has gone (EPIPE:
/// Rust ignores SIGPIPE, so the write fails instead of killing us).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

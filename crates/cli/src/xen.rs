//! `xencov-rs read` and `reset`: the coverage sysctl through
//! `/dev/xen/privcmd`. Every system call goes through libc (never raw
//! syscalls), which is also what lets the tests put a fake hypervisor
//! (an LD_PRELOAD library) in front of it.

use anyhow::{Context, Result, anyhow, bail};
use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};
use xencov::plural::count;
use xencov::xen::sysctl::{
    Failure, INTERFACES, IOCTL_PRIVCMD_HYPERCALL, Interface, Layout, Op, SYSCTL_SIZE, classify,
    encode_hypercall, encode_sysctl, returned_size,
};
use xencov_sys::{HypercallBuf, LockedError, open_rw as open};

const PRIVCMD: &CStr = c"/dev/xen/privcmd";
const HYPERCALL_DEV: &CStr = c"/dev/xen/hypercall";
const PRIVCMD_XENFS: &CStr = c"/proc/xen/privcmd";
/// For tests only: a directory that stands for `/` when reading the
/// hypervisor's facts (`/sys/hypervisor/...`, `/proc/xen/capabilities`).
/// The device paths are never redirected.
const TEST_SYSROOT_ENV: &str = "XENCOV_RS_TEST_SYSROOT";

/// `/rel` on the machine, or below `$XENCOV_RS_TEST_SYSROOT` in tests.
fn sys_path(rel: &str) -> std::path::PathBuf {
    let root = std::env::var_os(TEST_SYSROOT_ENV).unwrap_or_else(|| "/".into());
    std::path::Path::new(&root).join(rel)
}

fn read_fact(rel: &str) -> Result<String> {
    let path = sys_path(rel);
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

fn missing(e: i32) -> bool {
    matches!(e, libc::ENOENT | libc::ENODEV | libc::ENXIO)
}

fn open_error(path: &str, e: i32) -> anyhow::Error {
    match e {
        libc::EACCES | libc::EPERM => anyhow!(
            "cannot open {path}: {}; coverage is read as root in dom0",
            errno_text(e)
        ),
        _ => anyhow!("cannot open {path}: {}", errno_text(e)),
    }
}

/// `/dev/xen/privcmd`, else the xenfs file `/proc/xen/privcmd` (what libxc
/// falls back to). When neither exists, tells a dom0 without the driver
/// from a Xen guest and from a machine that is not on Xen at all.
fn open_privcmd() -> Result<OwnedFd> {
    let dev_errno = match open(PRIVCMD) {
        Ok(fd) => return Ok(fd),
        Err(e) if missing(e) => e,
        Err(e) => return Err(open_error("/dev/xen/privcmd", e)),
    };
    match open(PRIVCMD_XENFS) {
        Ok(fd) => return Ok(fd),
        Err(e) if missing(e) => {}
        Err(e) => return Err(open_error("/proc/xen/privcmd", e)),
    }
    let neither = format!(
        "neither /dev/xen/privcmd nor /proc/xen/privcmd exists ({})",
        errno_text(dev_errno)
    );
    let on_xen = read_fact("sys/hypervisor/type").is_ok_and(|t| t.trim() == "xen");
    match read_fact("proc/xen/capabilities") {
        Ok(caps) if !caps.contains("control_d") => bail!(
            "this is a Xen guest (domU), not dom0 (/proc/xen/capabilities has no control_d): \
             coverage can only be read or reset from dom0; {neither}"
        ),
        Ok(_) => {}
        Err(_) if on_xen => {}
        Err(_) => bail!("not running on Xen: /sys/hypervisor/type does not say xen and {neither}"),
    }
    bail!(
        "running on Xen, but there is no privcmd device: {neither}; load the driver \
         (`modprobe xen-privcmd`) or mount xenfs (`mount -t xenfs xenfs /proc/xen`)"
    )
}

/// Reads Xen's release and compiler from `/sys/hypervisor` and refuses a
/// combination known to crash the hypervisor or to return data that is not
/// its coverage, unless the user accepted the risk. Facts that cannot be
/// read are said in one line, and the read goes on as before.
fn check_build(risk_accepted: bool) -> Result<()> {
    use xencov::xen::hypervisor::{Release, Risk, judge, parse_compiler};
    let facts = (|| -> Result<(Release, String, String)> {
        let major = read_fact("sys/hypervisor/version/major")?;
        let minor = read_fact("sys/hypervisor/version/minor")?;
        let release = Release::parse(&major, &minor).ok_or_else(|| {
            anyhow!(
                "/sys/hypervisor/version/major and minor say {:?} and {:?}",
                major.trim(),
                minor.trim()
            )
        })?;
        let extra = read_fact("sys/hypervisor/version/extra").unwrap_or_default();
        let compiler = read_fact("sys/hypervisor/compilation/compiler")?;
        Ok((release, extra.trim().to_owned(), compiler.trim().to_owned()))
    })();
    let (release, extra, compiler) = match facts {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "xencov-rs: note: cannot tell which Xen release and compiler this is ({e:#}); \
                 going on without the check for builds known to crash or to return bad coverage"
            );
            return Ok(());
        }
    };
    let verdict = judge(release, parse_compiler(&compiler));
    let seen = format!("/sys/hypervisor says Xen {release}{extra} built by \"{compiler}\"");
    match verdict.risk {
        Risk::None => Ok(()),
        Risk::Unknown => {
            eprintln!("xencov-rs: note: {} ({seen}); going on", verdict.why);
            Ok(())
        }
        Risk::Crash | Risk::Untrustworthy if risk_accepted => {
            eprintln!(
                "xencov-rs: warning: {} ({seen}); going on because of --i-know-the-risk",
                verdict.why
            );
            Ok(())
        }
        Risk::Crash => bail!(
            "refusing to make the coverage sysctl, it would crash the host: {} ({seen}). What to \
             do: {}. If this hypervisor carries the fix, pass --i-know-the-risk",
            verdict.why,
            verdict.what_to_do
        ),
        Risk::Untrustworthy => bail!(
            "refusing to use the coverage sysctl, the data would not be the coverage: {} ({seen}). What \
             to do: {}. To go on anyway, pass --i-know-the-risk",
            verdict.why,
            verdict.what_to_do
        ),
    }
}

/// How often EINTR/EAGAIN are retried before giving up.
const RETRIES: usize = 16;
/// How often a read is retried when the dump grew after get-size.
const GROWTH_RETRIES: usize = 8;

/// `Operation not supported (EOPNOTSUPP, errno 95)`: the text, and the name
/// that Xen's documentation and headers use.
fn errno_text(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::ENODEV => "ENODEV",
        libc::ENXIO => "ENXIO",
        libc::EINVAL => "EINVAL",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOBUFS => "ENOBUFS",
        _ => "",
    };
    let text = std::io::Error::from_raw_os_error(e).to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    if name.is_empty() {
        format!("{text} (errno {e})")
    } else {
        format!("{text} ({name}, errno {e})")
    }
}

/// Hypercall-safe memory of at least `wanted` bytes: pages of
/// `/dev/xen/hypercall`, or, where that device is missing (tools before Xen
/// 4.11, older kernels) or refuses a big mapping, locked anonymous memory,
/// as libxencall does.
fn hypercall_buf(wanted: usize) -> Result<HypercallBuf> {
    let page = xencov_sys::page_size();
    let len = wanted.max(1).div_ceil(page) * page;
    match open(HYPERCALL_DEV) {
        Ok(dev) => match HypercallBuf::map_device(dev, len) {
            Ok(buf) => Ok(buf),
            Err(e) if e == libc::ENOMEM => {
                // Older kernels cap each open file of the device (privcmd-buf's
                // `limit` parameter, 64 pages): a big dump does not fit, so it
                // goes to locked memory, which hypercalls accept as well.
                eprintln!(
                    "xencov-rs: note: /dev/xen/hypercall refused {len} bytes ({}: the kernel's \
                     per-file limit); using locked memory instead",
                    errno_text(e)
                );
                locked(len)
            }
            Err(e) => bail!(
                "cannot map {len} bytes of /dev/xen/hypercall: {}",
                errno_text(e)
            ),
        },
        Err(libc::ENOENT) => locked(len),
        Err(e) => bail!("cannot open /dev/xen/hypercall: {}", errno_text(e)),
    }
}

fn locked(len: usize) -> Result<HypercallBuf> {
    HypercallBuf::locked(len).map_err(|e| match e {
        LockedError::Map(e) => anyhow!(
            "cannot allocate {len} bytes for a hypercall buffer: {}",
            errno_text(e)
        ),
        LockedError::Lock(e) => anyhow!(
            "cannot lock {len} bytes for a hypercall buffer (see `ulimit -l`): {}",
            errno_text(e)
        ),
    })
}

/// A privcmd connection that found the hypervisor's interface version.
pub struct Xen {
    privcmd: OwnedFd,
    sysctl: HypercallBuf,
    iface: Interface,
}

impl Xen {
    /// Opens privcmd and finds the interface version by asking for the dump
    /// size with each known version, newest first (a hypervisor answers any
    /// version but its own with EACCES).
    pub fn connect(risk_accepted: bool) -> Result<Xen> {
        let privcmd = open_privcmd()?;
        // Before any coverage sysctl: some builds crash on the first one.
        check_build(risk_accepted)?;
        let mut xen = Xen {
            privcmd,
            sysctl: hypercall_buf(SYSCTL_SIZE)?,
            iface: INTERFACES[0],
        };
        for &iface in INTERFACES {
            xen.iface = iface;
            match xen.call(Op::GetSize) {
                Ok(_) => return Ok(xen),
                Err(e) if classify(e) == Failure::WrongInterfaceOrDenied => continue,
                Err(e) => return Err(xen.explain(e)),
            }
        }
        bail!(
            "the hypervisor accepted none of the sysctl interface versions xencov-rs knows \
             ({:#04x} for Xen {} down to {:#04x} for Xen {}; each answered EACCES): either it is newer \
             than this tool, or XSM/FLASK denies the coverage sysctl to this domain",
            INTERFACES[0].version,
            INTERFACES[0].xen,
            INTERFACES[INTERFACES.len() - 1].version,
            INTERFACES[INTERFACES.len() - 1].xen
        )
    }

    pub fn interface(&self) -> Interface {
        self.iface
    }

    /// Issues one coverage sysctl, repeating it on EINTR/EAGAIN; returns
    /// the size the hypervisor wrote back, or the errno.
    fn call(&mut self, op: Op) -> Result<u32, i32> {
        let request = encode_sysctl(self.iface, op);
        let hypercall = encode_hypercall(self.sysctl.address());
        for attempt in 0.. {
            self.sysctl.bytes_mut()[..SYSCTL_SIZE].copy_from_slice(&request);
            // The sysctl the hypercall points to lives in our hypercall buffer,
            // which is borrowed for the call.
            let r = xencov_sys::privcmd_hypercall(
                self.privcmd.as_fd(),
                IOCTL_PRIVCMD_HYPERCALL,
                &hypercall,
                &self.sysctl,
            );
            let e = match r {
                Ok(_) => {
                    let mut back = [0u8; SYSCTL_SIZE];
                    back.copy_from_slice(&self.sysctl.bytes()[..SYSCTL_SIZE]);
                    return Ok(returned_size(self.iface, &back));
                }
                Err(e) => e,
            };
            if classify(e) != Failure::Retry || attempt + 1 >= RETRIES {
                return Err(e);
            }
        }
        Err(libc::EINTR)
    }

    fn explain(&self, e: i32) -> anyhow::Error {
        let xen = self.iface.xen;
        match classify(e) {
            Failure::NotPrivileged => anyhow!(
                "the hypervisor refused the coverage sysctl: not privileged; coverage can only be \
                 read or reset from dom0: {}",
                errno_text(e)
            ),
            Failure::NoCoverage => anyhow!(
                "this hypervisor (sysctl interface {:#04x}, Xen {xen}) was built without coverage \
                 support (CONFIG_COVERAGE): {}",
                self.iface.version,
                errno_text(e)
            ),
            Failure::Retry => anyhow!("the coverage sysctl kept failing with {}", errno_text(e)),
            _ => anyhow!("the coverage sysctl failed: {}", errno_text(e)),
        }
    }

    fn checked(&mut self, op: Op) -> Result<u32> {
        self.call(op).map_err(|e| self.explain(e))
    }

    /// Reads the whole dump. The counters are never reset here: a reset may
    /// only follow a dump that validated and was saved (see `run_read`).
    pub fn read(&mut self) -> Result<Vec<u8>> {
        match self.iface.layout {
            Layout::Current => self.read_current(),
            Layout::Legacy => self.read_legacy(),
        }
    }

    fn read_current(&mut self) -> Result<Vec<u8>> {
        for _ in 0..GROWTH_RETRIES {
            let size = self.checked(Op::GetSize)?;
            let mut buf = hypercall_buf(size as usize)?;
            buf.bytes_mut().fill(0);
            let op = Op::Read {
                buffer: buf.address(),
                size,
            };
            match self.call(op) {
                Ok(written) if written <= size => {
                    return Ok(buf.bytes()[..written as usize].to_vec());
                }
                Ok(written) => bail!(
                    "the hypervisor claims to have written {written} bytes into a {size}-byte buffer"
                ),
                // The dump grew between get-size and read (modules, livepatches): again.
                Err(e) if classify(e) == Failure::BufferTooSmall => continue,
                Err(e) => return Err(self.explain(e)),
            }
        }
        bail!(
            "the dump kept growing between asking its size and reading it ({GROWTH_RETRIES} attempts)"
        )
    }

    /// Xen 4.3–4.8 reads are not size-checked: the buffer gets a page of
    /// slack and the size is asked again after, so a dump that grew is read
    /// again. The legacy read-and-reset op is not used: it would reset the
    /// counters before the dump is safe on disk.
    fn read_legacy(&mut self) -> Result<Vec<u8>> {
        for _ in 0..GROWTH_RETRIES {
            let size = self.checked(Op::GetSize)?;
            let mut buf = hypercall_buf(size as usize + 4096)?;
            buf.bytes_mut().fill(0);
            self.checked(Op::Read {
                buffer: buf.address(),
                size,
            })?;
            if self.checked(Op::GetSize)? == size {
                return Ok(buf.bytes()[..size as usize].to_vec());
            }
        }
        bail!("the dump kept changing size while it was read ({GROWTH_RETRIES} attempts)")
    }

    pub fn reset(&mut self) -> Result<()> {
        self.checked(Op::Reset).map(|_| ())
    }
}

/// Why a clang hypervisor's profile does not validate, when
/// /sys/hypervisor names a clang release that writes another raw-profile
/// version than the header says: Xen's own profile writer does not know
/// that clang (see `xencov::llvm::header_of_another_clang`).
fn clang_header_hint(header_version: u32) -> Option<String> {
    use xencov::xen::hypervisor::{Compiler, parse_compiler};
    let compiler = read_fact("sys/hypervisor/compilation/compiler").ok()?;
    let Compiler::Clang { major } = parse_compiler(&compiler) else {
        return None;
    };
    let written = xencov::llvm::header_of_another_clang(major, header_version)?;
    Some(format!(
        "/sys/hypervisor says clang {major} built this Xen, and clang {major} writes raw profile \
         version {written}, but the header says version {header_version}: this Xen's coverage \
         code (xen/common/coverage/llvm.c) does not know clang {major} and wrote an older \
         clang's header over clang {major}'s records. Build Xen with a clang that its llvm.c \
         knows, or add clang {major} to llvm.c's version table (xencov-rs's \
         scripts/xen-patches/clang21 is that one-line change for Xen master and clang 21)"
    ))
}

/// Says on stderr what the dump is, and refuses one that does not
/// validate, so that a short or garbled read is never saved as if complete.
fn validate(data: &[u8]) -> Result<()> {
    use xencov::xen::dump::{Container, Identified, LegacyDump, identify};
    match identify(data).context("the hypervisor returned data that is not a coverage dump")? {
        Identified::Container(_) => {
            let c = Container::parse(data)
                .context("the dump read from the hypervisor does not validate")?;
            let bad: Vec<String> = c
                .units
                .iter()
                .filter_map(|u| u.gcda().err().map(|e| format!("{} ({e})", u.path_lossy())))
                .collect();
            if !bad.is_empty() {
                eprintln!(
                    "xencov-rs: warning: {} of {} {} decode as gcda (a hypervisor with a \
                     wrong gcov_info layout?): {}",
                    bad.len(),
                    count(c.units.len(), "unit", "units"),
                    if bad.len() == 1 { "does not" } else { "do not" },
                    bad.join("; ")
                );
            }
        }
        Identified::Legacy(_) => {
            LegacyDump::parse(data)
                .context("the legacy dump read from the hypervisor does not validate")?;
        }
        Identified::LlvmProfile { version, .. } => {
            // The same promise as for gcov dumps: a profile whose header
            // lies or that was cut short is never saved.
            let p = match xencov::llvm::raw::RawProfile::decode(data) {
                Ok(p) => p,
                Err(e) => {
                    let e = anyhow::Error::new(e)
                        .context("the raw LLVM profile read from the hypervisor does not validate");
                    // The low 32 bits are the format version, the high
                    // ones LLVM's variant flags.
                    return Err(match clang_header_hint(version as u32) {
                        Some(hint) => anyhow!("{e:#}. {hint}"),
                        None => e,
                    });
                }
            };
            eprintln!(
                "xencov-rs: note: the hypervisor was built with clang and returned {}; it is \
                 saved as it is",
                crate::llvm::describe(&p)
            );
        }
    }
    Ok(())
}

pub fn run_read(output: Option<&std::path::Path>, reset: bool, risk_accepted: bool) -> Result<()> {
    let mut xen = Xen::connect(risk_accepted)?;
    let data = xen.read()?;
    validate(&data)?;
    let iface = xen.interface();
    // What the dump itself shows, whether or not /sys/hypervisor could be
    // read: units of GCC 14+ from a Xen 4.20 or older hypervisor.
    if let Some(newest) = xencov::xen::hypervisor::newest_gcc_in_dump(&data)
        && let Some(why) = xencov::xen::hypervisor::judge_dump(iface.version, newest)
    {
        eprintln!("xencov-rs: warning: {why}");
    }
    eprintln!(
        "xencov-rs: read {} of coverage (sysctl interface {:#04x}, Xen {})",
        count(data.len(), "byte", "bytes"),
        iface.version,
        iface.xen,
    );
    // Only a dump that validated and is safely stored may be followed by a
    // reset: a reset before (or after a failed write) loses the counters.
    match output {
        Some(path) => save_file(path, &data)?,
        None => save_stdout(&data, reset)?,
    }
    if reset {
        xen.reset()
            .context("the dump was saved, but resetting the counters failed")?;
        eprintln!("xencov-rs: counters reset");
    }
    Ok(())
}

/// Writes the dump atomically and makes the rename durable: the file is
/// synced before the rename (`write_atomic`) and its directory after it, so
/// that a crash after the reset cannot lose both the counters and the file.
fn save_file(path: &std::path::Path, data: &[u8]) -> Result<()> {
    crate::output::write_atomic(path, data)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| {
            format!(
                "{} was written, but its directory {} could not be synced",
                path.display(),
                dir.display()
            )
        })
}

/// Writes the dump to file descriptor 1 directly: Rust's `Stdout` reports
/// success when descriptor 1 is closed (EBADF), which must not count as
/// saved. A regular file is also synced; a pipe or terminal has no sync,
/// so there the complete write is what counts.
fn save_stdout(data: &[u8], reset: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    std::io::stdout()
        .lock()
        .flush()
        .context("cannot write to standard output")?;
    // A duplicate of descriptor 1: same open file (so the same sync and
    // metadata), closed on its own when done.
    let mut out = std::fs::File::from(
        std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .context("cannot duplicate standard output")?,
    );
    // A closed descriptor 1 is reopened on /dev/null by Rust's start-up
    // code, so writing "succeeds": with a reset to follow, the counters
    // would be gone with nothing saved.
    if reset
        && let (Ok(ours), Ok(null)) = (out.metadata(), std::fs::metadata("/dev/null"))
        && ours.file_type().is_char_device()
        && ours.rdev() == null.rdev()
    {
        bail!(
            "standard output is /dev/null (or was closed): the dump would be lost, so the \
             counters are not reset; give -o FILE, or use `xencov-rs reset` to reset without \
             reading"
        );
    }
    out.write_all(data)
        .and_then(|()| out.flush())
        .context("cannot write the dump to standard output")?;
    let meta = out
        .metadata()
        .context("cannot inspect standard output after writing the dump")?;
    if meta.is_file() {
        out.sync_all()
            .context("cannot sync the dump written to standard output")?;
    }
    Ok(())
}

pub fn run_reset(risk_accepted: bool) -> Result<()> {
    Xen::connect(risk_accepted)?.reset()
}

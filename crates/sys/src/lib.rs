//! The only `unsafe` code of xencov-rs, behind a safe API: opening Xen's
//! privcmd device, memory a hypercall may point into, the privcmd hypercall
//! ioctl, and renameat2's atomic exchange.
//!
//! Every call goes through libc (never raw syscalls): that is what lets the
//! tests put a fake hypervisor (an `LD_PRELOAD` library, tests/fake-xen) in
//! front of it. Errors are the raw `errno` values, so that the caller, which
//! knows what it was trying to do, can explain them.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

/// The calling thread's `errno` after a failed libc call.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Opens a device for reading and writing (close-on-exec).
pub fn open_rw(path: &CStr) -> Result<OwnedFd, i32> {
    // SAFETY: a valid NUL-terminated path; the fd is owned from here on.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        Err(errno())
    } else {
        // SAFETY: `fd` was just returned by open and is not owned elsewhere.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// The size of a memory page.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// Why [`HypercallBuf::locked`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedError {
    /// The anonymous mapping failed (errno).
    Map(i32),
    /// `mlock` failed (errno), usually `ulimit -l`.
    Lock(i32),
}

/// Memory a hypercall may point into: pages of `/dev/xen/hypercall`, or
/// anonymous pages locked in memory and kept out of forked children (what
/// libxencall uses where that device is missing). Unmapped on drop.
pub struct HypercallBuf {
    ptr: *mut u8,
    len: usize,
    _device: Option<OwnedFd>,
}

impl HypercallBuf {
    /// Maps `len` bytes (a multiple of the page size) of an open
    /// `/dev/xen/hypercall`; the device stays open as long as the buffer.
    pub fn map_device(device: OwnedFd, len: usize) -> Result<HypercallBuf, i32> {
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: mapping a fresh region of a device we own.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                device.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(errno());
        }
        Ok(HypercallBuf {
            ptr: ptr.cast(),
            len,
            _device: Some(device),
        })
    }

    /// `len` bytes of anonymous memory, locked and not inherited by children.
    pub fn locked(len: usize) -> Result<HypercallBuf, LockedError> {
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        // SAFETY: an anonymous private mapping.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, -1, 0) };
        if ptr == libc::MAP_FAILED {
            return Err(LockedError::Map(errno()));
        }
        let buf = HypercallBuf {
            ptr: ptr.cast(),
            len,
            _device: None,
        };
        // SAFETY: `ptr..ptr+len` is the mapping made above.
        if unsafe { libc::mlock(ptr, len) } != 0 {
            return Err(LockedError::Lock(errno()));
        }
        // SAFETY: as above; failure only means children would share it.
        unsafe { libc::madvise(ptr, len, libc::MADV_DONTFORK) };
        Ok(buf)
    }

    /// The buffer's bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes, alive as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The buffer's bytes, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and we hold the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// The virtual address the hypervisor is given.
    pub fn address(&self) -> u64 {
        self.ptr as u64
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty (it never is: lengths are whole pages).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for HypercallBuf {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region we mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Issues privcmd's hypercall ioctl (`request`) with the encoded hypercall
/// struct `call`. The hypercall's arguments must point into a
/// [`HypercallBuf`] that the caller keeps alive across the call; that is why
/// the buffer is borrowed here.
pub fn privcmd_hypercall(
    privcmd: BorrowedFd<'_>,
    request: u64,
    call: &[u8],
    _args: &HypercallBuf,
) -> Result<i32, i32> {
    // SAFETY: privcmd reads the hypercall struct from `call`, which lives for
    // the whole call; the memory its arguments point to is `_args`, borrowed.
    let r = unsafe { libc::ioctl(privcmd.as_raw_fd(), request as _, call.as_ptr()) };
    if r >= 0 { Ok(r) } else { Err(errno()) }
}

/// Swaps two paths atomically (renameat2 with RENAME_EXCHANGE). EINVAL or
/// ENOSYS mean the filesystem or kernel cannot; the caller falls back.
pub fn rename_exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths relative to the working directory.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Fixes glibc's mmap threshold at `bytes`: an allocation of that size or
/// more gets its own mapping, returned to the system when freed. By default
/// glibc raises the threshold to the size of each such block freed, so
/// that after the first large free every large buffer comes from the heap
/// and stays in the process once freed (`lcov` on SQLite: 48 MB peak RSS
/// with the default, 38.6 MB with 128 KiB fixed). Does nothing where the C
/// library is not glibc.
pub fn fix_mmap_threshold(bytes: i32) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; any value is
    // checked by glibc (an out-of-range one is refused, returning 0).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, bytes);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = bytes;
}

//! The hypervisor ABI of the coverage sysctl, as bytes: no system calls
//! here (the CLI issues them), only the layouts, the interface versions to
//! try, and what each failure means. See `formats/xen-sysctl.md`.
//!
//! The call is `ioctl(privcmd_fd, IOCTL_PRIVCMD_HYPERCALL, &hypercall)`
//! where `hypercall` ([`encode_hypercall`]) names `__HYPERVISOR_sysctl` and
//! points at a 136-byte `struct xen_sysctl` ([`encode_sysctl`]) that lives,
//! like the data buffer, in hypercall-safe memory.

use crate::bytes::endian::Endian;

/// `IOCTL_PRIVCMD_HYPERCALL` of Linux's privcmd driver.
pub const IOCTL_PRIVCMD_HYPERCALL: u64 = 0x0030_5000;
/// `__HYPERVISOR_sysctl`.
pub const HYPERVISOR_SYSCTL: u64 = 35;
/// `XEN_SYSCTL_coverage_op` (the same number in every release that has it).
pub const SYSCTL_COVERAGE_OP: u32 = 20;
/// Size of `struct xen_sysctl`: cmd, interface_version, a union padded to 128 bytes.
pub const SYSCTL_SIZE: usize = 136;
/// Size of `struct privcmd_hypercall`: op and five arguments, all u64.
pub const HYPERCALL_SIZE: usize = 48;

/// The two shapes of the coverage op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Xen 4.9+: cmd, size (in: buffer size, out: data size), buffer handle;
    /// the dump is the XCOV container.
    Current,
    /// Xen 4.3–4.8: cmd, then a union of total size and buffer handle; the
    /// dump is the legacy tagged blob and reads are not size-checked.
    Legacy,
}

/// A `XEN_SYSCTL_INTERFACE_VERSION` and the releases that use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// The `interface_version` word the sysctl must carry.
    pub version: u32,
    /// How the coverage op's arguments are laid out in this version.
    pub layout: Layout,
    /// The Xen releases that use it, for messages (`4.17-4.20`).
    pub xen: &'static str,
}

const fn iface(version: u32, layout: Layout, xen: &'static str) -> Interface {
    Interface {
        version,
        layout,
        xen,
    }
}

/// Every interface version with a coverage op, newest first: the order to try
/// them in, since a hypervisor refuses any other version with EACCES.
pub const INTERFACES: &[Interface] = &[
    iface(0x16, Layout::Current, "4.21+"),
    iface(0x15, Layout::Current, "4.17-4.20"),
    iface(0x14, Layout::Current, "4.16"),
    iface(0x13, Layout::Current, "4.14-4.15"),
    iface(0x12, Layout::Current, "4.12-4.13"),
    iface(0x11, Layout::Current, "4.11"),
    iface(0x10, Layout::Current, "4.10"),
    iface(0x0f, Layout::Current, "4.9"),
    iface(0x0e, Layout::Legacy, "4.8"),
    iface(0x0d, Layout::Legacy, "4.7"),
    iface(0x0c, Layout::Legacy, "4.6"),
    iface(0x0b, Layout::Legacy, "4.5"),
    iface(0x0a, Layout::Legacy, "4.3-4.4"),
];

/// A coverage operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Ask for the size of the dump in bytes (`get_size` / `get_total_size`).
    GetSize,
    /// Read into the hypercall buffer at `buffer` of `size` bytes.
    Read {
        /// The buffer's address in the caller's (dom0's) virtual memory.
        buffer: u64,
        /// The buffer's size in bytes.
        size: u32,
    },
    /// Zero every counter of the hypervisor.
    Reset,
    /// Legacy layout only: read, then reset, in one call.
    ReadAndReset {
        /// The buffer's address in the caller's virtual memory (the size is not passed).
        buffer: u64,
    },
}

impl Op {
    fn cmd(self) -> u32 {
        match self {
            Op::GetSize => 0,
            Op::Read { .. } => 1,
            Op::Reset => 2,
            Op::ReadAndReset { .. } => 3,
        }
    }
}

/// The `struct xen_sysctl` for `op`, in the host's byte order.
pub fn encode_sysctl(iface: Interface, op: Op) -> [u8; SYSCTL_SIZE] {
    let e = Endian::NATIVE;
    let mut s = [0u8; SYSCTL_SIZE];
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(dst) = s.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    };
    put(0, &e.u32_to(SYSCTL_COVERAGE_OP));
    put(4, &e.u32_to(iface.version));
    put(8, &e.u32_to(op.cmd()));
    let buffer = match op {
        Op::Read { buffer, .. } | Op::ReadAndReset { buffer } => buffer,
        Op::GetSize | Op::Reset => 0,
    };
    match iface.layout {
        Layout::Current => {
            if let Op::Read { size, .. } = op {
                put(12, &e.u32_to(size));
            }
            put(16, &u64_native(buffer));
        }
        // The union at +16 holds either the total size (out) or the handle (in).
        Layout::Legacy => put(16, &u64_native(buffer)),
    }
    s
}

fn u64_native(v: u64) -> [u8; 8] {
    if Endian::NATIVE == Endian::Big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// The size the hypervisor wrote back: the data size (current layout) or
/// the total size (legacy layout).
pub fn returned_size(iface: Interface, sysctl: &[u8; SYSCTL_SIZE]) -> u32 {
    let at = match iface.layout {
        Layout::Current => 12,
        Layout::Legacy => 16,
    };
    let mut word = [0u8; 4];
    if let Some(b) = sysctl.get(at..at + 4) {
        word.copy_from_slice(b);
    }
    Endian::NATIVE.u32_from(word)
}

/// The `struct privcmd_hypercall` that issues a sysctl at address `sysctl`.
pub fn encode_hypercall(sysctl: u64) -> [u8; HYPERCALL_SIZE] {
    let mut h = [0u8; HYPERCALL_SIZE];
    h[..8].copy_from_slice(&u64_native(HYPERVISOR_SYSCTL));
    h[8..16].copy_from_slice(&u64_native(sysctl));
    h
}

/// What a failed coverage sysctl means, from its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// EACCES: this interface version is not the hypervisor's (try the next),
    /// or XSM/FLASK denied the call.
    WrongInterfaceOrDenied,
    /// EPERM: the caller is not privileged (not dom0).
    NotPrivileged,
    /// EOPNOTSUPP (Xen 4.11+) or ENOSYS (4.3–4.10): built without coverage.
    NoCoverage,
    /// ENOBUFS (GCC builds) or ENOMEM (clang builds) on read: the dump grew.
    BufferTooSmall,
    /// EINTR/EAGAIN: the call may simply be repeated.
    Retry,
    /// Any other errno: reported as it is.
    Other,
}

/// Classifies an errno returned by the coverage sysctl.
pub fn classify(errno: i32) -> Failure {
    match errno {
        libc_errno::EACCES => Failure::WrongInterfaceOrDenied,
        libc_errno::EPERM => Failure::NotPrivileged,
        libc_errno::EOPNOTSUPP | libc_errno::ENOSYS => Failure::NoCoverage,
        libc_errno::ENOBUFS | libc_errno::ENOMEM => Failure::BufferTooSmall,
        libc_errno::EINTR | libc_errno::EAGAIN => Failure::Retry,
        _ => Failure::Other,
    }
}

/// Linux errno values (identical on every architecture Xen runs dom0 on);
/// spelled out so the library needs no libc.
pub mod libc_errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// Interrupted system call.
    pub const EINTR: i32 = 4;
    /// Try again.
    pub const EAGAIN: i32 = 11;
    /// Out of memory (a clang-built Xen's answer to a short buffer).
    pub const ENOMEM: i32 = 12;
    /// Permission denied (also a wrong sysctl interface version).
    pub const EACCES: i32 = 13;
    /// Bad address (the buffer is not mapped for the hypervisor).
    pub const EFAULT: i32 = 14;
    /// Function not implemented (Xen 4.3–4.10 without coverage).
    pub const ENOSYS: i32 = 38;
    /// Operation not supported (Xen 4.11+ without coverage).
    pub const EOPNOTSUPP: i32 = 95;
    /// No buffer space available (a GCC-built Xen's answer to a short buffer).
    pub const ENOBUFS: i32 = 105;
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn a_read_of_xen_4_17_in_hex() {
        let iface = INTERFACES[1];
        assert_eq!(iface.xen, "4.17-4.20");
        let s = encode_sysctl(
            iface,
            Op::Read {
                buffer: 0x7f00_1234_5000,
                size: 0x2000,
            },
        );
        let head = [
            0x14, 0x00, 0x00, 0x00, // cmd: XEN_SYSCTL_coverage_op (20)
            0x15, 0x00, 0x00, 0x00, // interface version 0x15
            0x01, 0x00, 0x00, 0x00, // coverage cmd: read
            0x00, 0x20, 0x00, 0x00, // size of the buffer, 0x2000
            0x00, 0x50, 0x34, 0x12, 0x00, 0x7f, 0x00, 0x00, // buffer handle
        ];
        assert_eq!(s[..24], head);
        assert!(s[24..].iter().all(|&b| b == 0));
        let mut back = s;
        back[12..16].copy_from_slice(&[0x78, 0x56, 0x00, 0x00]); // Xen wrote 0x5678 bytes
        assert_eq!(returned_size(iface, &back), 0x5678);
    }

    #[test]
    fn a_legacy_get_size_in_hex() {
        let iface = INTERFACES[INTERFACES.len() - 1];
        assert_eq!(iface.layout, Layout::Legacy);
        let mut s = encode_sysctl(iface, Op::GetSize);
        assert_eq!(
            s[..12],
            [
                0x14, 0x00, 0x00, 0x00, // cmd: XEN_SYSCTL_coverage_op (20)
                0x0a, 0x00, 0x00, 0x00, // interface version 0x0a (Xen 4.3-4.4)
                0x00, 0x00, 0x00, 0x00, // coverage cmd: get total size
            ]
        );
        s[16..20].copy_from_slice(&[0x00, 0x10, 0x00, 0x00]); // the union: total size 4096
        assert_eq!(returned_size(iface, &s), 4096);
        let h = encode_hypercall(0xdead_b000);
        assert_eq!(
            h[..16],
            [35, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xb0, 0xad, 0xde, 0, 0, 0, 0]
        );
    }
}

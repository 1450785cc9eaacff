//! Xen's side: the coverage dumps a hypervisor hands out (the 4.9+ container
//! and the 4.3–4.8 legacy format), the sysctl ABI as bytes, and which
//! hypervisor builds can be trusted to hand them out.

pub mod dump;
pub mod hypervisor;
pub mod sysctl;

//! Which builds belong together: the compiler that built an object (from its
//! ELF notes), the Xen release of a `xen-syms`, the coverage mapping version
//! of a clang build.

#[cfg(feature = "elf")]
pub mod elf;
pub mod judge;
pub mod llvm;
pub mod pairs;

//! Byte order of a gcov file: the writer's host order, told apart by the magic.

/// Byte order of the 32-bit words of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Endian {
    /// Least significant byte first (x86, arm64, ppc64le, riscv64); a gcda file then starts with the bytes `adcg`.
    Little,
    /// Most significant byte first (ppc64, s390x, sparc64); a gcda file then starts with the bytes `gcda`.
    Big,
}

impl Endian {
    /// The byte order of the machine running this code.
    pub const NATIVE: Endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };

    /// The 32-bit word stored in the four bytes `b` in this byte order.
    pub fn u32_from(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }

    /// The four bytes that store the 32-bit word `v` in this byte order.
    pub fn u32_to(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Tells the byte order from the first four bytes of a file whose magic
    /// word is `magic` (for example `b"gcda"`): written big-endian the bytes
    /// spell the magic, written little-endian they spell it backwards.
    pub fn from_magic(first: [u8; 4], magic: [u8; 4]) -> Option<Endian> {
        let mut reversed = magic;
        reversed.reverse();
        if first == magic {
            Some(Endian::Big)
        } else if first == reversed {
            Some(Endian::Little)
        } else {
            None
        }
    }

    /// `"little-endian"` or `"big-endian"`, as messages and `dump` output write it.
    pub fn name(self) -> &'static str {
        match self {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    }
}

/// A gcov counter stored in `w`: two 32-bit words, low word first, each in
/// the file's byte order (`BIG`: big-endian words). Little-endian that is a
/// plain little-endian u64. The byte order is a const parameter so that the
/// decoders' and the merge's loops over many counters are one loop per
/// byte order, with no branch per counter.
#[inline(always)]
pub fn counter<const BIG: bool>(w: [u8; 8]) -> u64 {
    if BIG {
        let [a0, a1, a2, a3, b0, b1, b2, b3] = w;
        u64::from(u32::from_be_bytes([b0, b1, b2, b3])) << 32
            | u64::from(u32::from_be_bytes([a0, a1, a2, a3]))
    } else {
        u64::from_le_bytes(w)
    }
}

impl std::fmt::Display for Endian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

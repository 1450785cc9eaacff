//! Whether two sightings of gcov versions belong together: the compiler
//! named in an object, the notes, the data, a Xen dump. Compatibility is
//! data ([`Verdict`]: an [`Agreement`] and the advice that goes with it),
//! not text for callers to match.

use crate::gcov::version::Version;

/// Where a version was seen, for [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Role {
    /// The compiler named in an ELF `.comment` (e.g. of `xen-syms`).
    Compiler,
    /// Counter data: `.gcda` files and dump payloads.
    Data,
    /// Notes files (`.gcno`).
    Notes,
    /// The `gcov` program that lcov/gcovr would run.
    Gcov,
}

impl Role {
    /// The role's name as messages and `check --json` write it (`compiler`, `data`, `notes`, `gcov`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Compiler => "compiler",
            Role::Data => "data",
            Role::Notes => "notes",
            Role::Gcov => "gcov",
        }
    }
}

/// How two versions get along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Agreement {
    /// The same version word: the same format.
    Same,
    /// Different releases whose files have the same layout.
    Compatible,
    /// Something breaks; the verdict says what.
    Incompatible,
}

/// A verdict on one pair of versions, with what breaks and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verdict {
    /// How the two versions get along.
    pub agreement: Agreement,
    /// Why, in one sentence naming both releases.
    pub why: String,
    /// What to do about it (which compiler or gcov to use); `None` when nothing needs doing.
    pub advice: Option<String>,
}

/// Judges two versions seen in two roles.
///
/// `gcov` insists on its own version word: for any other it warns
/// "version 'X', prefer 'Y'", exits 3 and may misread or crash, so a gcov
/// pair is compatible only when the words are equal. Elsewhere files of
/// releases with the same [`Format`](crate::gcov::version::Format) are compatible.
pub fn judge(a: (Role, Version), b: (Role, Version)) -> Verdict {
    let ((ra, va), (rb, vb)) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    if va.word() == vb.word() {
        return Verdict {
            agreement: Agreement::Same,
            why: format!(
                "both are GCC {} ({}): the same format",
                va.gcc(),
                va.chars()
            ),
            advice: None,
        };
    }
    let same_layout = va.format() == vb.format();
    if rb == Role::Gcov {
        let major = vb.major();
        let wanted = va.major();
        return Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "gcov {} reads only {} files; given GCC {} {} ({}) it warns \"version '{}', prefer \
                 '{}'\", exits 3{}",
                vb.gcc(),
                vb.chars(),
                va.gcc(),
                ra.name(),
                va.chars(),
                va.chars(),
                vb.chars(),
                if same_layout {
                    " (the layouts agree, so the numbers are probably right)"
                } else {
                    " and misreads or crashes: the layouts differ"
                }
            ),
            advice: Some(format!(
                "install gcov-{wanted} (Debian package gcc-{wanted}) and pass `--gcov-tool \
                 gcov-{wanted}` to lcov/geninfo (gcovr: `--gcov-executable gcov-{wanted}`), or use \
                 `xencov-rs lcov`, which needs no gcov (gcov here is {major})"
            )),
        };
    }
    let what = match (ra, rb) {
        (Role::Compiler, Role::Data) => {
            "the counters were not written by the compiler recorded in the ELF file: the dump \
             belongs to another build, or the hypervisor's gcov code misreads its own counters"
        }
        (Role::Compiler, Role::Notes) => {
            "the notes files come from another compiler than the ELF file"
        }
        (Role::Data, Role::Notes) => {
            "notes and counters come from different compilers: they cannot belong to one build, \
             and gcov will reject the counters as stale"
        }
        _ => "the files come from different compiler releases",
    };
    if same_layout {
        Verdict {
            agreement: Agreement::Compatible,
            why: format!(
                "GCC {} ({}) and GCC {} ({}) write the same layout; but {what}",
                va.gcc(),
                va.chars(),
                vb.gcc(),
                vb.chars()
            ),
            advice: Some("check that both come from the same build".into()),
        }
    } else {
        Verdict {
            agreement: Agreement::Incompatible,
            why: format!(
                "GCC {} ({}) and GCC {} ({}) write different layouts: {what}",
                va.gcc(),
                va.chars(),
                vb.gcc(),
                vb.chars()
            ),
            advice: Some(
                "use the dump, notes and xen-syms of one build; rebuild with one compiler".into(),
            ),
        }
    }
}

//! Which compilers built an ELF file, from its `.comment` section (one
//! NUL-terminated string per producer: `GCC: (Debian 12.2.0-14) 12.2.0`,
//! `clang version 14.0.6`, linker notes).

use object::{Object, ObjectSection};
use serde::Serialize;

/// One producer string of `.comment`, interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Producer {
    pub text: String,
    pub kind: ProducerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "compiler")]
pub enum ProducerKind {
    Gcc {
        major: u8,
        minor: u8,
        patch: u8,
    },
    Clang,
    /// A linker or anything else that left a note.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable ELF file: {0}")]
pub struct ElfError(String);

/// The distinct producer strings of `data`'s `.comment`, in order; empty
/// when the section is missing (a stripped file).
pub fn producers(data: &[u8]) -> Result<Vec<Producer>, ElfError> {
    let file = object::File::parse(data).map_err(|e| ElfError(e.to_string()))?;
    let Some(section) = file.section_by_name(".comment") else {
        return Ok(Vec::new());
    };
    let bytes = section.data().map_err(|e| ElfError(e.to_string()))?;
    let mut out: Vec<Producer> = Vec::new();
    for text in bytes.split(|&b| b == 0).filter(|s| !s.is_empty()) {
        let text = String::from_utf8_lossy(text).trim().to_string();
        if out.iter().any(|p| p.text == text) {
            continue;
        }
        let kind = if let Some(rest) = text.strip_prefix("GCC:") {
            match crate::version::release_in_banner(rest) {
                Some((major, minor, patch)) => ProducerKind::Gcc {
                    major,
                    minor,
                    patch,
                },
                None => ProducerKind::Other,
            }
        } else if text.contains("clang version") {
            ProducerKind::Clang
        } else {
            ProducerKind::Other
        };
        out.push(Producer { text, kind });
    }
    Ok(out)
}

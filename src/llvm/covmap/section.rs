//! Finding the mapping sections in an ELF file (through `object`).

use super::Sections;
use crate::bytes::endian::Endian;

/// Why an ELF file gives no coverage mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SectionsError {
    /// Not an ELF file `object` can read; its error is kept as the
    /// [source](std::error::Error::source) (the command line prints it
    /// after this message).
    #[error("not a readable ELF file")]
    Elf(#[source] object::Error),
    /// A section is missing.
    #[error(
        "it has no {0} section: not built with clang's -fprofile-instr-generate -fcoverage-mapping (or stripped of it)"
    )]
    Missing(&'static str),
}

/// Finds the sections of the coverage mapping in an ELF file.
pub fn sections(elf: &[u8]) -> std::result::Result<Sections<'_>, SectionsError> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(elf).map_err(SectionsError::Elf)?;
    let find = |name: &'static str| -> std::result::Result<Option<(&[u8], u64)>, SectionsError> {
        let Some(s) = file.section_by_name(name) else {
            return Ok(None);
        };
        let data = s.data().map_err(SectionsError::Elf)?;
        let offset = s.file_range().map_or(0, |(o, _)| o);
        Ok(Some((data, offset)))
    };
    let covmap = find("__llvm_covmap")?.ok_or(SectionsError::Missing("__llvm_covmap"))?;
    let covfun = find("__llvm_covfun")?.ok_or(SectionsError::Missing("__llvm_covfun"))?;
    let mut names = Vec::new();
    names.extend(find("__llvm_prf_names")?);
    names.extend(find("__llvm_covnames")?);
    if names.is_empty() {
        return Err(SectionsError::Missing("__llvm_prf_names"));
    }
    let endian = if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    };
    Ok(Sections {
        covmap,
        covfun,
        names,
        endian,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_an_elf_file_keeps_objects_error_as_the_source() {
        // Four bytes of a gcda magic: no ELF header.
        let e = sections(&[0x61, 0x64, 0x63, 0x67]).unwrap_err();
        assert!(matches!(e, SectionsError::Elf(_)), "{e:?}");
        assert_eq!(e.to_string(), "not a readable ELF file");
        let source = std::error::Error::source(&e).expect("object's error");
        assert!(!source.to_string().is_empty());
    }
}

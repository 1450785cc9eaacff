//! Where a gcda path recorded in a dump lands under an output directory.
//!
//! Recorded paths are absolute build-tree paths chosen by whoever built (or
//! tampered with) the hypervisor. [`PathMapping::relative`] rewrites them
//! (`--prefix-map`, `--strip-prefix`) and turns them into a relative path
//! made only of normal components, so joining it to the output directory can
//! never climb out of it. Symlinks inside the directory are the caller's to
//! refuse, since telling them apart needs the filesystem.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Rewrites applied to recorded paths, in order: the first matching
/// `--prefix-map OLD=NEW`, then `--strip-prefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathMapping {
    pub prefix_maps: Vec<(Vec<u8>, Vec<u8>)>,
    pub strip_prefix: Option<Vec<u8>>,
}

/// Why a recorded path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path {0:?} climbs out of the output directory (a `..` component)")]
    ParentComponent(String),
    #[error("path {0:?} names no file")]
    Empty(String),
}

/// `OLD=NEW` as given on the command line.
pub fn parse_prefix_map(arg: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    match arg.split_once('=') {
        Some((old, new)) if !old.is_empty() => {
            Ok((old.as_bytes().to_vec(), new.as_bytes().to_vec()))
        }
        _ => Err(format!(
            "expected OLD=NEW with a non-empty OLD, got {arg:?}"
        )),
    }
}

/// `path` without `prefix`, if `prefix` is a whole-component prefix of it.
fn strip<'a>(path: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let rest = path.strip_prefix(prefix)?;
    let at_boundary = prefix.ends_with(b"/") || rest.is_empty() || rest.starts_with(b"/");
    at_boundary.then_some(rest)
}

impl PathMapping {
    /// The rewritten path, and whether `--strip-prefix` applied (a caller
    /// may warn when it did not).
    pub fn rewrite(&self, recorded: &[u8]) -> (Vec<u8>, bool) {
        let mut path = recorded.to_vec();
        if let Some((old, new)) = self
            .prefix_maps
            .iter()
            .find(|(old, _)| strip(recorded, old).is_some())
        {
            let rest = strip(recorded, old).unwrap_or_default();
            path = [new.as_slice(), rest].concat();
        }
        let mut stripped = self.strip_prefix.is_none();
        if let Some(prefix) = &self.strip_prefix
            && let Some(rest) = strip(&path, prefix)
        {
            path = rest.to_vec();
            stripped = true;
        }
        (path, stripped)
    }

    /// The relative path under the output directory for a recorded path:
    /// rewritten, leading `/` dropped, `.` and empty components removed, and
    /// refused if any component is `..` or nothing is left.
    pub fn relative(&self, recorded: &[u8]) -> Result<(PathBuf, bool), PathError> {
        let (path, stripped) = self.rewrite(recorded);
        let shown = || String::from_utf8_lossy(recorded).into_owned();
        let mut out = PathBuf::new();
        for part in path.split(|&b| b == b'/') {
            match part {
                b"" | b"." => {}
                b".." => return Err(PathError::ParentComponent(shown())),
                _ => out.push(OsStr::from_bytes(part)),
            }
        }
        if out.as_os_str().is_empty() {
            return Err(PathError::Empty(shown()));
        }
        Ok((out, stripped))
    }
}

/// A path with `.` components and `dir/..` pairs folded away (textually,
/// as gcov canonicalizes source names and geninfo resolves them; a leading
/// `..` that cannot fold is kept).
pub fn fold(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

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
    /// `--prefix-map OLD=NEW` pairs as raw path bytes, tried in order; the first whose
    /// `OLD` is a prefix of the path rewrites it.
    pub prefix_maps: Vec<(Vec<u8>, Vec<u8>)>,
    /// `--strip-prefix`: bytes removed from the start of a (mapped) path that begins with them.
    pub strip_prefix: Option<Vec<u8>>,
}

/// Why a recorded path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path has a `..` component.
    #[error("path {0:?} climbs out of the output directory (a `..` component)")]
    ParentComponent(String),
    /// Nothing is left of the path once mapped.
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

/// GCC's name for a profile data file under `-fprofile-dir` when the object
/// was named by a relative path (`mangle_path` in gcc/coverage.cc): the
/// absolute path of the object's base name with each `/` turned into `#`
/// and each `..` component into `^`, so `/tmp/b/src/../obj/a` becomes
/// `#tmp#b#src#^#obj#a`. GCC appends `.gcda` to the result.
pub fn mangle_path(path: &[u8]) -> Vec<u8> {
    let parts: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .map(|p| if p == b".." { b"^".as_slice() } else { p })
        .collect();
    parts.join(&b'#')
}

/// The object path a `-fprofile-dir` data file stands for, when its file
/// name is mangled (`PROFILE_DIR/#tmp#b#src#^#obj#a.gcda` stands for
/// `/tmp/b/obj/a.gcda`): [`mangle_path`] undone (`#` → `/`, a `^` component
/// → `..`) and `dir/..` pairs folded, as the compiler's working directory
/// and the relative object name were joined textually. `None` when the file
/// name holds no `#` (a plain name, found beside its notes). The mangling
/// loses `#` in real names; such a name is read as GCC would have written it.
pub fn unmangle_profile_name(path: &[u8]) -> Option<Vec<u8>> {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    if !name.starts_with(b"#") {
        return None;
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in name.split(|&b| b == b'#') {
        match part {
            b"" | b"." => {}
            b"^" if parts.last().is_some_and(|p| *p != b"..") => {
                parts.pop();
            }
            b"^" => parts.push(b".."),
            _ => parts.push(part),
        }
    }
    Some([b"/".as_slice(), &parts.join(&b'/')].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangled_profile_names_round_trip() {
        // Names gcc-12 -fprofile-dir wrote (tests/cli_edges.rs builds them).
        assert_eq!(
            mangle_path(b"/tmp/b/src/../obj/a"),
            b"#tmp#b#src#^#obj#a".to_vec()
        );
        assert_eq!(
            unmangle_profile_name(b"prof/#tmp#b#src#^#obj#a.gcda"),
            Some(b"/tmp/b/obj/a.gcda".to_vec())
        );
        assert_eq!(
            unmangle_profile_name(b"#tmp#b#src#main.gcda"),
            Some(b"/tmp/b/src/main.gcda".to_vec())
        );
        assert_eq!(unmangle_profile_name(b"/tmp/b/src/main.gcda"), None);
        assert_eq!(unmangle_profile_name(b"dir#x/main.gcda"), None);
    }
}

/// A `--prefix-map OLD=NEW` that turns `from` into `to`, when the two end
/// in the same components and `from` has more before them: OLD is what
/// precedes the shared ending in `from`, NEW what precedes it in `to`.
/// `from = /build/xen/common/a.gcda`, `to = common/a.gcda` gives
/// `(/build/xen, "")`. `None` when nothing is shared or OLD would be empty.
pub fn suggest_prefix_map(from: &[u8], to: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let parts = |p: &[u8]| -> Vec<Vec<u8>> {
        p.split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .map(<[u8]>::to_vec)
            .collect()
    };
    let (f, t) = (parts(from), parts(to));
    let shared = f
        .iter()
        .rev()
        .zip(t.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    if shared == 0 || shared >= f.len() {
        return None;
    }
    let old = f.get(..f.len() - shared)?.join(&b'/');
    let new = t.get(..t.len() - shared)?.join(&b'/');
    let old = if from.starts_with(b"/") {
        [b"/".as_slice(), &old].concat()
    } else {
        old
    };
    Some((old, new))
}

#[cfg(test)]
mod suggest_tests {
    use super::*;

    #[test]
    fn a_suggested_map_turns_one_path_into_the_other() {
        let (from, to) = (b"/build/xen/common/a.gcda", b"common/a.gcda");
        let (old, new) = suggest_prefix_map(from, to).unwrap_or_default();
        assert_eq!(
            (old.as_slice(), new.as_slice()),
            (b"/build/xen".as_slice(), b"".as_slice())
        );
        let m = PathMapping {
            prefix_maps: vec![(old, new)],
            strip_prefix: None,
        };
        assert_eq!(
            m.relative(from).map(|r| r.0),
            Ok(PathBuf::from("common/a.gcda"))
        );
        assert_eq!(
            suggest_prefix_map(b"/b/x/a.gcda", b"obj/x/a.gcda"),
            Some((b"/b".to_vec(), b"obj".to_vec()))
        );
        assert_eq!(suggest_prefix_map(b"a.gcda", b"x/a.gcda"), None);
        assert_eq!(suggest_prefix_map(b"/b/a.gcda", b"/b/c.gcda"), None);
    }
}

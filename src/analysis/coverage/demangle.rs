//! C++ names as gcov shows them (`demangled_name`).

/// libiberty's `cplus_demangle(name, DMGL_PARAMS)` as gcov calls it: the
/// demangled C++ name, or the name itself when it is not a mangled one.
pub fn demangle(name: &str) -> String {
    if !name.starts_with("_Z") {
        return name.to_string();
    }
    let Some(out) = cpp_demangle_str(name) else {
        return name.to_string();
    };
    constructor_template(name, &out).unwrap_or(out)
}

fn cpp_demangle_str(name: &str) -> Option<String> {
    cpp_demangle::Symbol::new(name).ok()?.demangle().ok()
}

/// A demangled name split into what precedes its parameter list and the
/// parameters: `a::f<int>(long, char)` → (`a::f<int>`, `long, char`).
fn split_params(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_suffix(')')?;
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => return Some((body.get(..i)?, body.get(i + 1..)?)),
            '(' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The last two `::` components of a qualified name, outside template
/// arguments.
fn last_two_components(s: &str) -> Option<(&str, &str)> {
    let (mut depth, mut cuts) = (0i32, Vec::new());
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'<' | b'(' => depth += 1,
            b'>' | b')' => depth -= 1,
            b':' if depth == 0 && b.get(i + 1) == Some(&b':') => cuts.push(i),
            _ => {}
        }
    }
    let last = *cuts.last()?;
    let before = if cuts.len() >= 2 {
        cuts.get(cuts.len() - 2).map_or(0, |&c| c + 2)
    } else {
        0
    };
    Some((s.get(before..last)?, s.get(last + 2..)?))
}

/// cpp_demangle takes the first parameter of a constructor template
/// (`…basic_string<…>::basic_string<std::allocator<char> >(unsigned long,
/// char, …)`, mangled `…C2IS3_EEmcRKS3_`) for a return type and drops it,
/// where libiberty knows constructors have none. Such a name is demangled
/// again with an explicit `v` return type inserted after its name; the
/// result is taken only when it is the first output with one more leading
/// parameter.
fn constructor_template(name: &str, out: &str) -> Option<String> {
    let (prefix, params) = split_params(out)?;
    let (class, ctor) = last_two_components(prefix)?;
    let bare = |s: &str| s.split('<').next().unwrap_or(s).to_string();
    // Only a constructor with template arguments of its own.
    if !ctor.ends_with('>') || bare(class) != bare(ctor) || ctor == bare(ctor) {
        return None;
    }
    for (i, c) in name.char_indices() {
        if c != 'E' {
            continue;
        }
        let candidate = format!("{}v{}", name.get(..=i)?, name.get(i + 1..)?);
        let Some(fixed) = cpp_demangle_str(&candidate) else {
            continue;
        };
        let Some((p2, params2)) = split_params(&fixed) else {
            continue;
        };
        let one_more = if params.is_empty() {
            !params2.is_empty() && params2 != "void"
        } else {
            params2.ends_with(&format!(", {params}"))
        };
        if p2 == prefix && one_more {
            return Some(fixed);
        }
    }
    None
}

#[cfg(test)]
mod demangle_tests {
    use super::demangle;

    #[test]
    fn demangles_as_libiberty() {
        // What c++filt (libiberty) prints for each.
        for (mangled, want) in [
            ("main", "main"),
            ("nested.0", "nested.0"),
            ("_ZN2ns3BoxC2Ei", "ns::Box::Box(int)"),
            ("_ZNK2ns3Box3getEv", "ns::Box::get() const"),
            ("_ZN2ns5twiceIlEET_S1_", "long ns::twice<long>(long)"),
            (
                "_ZZ4mainENKUliE_clEi",
                "main::{lambda(int)#1}::operator()(int) const",
            ),
            (
                "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEC2IS3_EEmcRKS3_",
                "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<std::allocator<char> >(unsigned long, char, std::allocator<char> const&)",
            ),
            (
                "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEC2IS3_EEPKcRKS3_",
                "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<std::allocator<char> >(char const*, std::allocator<char> const&)",
            ),
        ] {
            assert_eq!(demangle(mangled), want, "{mangled}");
        }
    }
}

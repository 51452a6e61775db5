//! Znode paths: validation (ZooKeeper's `PathUtils.validatePath`), parent
//! computation, the sequence suffix, the protected system paths, and the
//! internal map-key encoding that keeps a node's children contiguous.
//!
//! Pure functions over `&str`; may use `proto::Code` only.

use crate::proto::Code;

/// The paths no client may delete (`/`, `/zookeeper`, `/zookeeper/quota`,
/// `/zookeeper/config`): deleting one is BadArguments.
pub const PROTECTED: [&str; 4] = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

/// The system subtree root.
pub const ZOOKEEPER: &str = "/zookeeper";
/// Where quota definitions live.
pub const QUOTA: &str = "/zookeeper/quota";
/// The dynamic ensemble configuration node.
pub const CONFIG: &str = "/zookeeper/config";

/// Checks a full path against ZooKeeper's rules; `Err(BadArguments)` if invalid.
///
/// Valid: starts with `/`; `/` alone, or no trailing `/`; no empty, `.` or
/// `..` component; no character ZooKeeper rejects (controls, surrogates and
/// therefore everything above U+FFFF, the private-use area, U+FFF0–U+FFFF).
pub fn validate(path: &str) -> Result<(), Code> {
    let rest = path.strip_prefix('/').ok_or(Code::BadArguments)?;
    if rest.is_empty() {
        return Ok(());
    }
    for component in rest.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return Err(Code::BadArguments);
        }
        if component.chars().any(is_forbidden_char) {
            return Err(Code::BadArguments);
        }
    }
    Ok(())
}

/// Whether ZooKeeper forbids `c` in a path. Java works on UTF-16 code units,
/// so any char above U+FFFF (a surrogate pair there) is forbidden too.
fn is_forbidden_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{e000}'..='\u{f8ff}'
        | '\u{fff0}'..='\u{ffff}')
        || (c as u32) > 0xffff
}

/// The parent of a path as ZooKeeper computes it (text before the last `/`;
/// `/` for top-level nodes and for `/` itself). `None` when the path holds no
/// `/` at all.
pub fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        None => None,
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
    }
}

/// The 10-digit sequence suffix for a parent's create counter, as Java's
/// `%010d` prints a signed 32-bit value (negative after overflow: `-000000001`).
pub fn sequence_suffix(counter: i32) -> String {
    format!("{counter:010}")
}

/// Whether the path is one of the [`PROTECTED`] system nodes.
pub fn is_protected(path: &str) -> bool {
    PROTECTED.contains(&path)
}

/// The map key of a path: the last `/` becomes NUL, so that all children of
/// a node share the prefix `parent + NUL` and sort contiguously (NUL cannot
/// occur in a stored path). The root's key is empty.
///
/// `None` for strings that can name no node (no leading `/`, or a NUL).
pub(crate) fn key_of(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\0') {
        return None;
    }
    if path == "/" {
        return Some(String::new());
    }
    let i = path.rfind('/')?;
    let mut key = String::with_capacity(path.len());
    key.push_str(&path[..i]);
    key.push('\0');
    key.push_str(&path[i + 1..]);
    Some(key)
}

/// The path a map key stands for (inverse of [`key_of`]).
pub(crate) fn path_of_key(key: &str) -> String {
    if key.is_empty() {
        return "/".to_string();
    }
    key.replacen('\0', "/", 1)
}

/// The key prefix shared by every child of `path` (which must be lookup-able).
pub(crate) fn children_prefix(path: &str) -> String {
    if path == "/" {
        "\0".to_string()
    } else {
        format!("{path}\0")
    }
}

/// Length of a path as Java counts it (UTF-16 code units); valid paths hold
/// only BMP characters, so this is the char count.
pub(crate) fn java_len(path: &str) -> i64 {
    path.chars().map(|c| c.len_utf16() as i64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_accepts_zookeeper_valid_paths() {
        for p in ["/", "/a", "/a/b", "/...", "/.a", "/a./b..", "/é", "/\u{f900}", "/\u{ffef}", "/a b"] {
            assert_eq!(validate(p), Ok(()), "{p:?}");
        }
    }

    #[test]
    fn validate_rejects_what_zookeeper_rejects() {
        for p in [
            "",
            "a",
            "a/b",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a/.",
            "/a\0b",
            "/a\u{1}",
            "/a\u{1f}",
            "/a\u{7f}",
            "/a\u{9f}",
            "/\u{e000}",
            "/\u{f8ff}",
            "/\u{fff0}",
            "/\u{ffff}",
            "/😀",
        ] {
            assert_eq!(validate(p), Err(Code::BadArguments), "{p:?}");
        }
    }

    #[test]
    fn parent_of_paths() {
        assert_eq!(parent("/"), Some("/"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a/"), Some("/a"));
        assert_eq!(parent("a/b"), Some("a"));
        assert_eq!(parent("corral"), None);
    }

    #[test]
    fn sequence_suffix_matches_java_percent_010d() {
        assert_eq!(sequence_suffix(0), "0000000000");
        assert_eq!(sequence_suffix(42), "0000000042");
        assert_eq!(sequence_suffix(i32::MAX), "2147483647");
        assert_eq!(sequence_suffix(-1), "-000000001");
        assert_eq!(sequence_suffix(i32::MIN), "-2147483648");
    }

    #[test]
    fn keys_group_children_and_round_trip() {
        assert_eq!(key_of("/").as_deref(), Some(""));
        assert_eq!(key_of("/a").as_deref(), Some("\0a"));
        assert_eq!(key_of("/a/b").as_deref(), Some("/a\0b"));
        assert_eq!(key_of("a"), None);
        assert_eq!(key_of("/a\0"), None);
        for p in ["/", "/a", "/a/b/c"] {
            let key = key_of(p).unwrap_or_default();
            assert_eq!(path_of_key(&key), p);
        }
        // Children of /a sort between /a's own key and any grandchild key.
        let child = key_of("/a/z").unwrap_or_default();
        assert!(child.starts_with(&children_prefix("/a")));
        assert!(!key_of("/a/b/c").unwrap_or_default().starts_with(&children_prefix("/a")));
        assert!(key_of("/a").unwrap_or_default().starts_with(&children_prefix("/")));
    }

    #[test]
    fn protected_paths() {
        for p in PROTECTED {
            assert!(is_protected(p));
        }
        assert!(!is_protected("/zookeeper/x"));
    }
}

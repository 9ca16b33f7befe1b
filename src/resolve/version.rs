//! Go version syntax and ordering, exactly as Go's `internal/gover` and `go/version` define them.
//!
//! `core` only and allocation-free: a [`Version`] borrows the digit strings of the text it was
//! parsed from, and numbers compare like Go's "big decimal" strings (by length, then bytes), so
//! `1.9 < 1.10 < 1.100` and no value can overflow.

use core::cmp::Ordering;

/// A parsed Go version `major[.minor[.patch]][kind[pre]]`, numbers kept as decimal strings.
///
/// An empty `major` is the "invalid" version, which sorts below every valid one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Version<'a> {
    pub major: &'a [u8],
    pub minor: &'a [u8],
    pub patch: &'a [u8],
    pub kind: &'a [u8],
    pub pre: &'a [u8],
}

impl<'a> Version<'a> {
    /// Parses a version without the `go` prefix (`1.21rc1`), like `gover.Parse`.
    pub fn parse(x: &'a [u8]) -> Version<'a> {
        parse(x).unwrap_or_default()
    }

    /// Parses a toolchain or user spelling: `go1.22.10`, `1.22.10`, `go1.21.0-bigcorp`.
    /// The `go` prefix is optional and a `-suffix` is ignored, as in `go/version`.
    pub fn parse_loose(x: &'a [u8]) -> Version<'a> {
        let x = strip_suffix(x);
        let x = x.strip_prefix(b"go").unwrap_or(x);
        Version::parse(x)
    }

    /// Parses a `go`-prefixed name the way `go/version.Compare` does: no prefix means invalid.
    pub fn parse_go(x: &'a [u8]) -> Version<'a> {
        match strip_suffix(x).strip_prefix(b"go") {
            Some(rest) => Version::parse(rest),
            None => Version::default(),
        }
    }

    pub fn is_valid(&self) -> bool {
        !self.major.is_empty()
    }

    /// A language version (`1.21`, `1.22`): no patch, not a pre-release.
    pub fn is_lang(&self) -> bool {
        self.is_valid() && self.patch.is_empty() && self.kind.is_empty() && self.pre.is_empty()
    }

    pub fn is_prerelease(&self) -> bool {
        !self.kind.is_empty()
    }

    /// From Go 1.21 on, `go 1.22` in go.mod means "at least go1.22.0": the language version
    /// becomes its first release. Older language versions (`1.20`) already are release names.
    pub fn lang_to_release(self) -> Version<'a> {
        if self.is_lang() && cmp_int(self.minor, b"21") != Ordering::Less {
            Version { patch: b"0", ..self }
        } else {
            self
        }
    }

    /// Same major and minor (the "minor line", e.g. 1.22.x).
    pub fn same_line(&self, other: &Version<'_>) -> bool {
        self.major == other.major && self.minor == other.minor
    }

    /// Go's `gover.Compare`.
    pub fn compare(&self, other: &Version<'_>) -> Ordering {
        cmp_int(self.major, other.major)
            .then_with(|| cmp_int(self.minor, other.minor))
            .then_with(|| cmp_int(self.patch, other.patch))
            // "" < "alpha" < "beta" < "rc", plain byte order like Go's cmp.Compare on strings.
            .then_with(|| self.kind.cmp(other.kind))
            .then_with(|| cmp_int(self.pre, other.pre))
    }

    /// Writes the canonical toolchain name (`go1.22.10`, `go1.23rc1`, `go1.20`) into `out`,
    /// returning the number of bytes written, or `None` if `out` is too small or invalid.
    pub fn write_canonical(&self, out: &mut [u8]) -> Option<usize> {
        if !self.is_valid() {
            return None;
        }
        let mut w = SliceWriter { buf: out, len: 0 };
        w.put(b"go")?;
        w.put(self.major)?;
        if !self.minor.is_empty() {
            w.put(b".")?;
            w.put(self.minor)?;
        }
        let implied_zero = self.patch == b"0" && self.minor_below_21() && self.kind.is_empty();
        if !self.patch.is_empty() && !implied_zero {
            // Before 1.21, `go1.20` is the release name and `.0` is implied; keep it implied.
            w.put(b".")?;
            w.put(self.patch)?;
        }
        w.put(self.kind)?;
        w.put(self.pre)?;
        Some(w.len)
    }

    fn minor_below_21(&self) -> bool {
        self.major == b"1" && cmp_int(self.minor, b"21") == Ordering::Less
    }
}

/// Compares two versions given as text in any accepted spelling (`go` prefix optional).
pub fn compare_loose(a: &[u8], b: &[u8]) -> Ordering {
    Version::parse_loose(a).compare(&Version::parse_loose(b))
}

/// Go's `go/version.Compare`: both arguments must carry the `go` prefix.
pub fn compare_go(a: &[u8], b: &[u8]) -> Ordering {
    Version::parse_go(a).compare(&Version::parse_go(b))
}

/// A toolchain name or user-typed version that must never reach the file system:
/// path separators, `..`, NUL, white space or control characters (goenv CVE-2022-35861,
/// cmd/go's mod_toolchain_slash test).
pub fn is_safe_name(name: &[u8]) -> bool {
    name.len() <= 128 && is_safe_text(name)
}

/// [`is_safe_name`] whatever the length (the resolver refuses long names by its own limit).
pub fn is_safe_text(name: &[u8]) -> bool {
    !name.is_empty()
        && !name.windows(2).any(|w| w == b"..")
        && name.iter().all(|&c| c > b' ' && c != 0x7f && c != b'/' && c != b'\\')
}

fn strip_suffix(x: &[u8]) -> &[u8] {
    match x.iter().position(|&c| c == b'-') {
        Some(i) => &x[..i],
        None => x,
    }
}

/// Compares decimal strings without leading zeros: shorter is smaller, then byte order.
fn cmp_int(x: &[u8], y: &[u8]) -> Ordering {
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

fn parse(x: &[u8]) -> Option<Version<'_>> {
    let mut v = Version::default();
    let (major, rest) = cut_int(x)?;
    v.major = major;
    if rest.is_empty() {
        // "1" means "1.0.0".
        v.minor = b"0";
        v.patch = b"0";
        return Some(v);
    }
    let rest = rest.strip_prefix(b".")?;
    let (minor, rest) = cut_int(rest)?;
    v.minor = minor;
    if rest.is_empty() {
        // Before Go 1.21 a missing patch is ".0"; from 1.21 on it is the language version.
        if cmp_int(minor, b"21") == Ordering::Less {
            v.patch = b"0";
        }
        return Some(v);
    }
    if let Some(rest) = rest.strip_prefix(b".") {
        // No pre-releases of patch releases, as in Go.
        let (patch, rest) = cut_int(rest)?;
        if !rest.is_empty() {
            return None;
        }
        v.patch = patch;
        return Some(v);
    }
    let kind_len = rest.iter().take_while(|c| !c.is_ascii_digit()).count();
    if kind_len == 0 || !rest[..kind_len].iter().all(u8::is_ascii_lowercase) {
        return None;
    }
    v.kind = &rest[..kind_len];
    let rest = &rest[kind_len..];
    if rest.is_empty() {
        return Some(v);
    }
    let (pre, rest) = cut_int(rest)?;
    if !rest.is_empty() {
        return None;
    }
    v.pre = pre;
    Some(v)
}

fn cut_int(x: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || (x[0] == b'0' && n != 1) {
        return None;
    }
    Some((&x[..n], &x[n..]))
}

struct SliceWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl SliceWriter<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        self.buf.get_mut(self.len..end)?.copy_from_slice(bytes);
        self.len = end;
        Some(())
    }
}

/// The release a toolchain name claims: the name up to its `-suffix` (`go1.22.10-mine` ->
/// `go1.22.10`).
pub fn claimed_release(name: &str) -> &str {
    name.split_once('-').map_or(name, |(release, _)| release)
}

/// `go1.22.10` -> `1.22.10`, as users type it.
pub fn short(name: &str) -> &str {
    name.strip_prefix("go").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cmp::Ordering::{Equal as EQ, Greater as GT, Less as LT};

    /// (x, y, expected) with the `go` prefix, from go/version's documented rules and its tests.
    const COMPARE_GO: &[(&str, &str, Ordering)] = &[
        ("", "", EQ),
        ("x", "x", EQ),
        ("", "x", EQ),
        ("1", "1.1", EQ), // no "go" prefix: both invalid
        ("go1", "go1.0.0", EQ),
        ("go1", "go1.1", LT),
        ("go1.5", "go1.6", LT),
        ("go1.5", "go1.10", LT),
        ("go1.6", "go1.6.1", LT),
        ("go1.9", "go1.10", LT),
        ("go1.10", "go1.100", LT),
        ("go1.19", "go1.19.0", EQ),
        ("go1.19rc1", "go1.19", LT),
        ("go1.20", "go1.20.0", EQ),
        ("go1.20", "go1.20.0-bigcorp", EQ),
        ("go1.20rc1", "go1.20", LT),
        ("go1.20rc1", "go1.20rc2", LT),
        ("go1.18beta1", "go1.18beta2", LT),
        ("go1.18beta2", "go1.18rc1", LT),
        ("go1.18rc1", "go1.18", LT),
        ("go1.21", "go1.21.0", LT),
        ("go1.21", "go1.21rc1", LT),
        ("go1.21rc1", "go1.21rc2", LT),
        ("go1.21rc2", "go1.21.0", LT),
        ("go1.21rc1", "go1.21.0", LT),
        ("go1.21.0", "go1.21.1", LT),
        ("go1.21.0-bigcorp", "go1.21.0", EQ),
        ("go1.21", "go1.21", EQ),
        ("go1.21", "go1.22", LT),
        ("go1.21.10", "go1.21.9", GT),
        ("go1.22.10", "go1.22.3", GT),
        ("go1.21.13", "go1.22.0", LT),
        ("go1.22alpha1", "go1.22beta1", LT),
        ("go1.22beta1", "go1.22rc1", LT),
        ("go1.22", "go1.22alpha1", LT),
        ("go1.99999999999", "go1.99999999998", GT),
        ("go1.99999999999", "go1.100000000000", LT),
        ("go2", "go1.999", GT),
        ("go2.0", "go2", EQ), // a minor below 21 implies .0, whatever the major
        ("go1.21.1", "go1.21.1-foo", EQ),
        ("go1.21x", "go1.21", GT), // any lowercase kind is accepted by gover
        ("go1.a", "go1", LT),      // malformed below valid
        ("go01.2", "go1.2", LT),   // leading zero is malformed
        ("go1.02", "go1.2", LT),
        ("go1.2.03", "go1.2.3", LT),
        ("go1.21.3rc1", "go1.0", LT), // patch pre-releases are malformed
        ("go1.21.", "go1", LT),
        ("go1.21rc", "go1.21", GT),
        ("go1.21rc", "go1.21rc1", LT),
        ("go1.21RC1", "go1", LT), // upper case kind is malformed
        ("go1.21rc1x", "go1", LT),
        ("go1.600+auto", "go1", LT),
        ("go1.21 ", "go1", LT),
        ("junk", "go1.21", LT),
        ("gox", "junk", EQ),
        ("go1.22.10", "go1.22.10", EQ),
        ("go1.19.13", "go1.20rc1", LT),
        ("go1.0", "go1", EQ),
        ("go1.1", "go1.1.0", EQ),
        ("go1.9.2", "go1.10beta1", LT),
        ("go1.26", "go1.26.0", LT),
        ("go1.27.3", "go1.27rc2", GT),
    ];

    #[test]
    fn compare_matches_go_version_compare() {
        assert!(COMPARE_GO.len() >= 60);
        for &(x, y, want) in COMPARE_GO {
            assert_eq!(compare_go(x.as_bytes(), y.as_bytes()), want, "Compare({x:?}, {y:?})");
            assert_eq!(
                compare_go(y.as_bytes(), x.as_bytes()),
                want.reverse(),
                "Compare({y:?}, {x:?})"
            );
        }
    }

    #[test]
    fn validity_and_language_versions() {
        let valid = [
            "1",
            "1.21",
            "1.21rc1",
            "1.21.0",
            "1.20",
            "1.999testmod",
            "2",
            "1.18beta2",
        ];
        let invalid = [
            "",
            "1.",
            "1.21.",
            ".1",
            "1.21.3rc1",
            "1.21-x",
            "v1.21",
            "1.021",
            "1.2.3.4",
            "1.21 ",
            "1.600+auto",
        ];
        for x in valid {
            assert!(Version::parse(x.as_bytes()).is_valid(), "{x} should be valid");
        }
        for x in invalid {
            assert!(!Version::parse(x.as_bytes()).is_valid(), "{x} should be invalid");
        }
        assert!(Version::parse(b"1.21").is_lang());
        assert!(Version::parse(b"1.22").is_lang());
        assert!(
            !Version::parse(b"1.20").is_lang(),
            "1.20 is a release: its patch is an implied .0"
        );
        assert!(!Version::parse(b"1.21rc1").is_lang());
        assert!(!Version::parse(b"1.21.0").is_lang());
    }

    #[test]
    fn language_versions_become_their_first_release() {
        let cases = [
            ("1.22", "go1.22.0"),
            ("1.21", "go1.21.0"),
            ("1.20", "go1.20"),
            ("1.15", "go1.15"),
            ("1.23.4", "go1.23.4"),
            ("1.24rc1", "go1.24rc1"),
        ];
        for (input, want) in cases {
            let mut buf = [0u8; 32];
            let n = Version::parse(input.as_bytes())
                .lang_to_release()
                .write_canonical(&mut buf)
                .unwrap();
            assert_eq!(&buf[..n], want.as_bytes(), "{input}");
        }
    }

    #[test]
    fn canonical_names() {
        let cases = [
            ("1.22.10", "go1.22.10"),
            ("go1.22.10", "go1.22.10"),
            ("1.23rc1", "go1.23rc1"),
            ("1.20", "go1.20"),
            ("1.20.0", "go1.20"),
            ("1.19.8", "go1.19.8"),
            ("1.21.0", "go1.21.0"),
            ("go1.21.0-bigcorp", "go1.21.0"),
            ("1", "go1.0"),
        ];
        for (input, want) in cases {
            let mut buf = [0u8; 32];
            let n = Version::parse_loose(input.as_bytes())
                .write_canonical(&mut buf)
                .unwrap();
            assert_eq!(&buf[..n], want.as_bytes(), "{input}");
        }
        assert_eq!(Version::parse_loose(b"garbage").write_canonical(&mut [0u8; 32]), None);
        assert_eq!(Version::parse_loose(b"1.22.10").write_canonical(&mut [0u8; 4]), None);
    }

    #[test]
    fn unsafe_names_are_rejected() {
        for bad in [
            "",
            "1.22/../../x",
            "..",
            "go1.22\\x",
            "a b",
            "go1.2\0",
            "go1.22\n",
            "x/y",
        ] {
            assert!(!is_safe_name(bad.as_bytes()), "{bad:?}");
        }
        for good in ["go1.22.10", "1.23rc1", "go1.21.0-bigcorp", "latest", "system"] {
            assert!(is_safe_name(good.as_bytes()), "{good:?}");
        }
    }
}

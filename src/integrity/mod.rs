//! Stage 2, integrity: what a tree contained ([`manifest`], recorded by [`snapshot`]), whether it
//! still does ([`verify`]), how it is configured ([`fingerprint`]), and its archive ([`pack`],
//! [`restore`]); [`tree`] is the one walker of a tree on disk.

pub mod fingerprint;
pub mod manifest;
pub mod pack;
pub mod restore;
pub mod snapshot;
pub mod tree;
pub mod verify;

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

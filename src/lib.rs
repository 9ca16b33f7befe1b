//! gomig: a Go toolchain manager that makes a Go upgrade safe.
//!
//! Data flow: argv ([`cli`]) -> a command ([`commands`]) -> the resolver ([`resolve`], shared
//! with the shim) -> the store ([`store`]) -> exec.

pub mod adopt;
pub mod archive;
pub mod audit;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod download;
pub mod events;
pub mod fingerprint;
pub mod index;
pub mod install;
pub mod journal;
pub mod lookup;
pub mod manifest;
pub mod migrate;
pub mod pack;
pub mod proxy;
pub mod prune;
/// The allocation-free resolver, also compiled into the `go` shim.
pub mod resolve;
pub mod restore;
pub mod shells;
pub mod shims;
pub mod store;
pub mod verify;

/// Go version parsing and ordering (lives with the resolver, which the shim shares).
pub use resolve::version;

//! gomig: a Go toolchain manager that makes a Go upgrade safe.
//!
//! Data flow: argv ([`cli`]) -> the resolver ([`resolve`], shared with the shim; [`lookup`] is
//! its face for std callers) -> the store ([`store`]) -> exec. The domain code is grouped by
//! the stage of a migration it serves (`docs/` holds the contracts):
//!
//! 1. [`install`]: side by side (index, download, proxies, archive extraction, adoption, shims);
//! 2. [`integrity`]: manifests, verification, fingerprints, archives and restore;
//! 3. [`check`]: a project under both versions;
//! 4. [`switch`]: the gated switch, rollback and prune; [`migrate`] runs all four;
//!
//! and [`health`] (doctor's and audit's checks). [`store`] owns every path under GOMIG_HOME,
//! the locks, the transaction every change goes through, and the event log.

pub mod check;
pub mod cli;
pub mod config;
pub mod gotool;
pub mod health;
pub mod install;
pub mod integrity;
pub mod interrupt;
pub mod lookup;
pub mod migrate;
pub mod paint;
/// The allocation-free resolver, also compiled into the `go` shim.
pub mod resolve;
pub mod store;
pub mod switch;

/// Go version parsing and ordering (lives with the resolver, which the shim shares).
pub use resolve::version;

//! Stage 4, switching: the gated switch and rollback (both through the store's transaction),
//! and prune (controlled clean-up of what a migration left behind).

pub mod prune;

//! Controllers: one per resource kind, each with the same contract.
//!
//! `observe` reads the world, `plan` compares it with the spec and returns the
//! actions needed (printable for `mailroom plan`), `apply` performs one action
//! idempotently. A controller is never given the reason it runs. Errors state whether
//! retrying can help: transient ones retry with capped, jittered backoff;
//! permanent ones are shown in status and wait for the spec or the operator's
//! files to change.

pub mod acme;
pub mod certificate;
pub mod daemon;
pub mod dkim;
pub mod listeners;
pub mod outbound_queue;
pub mod relay_credential;

/// Whether retrying an action can succeed without a change to the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retry after a backoff delay (I/O hiccup, a peer not up yet).
    Transient,
    /// Retry only after the spec or the operator's files change.
    Permanent,
}

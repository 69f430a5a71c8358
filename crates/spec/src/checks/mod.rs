//! Semantic checks: the rules of a host spec that JSON Schema cannot
//! express, run on a spec that deserialized.

mod aliases;
mod host;
mod listeners;
mod mailboxes;
pub(crate) mod names;
pub(crate) mod password;
mod violation;

use crate::problem::Problem;
use crate::types::HostSpec;

pub(crate) use violation::SemanticViolation;

/// Problems found so far, each at its JSON pointer.
#[derive(Debug, Default)]
pub(crate) struct Findings(Vec<Problem>);

impl Findings {
    fn add(&mut self, pointer: impl Into<String>, violation: SemanticViolation) {
        self.0.push(Problem::new(pointer, &violation));
    }
}

/// Runs every semantic check on `spec`; an empty list means it passed.
pub(crate) fn check(spec: &HostSpec) -> Vec<Problem> {
    let mut findings = Findings::default();

    host::check(spec, &mut findings);
    let mailboxes = mailboxes::check(spec, &mut findings);
    aliases::check(spec, &mailboxes, &mut findings);
    listeners::check(&spec.listeners, &mut findings);

    findings.0
}

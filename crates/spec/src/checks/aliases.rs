//! Checks of aliases: their addresses, their targets, and loops between
//! them.

use std::collections::HashMap;

use super::mailboxes::Mailboxes;
use super::names::{check_address, check_dns_name};
use super::{Findings, SemanticViolation};
use crate::types::{Alias, HostSpec};

pub(super) fn check(spec: &HostSpec, mailboxes: &Mailboxes, findings: &mut Findings) {
    let mut first_seen: HashMap<String, String> = HashMap::new();
    for (index, alias) in spec.aliases.iter().enumerate() {
        let pointer = format!("/aliases/{index}/address");
        check_alias_address(&pointer, alias, mailboxes, findings);

        let key = alias.address.to_ascii_lowercase();
        if let Some(first) = first_seen.get(&key) {
            let violation = SemanticViolation::DuplicateAlias {
                address: alias.address.clone(),
                first: first.clone(),
            };
            findings.add(pointer, violation);
        } else {
            first_seen.insert(key, pointer);
        }
    }

    for (index, alias) in spec.aliases.iter().enumerate() {
        for (target_index, target) in alias.targets.iter().enumerate() {
            let key = target.to_ascii_lowercase();
            if !mailboxes.accounts.contains_key(&key) && !first_seen.contains_key(&key) {
                let pointer = format!("/aliases/{index}/targets/{target_index}");
                findings.add(
                    pointer,
                    SemanticViolation::UnknownAliasTarget(target.clone()),
                );
            }
        }
    }

    for (pointer, cycle) in find_loops(&spec.aliases) {
        findings.add(pointer, SemanticViolation::AliasLoop(cycle));
    }
}

fn check_alias_address(
    pointer: &str,
    alias: &Alias,
    mailboxes: &Mailboxes,
    findings: &mut Findings,
) {
    let address = alias.address.clone();

    if let Some(domain) = address.strip_prefix('@') {
        match check_dns_name(domain) {
            Err(reason) => findings.add(
                pointer,
                SemanticViolation::InvalidDomain {
                    domain: domain.to_owned(),
                    reason,
                },
            ),
            Ok(()) if !mailboxes.domains.contains(&domain.to_ascii_lowercase()) => {
                findings.add(
                    pointer,
                    SemanticViolation::CatchAllDomainUndeclared {
                        domain: domain.to_owned(),
                    },
                );
            }
            Ok(()) => {}
        }
        return;
    }

    match check_address(&address) {
        Err(reason) => findings.add(
            pointer,
            SemanticViolation::InvalidAddress {
                address: address.clone(),
                reason,
            },
        ),
        Ok((_, domain)) if !mailboxes.domains.contains(&domain.to_ascii_lowercase()) => {
            let domain = domain.to_owned();
            findings.add(
                pointer,
                SemanticViolation::AliasDomainUndeclared {
                    address: address.clone(),
                    domain,
                },
            );
        }
        Ok(_) => {}
    }

    if let Some(account) = mailboxes.accounts.get(&address.to_ascii_lowercase()) {
        findings.add(
            pointer,
            SemanticViolation::AliasIsAccount {
                address,
                account: account.clone(),
            },
        );
    }
}

/// An edge of the alias graph: the target's address and the pointer of the
/// target entry.
struct Edge {
    target: String,
    pointer: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    OnPath,
    Finished,
}

/// Finds alias loops by depth-first search and returns, for each edge that
/// closes one, the edge's pointer and the loop's addresses (the first
/// repeated at the end). Removing every reported edge removes every loop.
fn find_loops(aliases: &[Alias]) -> Vec<(String, Vec<String>)> {
    let mut graph: HashMap<String, Vec<Edge>> = HashMap::new();
    for (index, alias) in aliases.iter().enumerate() {
        let edges = graph.entry(alias.address.to_ascii_lowercase()).or_default();
        for (target_index, target) in alias.targets.iter().enumerate() {
            let pointer = format!("/aliases/{index}/targets/{target_index}");
            edges.push(Edge {
                target: target.to_ascii_lowercase(),
                pointer,
            });
        }
    }

    let mut search = LoopSearch {
        graph: &graph,
        marks: HashMap::new(),
        path: Vec::new(),
        loops: Vec::new(),
    };
    for alias in aliases {
        let start = alias.address.to_ascii_lowercase();
        if !search.marks.contains_key(start.as_str()) {
            search.visit(&start);
        }
    }
    search.loops
}

struct LoopSearch<'a> {
    graph: &'a HashMap<String, Vec<Edge>>,
    marks: HashMap<&'a str, Mark>,
    /// Aliases from the start of the search to the current one.
    path: Vec<&'a str>,
    loops: Vec<(String, Vec<String>)>,
}

impl<'a> LoopSearch<'a> {
    fn visit(&mut self, alias: &str) {
        let Some((alias, edges)) = self.graph.get_key_value(alias) else {
            return;
        };
        self.marks.insert(alias, Mark::OnPath);
        self.path.push(alias);

        for edge in edges {
            let Some((target, _)) = self.graph.get_key_value(&edge.target) else {
                continue;
            };
            match self.marks.get(target.as_str()) {
                Some(Mark::OnPath) => self.record_loop(target, &edge.pointer),
                Some(Mark::Finished) => {}
                None => self.visit(target),
            }
        }

        self.path.pop();
        self.marks.insert(alias, Mark::Finished);
    }

    fn record_loop(&mut self, target: &str, pointer: &str) {
        let start = self
            .path
            .iter()
            .position(|alias| *alias == target)
            .unwrap_or(0);
        let mut cycle: Vec<String> = self.path[start..]
            .iter()
            .map(|alias| (*alias).to_owned())
            .collect();
        cycle.push(target.to_owned());
        self.loops.push((pointer.to_owned(), cycle));
    }
}

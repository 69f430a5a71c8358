//! Checks of domains and accounts.

use std::collections::{HashMap, HashSet};

use super::names::{check_address, check_dns_name};
use super::password::check_password_hash;
use super::{Findings, SemanticViolation};
use crate::types::{Account, HostSpec};

/// Declared domains and accounts, lower case, for the alias checks.
#[derive(Debug, Default)]
pub(super) struct Mailboxes {
    pub domains: HashSet<String>,
    /// Account address to the pointer of its first declaration.
    pub accounts: HashMap<String, String>,
}

pub(super) fn check(spec: &HostSpec, findings: &mut Findings) -> Mailboxes {
    let mut mailboxes = Mailboxes::default();
    check_domains(spec, &mut mailboxes, findings);
    for (index, account) in spec.accounts.iter().enumerate() {
        check_account(index, account, &mut mailboxes, findings);
    }
    mailboxes
}

fn check_domains(spec: &HostSpec, mailboxes: &mut Mailboxes, findings: &mut Findings) {
    let mut first_seen: HashMap<String, String> = HashMap::new();

    for (index, domain) in spec.domains.iter().enumerate() {
        let pointer = format!("/domains/{index}/name");
        if let Err(reason) = check_dns_name(&domain.name) {
            let violation = SemanticViolation::InvalidDomain {
                domain: domain.name.clone(),
                reason,
            };
            findings.add(pointer.clone(), violation);
        }

        let name = domain.name.to_ascii_lowercase();
        if let Some(first) = first_seen.get(&name) {
            let violation = SemanticViolation::DuplicateDomain {
                domain: domain.name.clone(),
                first: first.clone(),
            };
            findings.add(pointer, violation);
        } else {
            first_seen.insert(name.clone(), pointer);
        }
        mailboxes.domains.insert(name);

        if domain.dkim.rotation_days == 0 {
            let violation = SemanticViolation::ZeroLimit("rotation_days");
            findings.add(format!("/domains/{index}/dkim/rotation_days"), violation);
        }
    }
}

fn check_account(
    index: usize,
    account: &Account,
    mailboxes: &mut Mailboxes,
    findings: &mut Findings,
) {
    let pointer = format!("/accounts/{index}/address");
    let address = account.address.clone();

    match check_address(&account.address) {
        Err(reason) => findings.add(
            pointer.clone(),
            SemanticViolation::InvalidAddress {
                address: address.clone(),
                reason,
            },
        ),
        Ok((_, domain)) if !mailboxes.domains.contains(&domain.to_ascii_lowercase()) => {
            let domain = domain.to_owned();
            findings.add(
                pointer.clone(),
                SemanticViolation::AccountDomainUndeclared {
                    address: address.clone(),
                    domain,
                },
            );
        }
        Ok(_) => {}
    }

    let key = address.to_ascii_lowercase();
    if let Some(first) = mailboxes.accounts.get(&key) {
        findings.add(
            pointer,
            SemanticViolation::DuplicateAccount {
                address,
                first: first.clone(),
            },
        );
    } else {
        mailboxes.accounts.insert(key, pointer);
    }

    if let Err(error) = check_password_hash(&account.password_hash) {
        findings.add(
            format!("/accounts/{index}/password_hash"),
            SemanticViolation::InvalidPasswordHash(error),
        );
    }
    if account.quota_bytes == Some(0) {
        findings.add(
            format!("/accounts/{index}/quota_bytes"),
            SemanticViolation::ZeroLimit("quota_bytes"),
        );
    }
}

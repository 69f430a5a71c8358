//! Recipient lookup: which local mailboxes an address delivers to.
//!
//! Lookup order follows Postfix's virtual mailbox handling: the exact address
//! (account or alias), then the address without its extension
//! (`alice+news@` becomes `alice@`), then the domain's catch-all alias. Aliases
//! expand recursively to accounts; duplicates are delivered once.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::types::{Account, HostSpec};

/// Deepest alias chain followed; `mailroom check` rejects loops, so this only
/// bounds work on a spec that skipped the check.
const MAX_ALIAS_DEPTH: usize = 16;

/// Outcome of looking up one recipient address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The address delivers to these accounts (addresses, lower case, sorted).
    Local(Vec<String>),
    /// The domain is ours but no account or alias matches.
    UnknownUser,
    /// The domain is not served by this host.
    NotLocal,
}

/// Accounts and aliases of one spec, indexed for lookup.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    domains: HashSet<String>,
    accounts: HashMap<String, Account>,
    aliases: HashMap<String, Vec<String>>,
    delimiter: Option<String>,
}

impl Directory {
    /// Builds the index; addresses are compared case-insensitively.
    pub fn from_spec(spec: &HostSpec) -> Self {
        let domains = spec.domains.iter().map(|d| d.name.to_ascii_lowercase()).collect();
        let accounts = spec
            .accounts
            .iter()
            .map(|a| (a.address.to_ascii_lowercase(), a.clone()))
            .collect();
        let aliases = spec
            .aliases
            .iter()
            .map(|a| {
                let targets = a.targets.iter().map(|t| t.to_ascii_lowercase()).collect();
                (a.address.to_ascii_lowercase(), targets)
            })
            .collect();
        Self {
            domains,
            accounts,
            aliases,
            delimiter: spec.recipient_delimiter.clone().filter(|d| !d.is_empty()),
        }
    }

    /// Returns the account whose login name is `login`.
    pub fn account(&self, login: &str) -> Option<&Account> {
        self.accounts.get(&login.to_ascii_lowercase())
    }

    /// Returns whether `domain` is one of this host's mail domains.
    pub fn is_local_domain(&self, domain: &str) -> bool {
        self.domains.contains(&domain.to_ascii_lowercase())
    }

    /// Looks up the mailboxes that mail to `address` is delivered to.
    pub fn resolve(&self, address: &str) -> Resolution {
        let address = address.to_ascii_lowercase();
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Resolution::NotLocal;
        };
        if !self.is_local_domain(domain) {
            return Resolution::NotLocal;
        }

        let mut candidates = vec![address.clone()];
        if let Some(base) = self.strip_extension(local) {
            candidates.push(format!("{base}@{domain}"));
        }
        candidates.push(format!("@{domain}"));

        for candidate in candidates {
            let mut found = BTreeSet::new();
            if self.expand(&candidate, 0, &mut found) {
                return Resolution::Local(found.into_iter().collect());
            }
        }
        Resolution::UnknownUser
    }

    /// Returns the local part without its extension, if it has one.
    fn strip_extension<'a>(&self, local: &'a str) -> Option<&'a str> {
        let delimiter = self.delimiter.as_deref()?;
        let (base, _extension) = local.split_once(delimiter)?;
        (!base.is_empty()).then_some(base)
    }

    /// Adds the accounts that `address` names to `found`; returns false when
    /// `address` is neither an account nor an alias.
    fn expand(&self, address: &str, depth: usize, found: &mut BTreeSet<String>) -> bool {
        if self.accounts.contains_key(address) {
            found.insert(address.to_owned());
            return true;
        }
        let Some(targets) = self.aliases.get(address) else {
            return false;
        };
        if depth < MAX_ALIAS_DEPTH {
            for target in targets {
                self.expand(target, depth + 1, found);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Alias, Domain, Limits, Listener, ListenerRole, Relay, Tls};

    fn spec() -> HostSpec {
        let account = |address: &str| Account {
            address: address.to_owned(),
            password_hash: "$6$x$y".to_owned(),
            quota_bytes: None,
        };
        let alias = |address: &str, targets: &[&str]| Alias {
            address: address.to_owned(),
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        };
        HostSpec {
            version: 1,
            hostname: "mail.example.test".to_owned(),
            state_dir: "state".into(),
            domains: vec![
                Domain { name: "example.test".to_owned(), dkim: Default::default() },
                Domain { name: "catch.test".to_owned(), dkim: Default::default() },
            ],
            accounts: vec![account("alice@example.test"), account("bob@example.test")],
            aliases: vec![
                alias("team@example.test", &["alice@example.test", "bob@example.test"]),
                alias("all@example.test", &["team@example.test", "alice@example.test"]),
                alias("@catch.test", &["bob@example.test"]),
            ],
            recipient_delimiter: Some("+".to_owned()),
            listeners: vec![Listener { role: ListenerRole::Mx, address: "127.0.0.1:25".to_owned() }],
            tls: Tls::SelfSigned { extra_names: vec![] },
            relay: Relay::Disabled,
            limits: Limits::default(),
            submission: Default::default(),
        }
    }

    fn local(addresses: &[&str]) -> Resolution {
        Resolution::Local(addresses.iter().map(|a| (*a).to_owned()).collect())
    }

    #[test]
    fn resolves_account_case_insensitively() {
        let directory = Directory::from_spec(&spec());
        assert_eq!(directory.resolve("Alice@Example.TEST"), local(&["alice@example.test"]));
    }

    #[test]
    fn resolves_plus_address_to_account() {
        let directory = Directory::from_spec(&spec());
        assert_eq!(directory.resolve("alice+news@example.test"), local(&["alice@example.test"]));
    }

    #[test]
    fn plus_address_is_unknown_when_delimiter_is_off() {
        let mut spec = spec();
        spec.recipient_delimiter = None;
        let directory = Directory::from_spec(&spec);
        assert_eq!(directory.resolve("alice+news@example.test"), Resolution::UnknownUser);
    }

    #[test]
    fn expands_nested_aliases_once_each() {
        let directory = Directory::from_spec(&spec());
        let expected = local(&["alice@example.test", "bob@example.test"]);
        assert_eq!(directory.resolve("all@example.test"), expected);
        assert_eq!(directory.resolve("team+x@example.test"), expected);
    }

    #[test]
    fn catch_all_takes_unknown_local_parts() {
        let directory = Directory::from_spec(&spec());
        assert_eq!(directory.resolve("anything@catch.test"), local(&["bob@example.test"]));
    }

    #[test]
    fn unknown_user_and_foreign_domain_differ() {
        let directory = Directory::from_spec(&spec());
        assert_eq!(directory.resolve("carol@example.test"), Resolution::UnknownUser);
        assert_eq!(directory.resolve("carol@example.net"), Resolution::NotLocal);
        assert_eq!(directory.resolve("no-at-sign"), Resolution::NotLocal);
    }
}

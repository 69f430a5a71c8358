//! Sender policy of submission: which addresses an authenticated account may
//! send as, in the envelope and in `From:`.
//!
//! An account may use its own address, an alias that delivers to it, and a
//! plus-variant of either (`alice+news@`), like Postfix's
//! `reject_sender_login_mismatch` with the virtual alias map as
//! `smtpd_sender_login_maps`. A catch-all alias (`@domain`) does not count:
//! it would let its target send as every address of the domain.

use mailroom_spec::{Directory, HostSpec, Resolution};

/// Returns whether `account` may send as `address`. Both are compared
/// without regard to case.
pub fn may_send_as(spec: &HostSpec, directory: &Directory, account: &str, address: &str) -> bool {
    let account = account.to_ascii_lowercase();
    let address = address.to_ascii_lowercase();
    let base = base_address(&address, spec.recipient_delimiter.as_deref());

    [address.as_str(), base.as_str()]
        .into_iter()
        .any(|candidate| candidate == account || is_alias_of(spec, directory, candidate, &account))
}

/// Returns `address` without its extension: `alice+news@example.test`
/// becomes `alice@example.test`.
fn base_address(address: &str, delimiter: Option<&str>) -> String {
    let (Some(delimiter), Some((local, domain))) = (delimiter.filter(|d| !d.is_empty()), address.rsplit_once('@'))
    else {
        return address.to_owned();
    };
    match local.split_once(delimiter) {
        Some((base, _extension)) if !base.is_empty() => format!("{base}@{domain}"),
        _ => address.to_owned(),
    }
}

/// Returns whether `address` is an alias, written out in the spec, that
/// delivers to `account`.
fn is_alias_of(spec: &HostSpec, directory: &Directory, address: &str, account: &str) -> bool {
    let named = spec
        .aliases
        .iter()
        .any(|alias| alias.address.eq_ignore_ascii_case(address));
    if !named {
        return false;
    }
    matches!(directory.resolve(address), Resolution::Local(accounts) if accounts.iter().any(|a| a == account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> HostSpec {
        let spec = serde_json::json!({
            "version": 1,
            "hostname": "mail.example.test",
            "domains": [{ "name": "example.test" }],
            "accounts": [
                { "address": "alice@example.test", "password_hash": "$6$salt$hash" },
                { "address": "bob@example.test", "password_hash": "$6$salt$hash" }
            ],
            "aliases": [
                { "address": "team@example.test", "targets": ["alice@example.test", "bob@example.test"] },
                { "address": "carol@example.test", "targets": ["bob@example.test"] },
                { "address": "@example.test", "targets": ["alice@example.test"] }
            ],
            "listeners": [],
            "tls": { "mode": "self-signed" }
        });
        serde_json::from_value(spec).unwrap()
    }

    fn allowed(address: &str) -> bool {
        let spec = spec();
        let directory = Directory::from_spec(&spec);
        may_send_as(&spec, &directory, "alice@example.test", address)
    }

    #[test]
    fn allows_own_address_in_any_case() {
        assert!(allowed("Alice@Example.Test"));
    }

    #[test]
    fn allows_plus_variant() {
        assert!(allowed("alice+news@example.test"));
    }

    #[test]
    fn allows_alias_that_delivers_to_account() {
        assert!(allowed("team@example.test"));
        assert!(allowed("team+list@example.test"));
    }

    #[test]
    fn rejects_alias_of_another_account() {
        assert!(!allowed("carol@example.test"));
    }

    #[test]
    fn rejects_other_user() {
        assert!(!allowed("bob@example.test"));
    }

    #[test]
    fn rejects_address_covered_only_by_catch_all() {
        assert!(!allowed("anything@example.test"));
    }

    #[test]
    fn rejects_other_domain() {
        assert!(!allowed("alice@example.net"));
    }

    #[test]
    fn rejects_null_sender() {
        assert!(!allowed(""));
    }
}

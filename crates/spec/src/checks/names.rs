//! Syntax of the names in a spec: DNS names and mail addresses.
//!
//! Domains and local parts become folder names in the mail store
//! (`mail/<domain>/<local part>/`), so neither may be empty, start with `.`,
//! or contain `/`. The rules below imply all three.

/// Maximum length of a DNS name in text form (RFC 1035 section 2.3.4, without the root dot).
const MAX_NAME_LEN: usize = 253;

/// Maximum length of a label (RFC 1035 section 2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// Maximum length of a local part (RFC 5321 section 4.5.3.1.1).
const MAX_LOCAL_PART_LEN: usize = 64;

/// Characters of a dot-atom besides letters and digits (RFC 5322 section
/// 3.2.3), less `/`.
const ATOM_SPECIALS: &str = "!#$%&'*+=?^_`{|}~-";

/// Why a string is not a usable DNS name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NameError {
    #[error("it is empty")]
    Empty,
    #[error("it is {0} characters long, more than {MAX_NAME_LEN}")]
    TooLong(usize),
    #[error("it starts with \".\"")]
    LeadingDot,
    #[error("it ends with \".\"")]
    TrailingDot,
    #[error("it has an empty label (\"..\")")]
    EmptyLabel,
    #[error("label {0:?} is longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong(String),
    #[error("label {label:?} contains {character:?}")]
    InvalidCharacter { label: String, character: char },
    #[error("label {0:?} starts or ends with \"-\"")]
    HyphenAtEdge(String),
    #[error("it has only one label")]
    SingleLabel,
    #[error("its last label {0:?} is numeric, as in an IP address")]
    NumericTopLabel(String),
}

/// Why a string is not a usable mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AddressError {
    #[error("it has no \"@\"")]
    MissingAt,
    #[error("its local part is empty")]
    EmptyLocalPart,
    #[error("its local part is longer than {MAX_LOCAL_PART_LEN} characters")]
    LocalPartTooLong,
    #[error("its local part starts with \".\"")]
    LocalPartLeadingDot,
    #[error("its local part ends with \".\" or has \"..\"")]
    LocalPartBadDot,
    #[error("its local part contains \"/\"")]
    LocalPartSlash,
    #[error("its local part contains {0:?}")]
    LocalPartInvalidCharacter(char),
    #[error("its domain is invalid: {0}")]
    Domain(NameError),
}

/// Checks that `name` is a fully qualified DNS name of letters, digits and
/// hyphens, with no trailing dot.
pub(crate) fn check_dns_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.len()));
    }
    if name.starts_with('.') {
        return Err(NameError::LeadingDot);
    }
    if name.ends_with('.') {
        return Err(NameError::TrailingDot);
    }

    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        check_label(label)?;
    }

    let top = labels[labels.len() - 1];
    if labels.len() < 2 {
        return Err(NameError::SingleLabel);
    }
    if top.chars().all(|c| c.is_ascii_digit()) {
        return Err(NameError::NumericTopLabel(top.to_owned()));
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(NameError::LabelTooLong(label.to_owned()));
    }
    if let Some(character) = label
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
    {
        return Err(NameError::InvalidCharacter {
            label: label.to_owned(),
            character,
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(NameError::HyphenAtEdge(label.to_owned()));
    }
    Ok(())
}

/// Splits `address` into local part and domain at its last `@` and checks
/// both.
pub(crate) fn check_address(address: &str) -> Result<(&str, &str), AddressError> {
    let (local, domain) = address.rsplit_once('@').ok_or(AddressError::MissingAt)?;
    check_local_part(local)?;
    check_dns_name(domain).map_err(AddressError::Domain)?;
    Ok((local, domain))
}

fn check_local_part(local: &str) -> Result<(), AddressError> {
    if local.is_empty() {
        return Err(AddressError::EmptyLocalPart);
    }
    if local.len() > MAX_LOCAL_PART_LEN {
        return Err(AddressError::LocalPartTooLong);
    }
    if local.starts_with('.') {
        return Err(AddressError::LocalPartLeadingDot);
    }
    if local.ends_with('.') || local.contains("..") {
        return Err(AddressError::LocalPartBadDot);
    }
    if local.contains('/') {
        return Err(AddressError::LocalPartSlash);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || ATOM_SPECIALS.contains(c);
    if let Some(character) = local.chars().find(|c| !allowed(*c)) {
        return Err(AddressError::LocalPartInvalidCharacter(character));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        assert_eq!(check_dns_name("mail.example.test"), Ok(()));
        assert_eq!(check_dns_name("xn--bcher-kva.example"), Ok(()));
        assert_eq!(check_dns_name("a-b.c0"), Ok(()));
    }

    #[test]
    fn rejects_single_label_name() {
        assert_eq!(check_dns_name("localhost"), Err(NameError::SingleLabel));
    }

    #[test]
    fn rejects_ip_address_as_name() {
        assert_eq!(
            check_dns_name("192.0.2.1"),
            Err(NameError::NumericTopLabel("1".to_owned()))
        );
    }

    #[test]
    fn rejects_dots_at_edges_and_doubled() {
        assert_eq!(check_dns_name(".example.test"), Err(NameError::LeadingDot));
        assert_eq!(check_dns_name("example.test."), Err(NameError::TrailingDot));
        assert_eq!(check_dns_name("example..test"), Err(NameError::EmptyLabel));
    }

    #[test]
    fn rejects_slash_and_underscore_in_name() {
        let slash = NameError::InvalidCharacter {
            label: "a/b".to_owned(),
            character: '/',
        };
        assert_eq!(check_dns_name("a/b.test"), Err(slash));
        let underscore = NameError::InvalidCharacter {
            label: "a_b".to_owned(),
            character: '_',
        };
        assert_eq!(check_dns_name("a_b.test"), Err(underscore));
    }

    #[test]
    fn rejects_overlong_label_and_name() {
        let label = "a".repeat(64);
        assert_eq!(
            check_dns_name(&format!("{label}.test")),
            Err(NameError::LabelTooLong(label))
        );
        let name = vec!["abcdefghi"; 26].join(".");
        assert_eq!(check_dns_name(&name), Err(NameError::TooLong(259)));
    }

    #[test]
    fn splits_address_at_last_at_sign() {
        assert_eq!(
            check_address("alice.b+x@example.test"),
            Ok(("alice.b+x", "example.test"))
        );
    }

    #[test]
    fn rejects_local_parts_unfit_for_folders() {
        assert_eq!(
            check_address("@example.test"),
            Err(AddressError::EmptyLocalPart)
        );
        assert_eq!(
            check_address(".alice@example.test"),
            Err(AddressError::LocalPartLeadingDot)
        );
        assert_eq!(
            check_address("al/ice@example.test"),
            Err(AddressError::LocalPartSlash)
        );
        assert_eq!(
            check_address("al ice@example.test"),
            Err(AddressError::LocalPartInvalidCharacter(' '))
        );
    }

    #[test]
    fn rejects_address_without_valid_domain() {
        assert_eq!(check_address("alice"), Err(AddressError::MissingAt));
        assert_eq!(
            check_address("alice@example"),
            Err(AddressError::Domain(NameError::SingleLabel))
        );
    }
}

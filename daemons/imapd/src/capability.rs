//! The CAPABILITY list (RFC 3501 section 7.2.1), which depends on whether
//! TLS is active and whether the client has logged in.

use imap_codec::imap_types::core::NonEmptyVec;
use imap_codec::imap_types::response::{Capability, Data};

use crate::response;

/// Capabilities offered in every state.
const ALWAYS: [&str; 6] = ["IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE"];

/// Capabilities offered once logged in; clients ask again after LOGIN, or
/// read them from the `[CAPABILITY ...]` code of its OK.
const AUTHENTICATED: [&str; 6] = ["NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "SPECIAL-USE", "CHILDREN"];

/// Returns the capabilities for the current state. Before TLS, only
/// STARTTLS is offered for getting in, and LOGINDISABLED announces that
/// LOGIN would be rejected (RFC 3501 section 6.2.3).
pub fn capabilities(tls: bool, starttls_available: bool, authenticated: bool) -> Vec<&'static str> {
    let mut list: Vec<&'static str> = ALWAYS.to_vec();
    if authenticated {
        list.extend(AUTHENTICATED);
    } else if tls {
        list.push("AUTH=PLAIN");
    } else {
        if starttls_available {
            list.push("STARTTLS");
        }
        list.push("LOGINDISABLED");
    }
    list
}

/// Formats the `CAPABILITY ...` response code for a greeting or an OK.
pub fn code(list: &[&str]) -> String {
    format!("CAPABILITY {}", list.join(" "))
}

/// Encodes the untagged CAPABILITY response.
pub fn data(list: &[&'static str]) -> Vec<u8> {
    let capabilities: Vec<Capability<'static>> = list
        .iter()
        .filter_map(|name| Capability::try_from(*name).ok())
        .collect();
    match NonEmptyVec::try_from(capabilities) {
        Ok(capabilities) => response::data(Data::Capability(capabilities)),
        Err(_) => b"* CAPABILITY IMAP4rev1\r\n".to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_plain_auth_before_tls() {
        let list = capabilities(false, true, false);
        assert!(list.contains(&"STARTTLS"));
        assert!(list.contains(&"LOGINDISABLED"));
        assert!(!list.contains(&"AUTH=PLAIN"));
    }

    #[test]
    fn plain_auth_after_tls() {
        let list = capabilities(true, false, false);
        assert!(list.contains(&"AUTH=PLAIN"));
        assert!(!list.contains(&"LOGINDISABLED"));
        assert!(!list.contains(&"STARTTLS"));
    }

    #[test]
    fn encodes_the_list() {
        let encoded = String::from_utf8(data(&capabilities(true, false, true))).unwrap();
        assert!(
            encoded.starts_with("* CAPABILITY IMAP4REV1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE"),
            "{encoded}"
        );
    }
}

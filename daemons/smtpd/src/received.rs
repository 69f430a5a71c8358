//! The `Received:` trace header prepended to each accepted message (RFC 5321
//! section 4.4).

use std::fmt::Write;
use std::net::IpAddr;

use crate::connection::TlsInfo;

/// Facts recorded in one `Received:` header.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    /// Name the client gave in EHLO or HELO.
    pub helo: &'a str,
    /// Whether the client greeted with EHLO.
    pub extended: bool,
    /// The client's address, or `None` where the header must not reveal it.
    pub peer: Option<IpAddr>,
    /// Whether the client authenticated with AUTH (RFC 3848 `ESMTPA`).
    pub authenticated: bool,
    /// This host's name.
    pub hostname: &'a str,
    pub tls: Option<&'a TlsInfo>,
    pub smtputf8: bool,
    /// Identifier of the message, also logged and sent in the 250 reply.
    pub id: &'a str,
    /// The recipient, written only when the message has exactly one.
    pub recipient: Option<&'a str>,
    /// RFC 5322 date-time, such as `Tue, 1 Jul 2003 10:52:37 +0200`.
    pub date: &'a str,
}

/// Formats the header, folded over several lines, ending with CRLF.
///
/// The TLS comment follows Postfix's form so that tools that read Postfix
/// headers find the protocol version and cipher suite where they expect them.
pub fn received_header(trace: &Trace<'_>) -> String {
    let mut header = match trace.peer {
        Some(peer) => format!("Received: from {} ({})\r\n", trace.helo, address_literal(peer)),
        None => format!("Received: from {}\r\n", trace.helo),
    };
    if let Some(tls) = trace.tls {
        let _ = write!(header, "\t(using {} with cipher {})\r\n", tls.version, tls.cipher);
    }
    let _ = write!(
        header,
        "\tby {} (mailroom) with {} id {}",
        trace.hostname,
        protocol(trace),
        trace.id
    );
    if let Some(recipient) = trace.recipient {
        let _ = write!(header, "\r\n\tfor <{recipient}>");
    }
    let _ = write!(header, ";\r\n\t{}\r\n", trace.date);
    header
}

/// Returns the `with` protocol name registered by RFC 3848 and RFC 6531.
fn protocol(trace: &Trace<'_>) -> String {
    if !trace.extended {
        return "SMTP".to_owned();
    }
    let base = if trace.smtputf8 { "UTF8SMTP" } else { "ESMTP" };
    let tls = if trace.tls.is_some() { "S" } else { "" };
    let authenticated = if trace.authenticated { "A" } else { "" };
    format!("{base}{tls}{authenticated}")
}

/// Formats an address literal (RFC 5321 section 4.1.3), writing IPv4-mapped
/// IPv6 addresses as IPv4.
fn address_literal(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace<'a>(tls: Option<&'a TlsInfo>, recipient: Option<&'a str>) -> Trace<'a> {
        Trace {
            helo: "client.example",
            extended: true,
            peer: Some("192.0.2.7".parse().unwrap()),
            authenticated: false,
            hostname: "mx.example.test",
            tls,
            smtputf8: false,
            id: "4F2A9C01B7D3E856",
            recipient,
            date: "Tue, 1 Jul 2003 10:52:37 +0200",
        }
    }

    #[test]
    fn formats_plaintext_header_for_one_recipient() {
        let header = received_header(&trace(None, Some("alice@example.test")));
        let expected = "Received: from client.example ([192.0.2.7])\r\n\
                        \tby mx.example.test (mailroom) with ESMTP id 4F2A9C01B7D3E856\r\n\
                        \tfor <alice@example.test>;\r\n\
                        \tTue, 1 Jul 2003 10:52:37 +0200\r\n";
        assert_eq!(header, expected);
    }

    #[test]
    fn names_tls_version_and_cipher() {
        let tls = TlsInfo {
            version: "TLSv1.3".to_owned(),
            cipher: "TLS13_AES_256_GCM_SHA384".to_owned(),
        };
        let header = received_header(&trace(Some(&tls), None));
        let expected = "Received: from client.example ([192.0.2.7])\r\n\
                        \t(using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)\r\n\
                        \tby mx.example.test (mailroom) with ESMTPS id 4F2A9C01B7D3E856;\r\n\
                        \tTue, 1 Jul 2003 10:52:37 +0200\r\n";
        assert_eq!(header, expected);
    }

    #[test]
    fn writes_ipv6_and_mapped_ipv4_literals() {
        assert_eq!(address_literal("2001:db8::1".parse().unwrap()), "[IPv6:2001:db8::1]");
        assert_eq!(address_literal("::ffff:192.0.2.7".parse().unwrap()), "[192.0.2.7]");
    }

    #[test]
    fn picks_protocol_name() {
        let tls = TlsInfo {
            version: "TLSv1.2".to_owned(),
            cipher: "x".to_owned(),
        };
        let mut helo = trace(None, None);
        helo.extended = false;
        let mut utf8 = trace(Some(&tls), None);
        utf8.smtputf8 = true;

        assert_eq!(protocol(&helo), "SMTP");
        assert_eq!(protocol(&trace(None, None)), "ESMTP");
        assert_eq!(protocol(&trace(Some(&tls), None)), "ESMTPS");
        assert_eq!(protocol(&utf8), "UTF8SMTPS");
    }

    #[test]
    fn names_authenticated_protocol() {
        let tls = TlsInfo {
            version: "TLSv1.3".to_owned(),
            cipher: "x".to_owned(),
        };
        let mut submitted = trace(Some(&tls), None);
        submitted.authenticated = true;
        assert_eq!(protocol(&submitted), "ESMTPSA");
    }

    #[test]
    fn omits_hidden_client_address() {
        let mut hidden = trace(None, None);
        hidden.peer = None;
        let header = received_header(&hidden);
        assert!(header.starts_with("Received: from client.example\r\n\tby "), "{header}");
    }
}

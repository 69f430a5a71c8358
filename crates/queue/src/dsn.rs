//! Bounces as RFC 3464 delivery status notifications.
//!
//! A DSN is a `multipart/report` (RFC 6522) with three parts: a text for
//! people, a `message/delivery-status` part with one block per failed
//! recipient, and the original header as `text/rfc822-headers`. Like Postfix,
//! it returns only the original header, not the body.

use std::fmt::Write;

use chrono::{DateTime, Utc};

/// One recipient that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecipient {
    pub address: String,
    /// RFC 3463 status code, such as `5.0.0`.
    pub status: String,
    /// The remote server's reply, or what went wrong locally.
    pub diagnostic: String,
}

/// Inputs of one bounce.
#[derive(Debug, Clone)]
pub struct Bounce<'a> {
    /// Our host name, for `Reporting-MTA` and the `From:` address.
    pub hostname: &'a str,
    /// Envelope sender of the original message; the bounce goes there.
    pub original_sender: &'a str,
    /// The relay host that answered, if any, for `Remote-MTA`.
    pub remote_mta: Option<&'a str>,
    pub arrival: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub recipients: &'a [FailedRecipient],
    pub original_message: &'a [u8],
}

/// Builds the DSN message, with CRLF line ends.
pub fn build(bounce: &Bounce) -> Vec<u8> {
    let boundary = format!("dsn-{:016x}", rand::random::<u64>());
    let mut text = String::new();

    header(&mut text, bounce, &boundary);
    human_part(&mut text, bounce, &boundary);
    status_part(&mut text, bounce, &boundary);

    let mut message = text.into_bytes();
    append_original_header(&mut message, bounce.original_message, &boundary);
    message
}

fn header(text: &mut String, bounce: &Bounce, boundary: &str) {
    let id = format!("{:016x}", rand::random::<u64>());
    let _ = write!(
        text,
        "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\n\
         To: <{to}>\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: {date}\r\n\
         Message-ID: <{id}.dsn@{host}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\
         \r\n\
         This is a MIME-encapsulated message.\r\n\r\n",
        host = bounce.hostname,
        to = bounce.original_sender,
        date = bounce.now.to_rfc2822(),
    );
}

fn human_part(text: &mut String, bounce: &Bounce, boundary: &str) {
    let _ = write!(
        text,
        "--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         This is the mail system at host {host}.\r\n\
         \r\n\
         Your message could not be delivered to one or more recipients.\r\n\
         \r\n",
        host = bounce.hostname,
    );
    for recipient in bounce.recipients {
        let _ = write!(text, "<{}>: {}\r\n", recipient.address, recipient.diagnostic);
    }
    text.push_str("\r\n");
}

fn status_part(text: &mut String, bounce: &Bounce, boundary: &str) {
    let _ = write!(
        text,
        "--{boundary}\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; {host}\r\n\
         Arrival-Date: {arrival}\r\n",
        host = bounce.hostname,
        arrival = bounce.arrival.to_rfc2822(),
    );
    for recipient in bounce.recipients {
        let _ = write!(
            text,
            "\r\nFinal-Recipient: rfc822; {address}\r\n\
             Action: failed\r\n\
             Status: {status}\r\n",
            address = recipient.address,
            status = recipient.status,
        );
        if let Some(remote) = bounce.remote_mta {
            let _ = write!(text, "Remote-MTA: dns; {remote}\r\n");
        }
        let _ = write!(
            text,
            "Diagnostic-Code: smtp; {diagnostic}\r\nLast-Attempt-Date: {date}\r\n",
            diagnostic = one_line(&recipient.diagnostic),
            date = bounce.now.to_rfc2822(),
        );
    }
    text.push_str("\r\n");
}

fn append_original_header(message: &mut Vec<u8>, original: &[u8], boundary: &str) {
    message.extend_from_slice(format!("--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n").as_bytes());
    message.extend_from_slice(original_header(original));
    message.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
}

/// Returns the header section of `message`, up to and including the CRLF of
/// its last field.
fn original_header(message: &[u8]) -> &[u8] {
    match message.windows(4).position(|window| window == b"\r\n\r\n") {
        Some(end) => &message[..end + 2],
        None => message,
    }
}

/// Keeps a diagnostic on one header line.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Maps an SMTP reply code to an RFC 3463 status, preferring the enhanced
/// code when the reply text starts with one (RFC 2034).
pub fn status_of(code: u16, text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    let parts: Vec<&str> = first.split('.').collect();
    let enhanced = parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        && (parts[0] == "4" || parts[0] == "5");
    if enhanced {
        return first.to_owned();
    }
    format!("{}.0.0", code / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounce_text(original: &[u8]) -> String {
        let recipients = [FailedRecipient {
            address: "carol@example.net".into(),
            status: "5.0.0".into(),
            diagnostic: "554 Transaction failed: rejected".into(),
        }];
        let bounce = Bounce {
            hostname: "mail.example.test",
            original_sender: "alice@example.test",
            remote_mta: Some("email-smtp.us-east-1.amazonaws.com"),
            arrival: Utc::now(),
            now: Utc::now(),
            recipients: &recipients,
            original_message: original,
        };
        String::from_utf8(build(&bounce)).unwrap()
    }

    #[test]
    fn names_recipient_and_remote_reply() {
        let text = bounce_text(b"Subject: hi\r\n\r\nsecret body\r\n");
        assert!(text.contains("Final-Recipient: rfc822; carol@example.net\r\n"));
        assert!(text.contains("Diagnostic-Code: smtp; 554 Transaction failed: rejected\r\n"));
    }

    #[test]
    fn is_delivery_status_report() {
        let text = bounce_text(b"Subject: hi\r\n\r\nbody\r\n");
        assert!(text.contains("Content-Type: multipart/report; report-type=delivery-status;"));
        assert!(text.contains("Content-Type: message/delivery-status\r\n"));
    }

    #[test]
    fn returns_header_without_body() {
        let text = bounce_text(b"Subject: hi\r\n\r\nsecret body\r\n");
        assert!(text.contains("Subject: hi\r\n"));
        assert!(!text.contains("secret body"));
    }

    #[test]
    fn status_prefers_enhanced_code() {
        assert_eq!(status_of(550, "5.1.1 no such user"), "5.1.1");
    }

    #[test]
    fn status_falls_back_to_reply_class() {
        assert_eq!(status_of(554, "Transaction failed"), "5.0.0");
    }
}

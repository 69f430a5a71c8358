//! The steps of one relay session: connect, TLS, EHLO, AUTH, then either a
//! mail transaction or, for a probe, nothing, and QUIT.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::connection::Connection;
use super::data::dot_stuff;
use super::{ClientError, RelayTarget, Timeouts, TlsMode, client_config};
use crate::reply::Reply;

type Session = Connection<TlsStream<TcpStream>>;

/// An authenticated session and the relay's EHLO reply over TLS.
struct Opened {
    session: Session,
    extensions: Reply,
}

/// Outcome for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientResult {
    Delivered,
    /// A 5xx reply: bounce now. Holds the reply.
    Permanent(String),
    /// A 4xx reply or a failure after the recipient was accepted: retry.
    Transient(String),
}

/// The result of one transaction that reached MAIL FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub results: Vec<(String, RecipientResult)>,
    /// The reply to the final dot never came, so the relay may have the
    /// message already.
    pub uncertain: bool,
}

/// Relays `message` from `sender` to `recipients` through `target`.
///
/// Returns `Err` when the session failed before the transaction, which
/// leaves every recipient to retry.
pub async fn deliver(
    target: &RelayTarget,
    timeouts: &Timeouts,
    sender: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<Attempt, ClientError> {
    let Opened { mut session, extensions } = open(target, timeouts).await?;
    let mail_from = mail_from_command(sender, message, &extensions);
    let attempt = transaction(&mut session, timeouts, &mail_from, recipients, message).await?;
    if !attempt.uncertain {
        quit(&mut session, timeouts).await;
    }
    Ok(attempt)
}

/// Connects, negotiates TLS, authenticates and quits without sending mail.
pub async fn probe(target: &RelayTarget, timeouts: &Timeouts) -> Result<(), ClientError> {
    let mut opened = open(target, timeouts).await?;
    quit(&mut opened.session, timeouts).await;
    Ok(())
}

/// Returns an authenticated session over TLS.
async fn open(target: &RelayTarget, timeouts: &Timeouts) -> Result<Opened, ClientError> {
    let address = format!("{}:{}", target.host, target.port);
    let connect = TcpStream::connect(&address);
    let tcp = tokio::time::timeout(timeouts.connect, connect)
        .await
        .map_err(|_| ClientError::Timeout { stage: "the TCP connection" })?
        .map_err(|source| ClientError::Connect { address: address.clone(), source })?;

    let tcp = match target.tls {
        TlsMode::Implicit => tcp,
        TlsMode::Starttls => starttls(Connection::new(tcp), target, timeouts).await?,
    };
    let mut session = Connection::new(handshake(tcp, target, timeouts).await?);

    if target.tls == TlsMode::Implicit {
        expect(&mut session, None, "the greeting", timeouts.command, 220).await?;
    }
    let extensions = ehlo(&mut session, target, timeouts).await?;
    authenticate(&mut session, target, timeouts, &extensions).await?;
    Ok(Opened { session, extensions })
}

/// Builds the MAIL command with SIZE (RFC 1870) and BODY=8BITMIME (RFC 6152)
/// when the relay offers them; 8BITMIME only for a message with 8-bit bytes.
///
/// NOTE: SMTPUTF8 (RFC 6531) is never requested, so a non-ASCII address reaches the relay as sent.
fn mail_from_command(sender: &str, message: &[u8], extensions: &Reply) -> String {
    let mut command = format!("MAIL FROM:<{sender}>");
    if has_extension(extensions, "SIZE") {
        command.push_str(&format!(" SIZE={}", message.len()));
    }
    if has_extension(extensions, "8BITMIME") && !message.is_ascii() {
        command.push_str(" BODY=8BITMIME");
    }
    command
}

/// Reads the greeting in clear text, checks for STARTTLS and requests it.
async fn starttls(
    mut plain: Connection<TcpStream>,
    target: &RelayTarget,
    timeouts: &Timeouts,
) -> Result<TcpStream, ClientError> {
    expect(&mut plain, None, "the greeting", timeouts.command, 220).await?;
    let reply = expect(&mut plain, Some(&format!("EHLO {}", target.helo_name)), "EHLO", timeouts.command, 250).await?;
    if !has_extension(&reply, "STARTTLS") {
        return Err(ClientError::NoStartTls);
    }
    expect(&mut plain, Some("STARTTLS"), "STARTTLS", timeouts.command, 220).await?;
    plain.into_stream()
}

async fn handshake(tcp: TcpStream, target: &RelayTarget, timeouts: &Timeouts) -> Result<TlsStream<TcpStream>, ClientError> {
    let config = client_config(target.ca_file.as_deref())?;
    let name = ServerName::try_from(target.host.clone()).map_err(|_| ClientError::InvalidHostName(target.host.clone()))?;
    let connect = TlsConnector::from(config).connect(name, tcp);
    tokio::time::timeout(timeouts.command, connect)
        .await
        .map_err(|_| ClientError::Timeout { stage: "the TLS handshake" })?
        .map_err(|source| ClientError::Handshake { host: target.host.clone(), source })
}

async fn ehlo(session: &mut Session, target: &RelayTarget, timeouts: &Timeouts) -> Result<Reply, ClientError> {
    expect(session, Some(&format!("EHLO {}", target.helo_name)), "EHLO", timeouts.command, 250).await
}

/// Authenticates with PLAIN (RFC 4616) when offered, else LOGIN.
async fn authenticate(session: &mut Session, target: &RelayTarget, timeouts: &Timeouts, extensions: &Reply) -> Result<(), ClientError> {
    let mechanisms = auth_mechanisms(extensions);
    let wait = timeouts.command;
    if mechanisms.iter().any(|m| m == "PLAIN") {
        let token = BASE64.encode(format!("\0{}\0{}", target.username, target.password.0));
        expect(session, Some(&format!("AUTH PLAIN {token}")), "AUTH", wait, 235).await?;
    } else if mechanisms.iter().any(|m| m == "LOGIN") {
        expect(session, Some("AUTH LOGIN"), "AUTH", wait, 334).await?;
        expect(session, Some(&BASE64.encode(&target.username)), "AUTH", wait, 334).await?;
        expect(session, Some(&BASE64.encode(&target.password.0)), "AUTH", wait, 235).await?;
    } else {
        return Err(ClientError::NoAuthMechanism);
    }
    Ok(())
}

async fn transaction(
    session: &mut Session,
    timeouts: &Timeouts,
    mail_from: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<Attempt, ClientError> {
    let reply = session.command(mail_from, "MAIL FROM", timeouts.command).await?;
    if !reply.is_positive() {
        return Ok(every_recipient(recipients, &reply));
    }

    let mut results = Vec::new();
    let mut accepted = Vec::new();
    for recipient in recipients {
        let reply = session.command(&format!("RCPT TO:<{recipient}>"), "RCPT TO", timeouts.command).await?;
        if reply.is_positive() {
            accepted.push(recipient.clone());
        } else {
            results.push((recipient.clone(), failure(&reply)));
        }
    }
    if accepted.is_empty() {
        return Ok(Attempt { results, uncertain: false });
    }

    let reply = session.command("DATA", "DATA", timeouts.data_start).await?;
    if reply.code != 354 {
        results.extend(every_recipient(&accepted, &reply).results);
        return Ok(Attempt { results, uncertain: false });
    }
    session.write(&dot_stuff(message), "the message data", timeouts.data_block).await?;

    let (outcome, uncertain) = match session.read_reply("the reply to the final dot", timeouts.data_end).await {
        Ok(reply) if reply.is_positive() => (RecipientResult::Delivered, false),
        Ok(reply) => (failure(&reply), false),
        Err(error) => (RecipientResult::Transient(format!("{error} after the final dot; delivery uncertain")), true),
    };
    results.extend(accepted.into_iter().map(|r| (r, outcome.clone())));
    Ok(Attempt { results, uncertain })
}

fn every_recipient(recipients: &[String], reply: &Reply) -> Attempt {
    let results = recipients.iter().map(|r| (r.clone(), failure(reply))).collect();
    Attempt { results, uncertain: false }
}

fn failure(reply: &Reply) -> RecipientResult {
    if reply.is_transient() {
        RecipientResult::Transient(reply.summary())
    } else {
        RecipientResult::Permanent(reply.summary())
    }
}

/// Sends QUIT and reads its reply; a failure here changes nothing.
async fn quit(session: &mut Session, timeouts: &Timeouts) {
    if let Err(error) = session.command("QUIT", "QUIT", timeouts.command).await {
        tracing::debug!(%error, "relay did not reply to QUIT");
    }
}

/// Sends `line` (or nothing, for the greeting), reads the reply and requires
/// `code`.
async fn expect<S>(
    connection: &mut Connection<S>,
    line: Option<&str>,
    stage: &'static str,
    timeout: std::time::Duration,
    code: u16,
) -> Result<Reply, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let reply = match line {
        Some(line) => connection.command(line, stage, timeout).await?,
        None => connection.read_reply(stage, timeout).await?,
    };
    if reply.code != code {
        return Err(ClientError::rejected(stage, &reply));
    }
    Ok(reply)
}

fn has_extension(ehlo: &Reply, name: &str) -> bool {
    ehlo.lines.iter().skip(1).any(|line| line.split_whitespace().next().is_some_and(|k| k.eq_ignore_ascii_case(name)))
}

/// Returns the mechanisms of the EHLO `AUTH` line, upper-cased.
fn auth_mechanisms(ehlo: &Reply) -> Vec<String> {
    ehlo.lines
        .iter()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let keyword = words.next()?;
            keyword.eq_ignore_ascii_case("AUTH").then(|| words.map(str::to_ascii_uppercase).collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ehlo_reply(lines: &[&str]) -> Reply {
        Reply { code: 250, lines: lines.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn finds_auth_mechanisms() {
        let reply = ehlo_reply(&["relay.example", "STARTTLS", "AUTH login plain"]);
        assert_eq!(auth_mechanisms(&reply), vec!["LOGIN", "PLAIN"]);
    }

    #[test]
    fn ignores_greeting_line_for_extensions() {
        let reply = ehlo_reply(&["STARTTLS", "SIZE 1000"]);
        assert!(!has_extension(&reply, "STARTTLS"));
    }

    #[test]
    fn mail_from_declares_size_and_8bit_body() {
        let reply = ehlo_reply(&["relay.example", "SIZE 10485760", "8BITMIME"]);
        let command = mail_from_command("a@example.test", "caf\u{e9}\r\n".as_bytes(), &reply);
        assert_eq!(command, "MAIL FROM:<a@example.test> SIZE=7 BODY=8BITMIME");
    }

    #[test]
    fn mail_from_omits_unoffered_parameters() {
        let reply = ehlo_reply(&["relay.example"]);
        assert_eq!(mail_from_command("", b"x\r\n", &reply), "MAIL FROM:<>");
    }

    #[test]
    fn classifies_4xx_as_transient() {
        let reply = Reply { code: 451, lines: vec!["try later".into()] };
        assert_eq!(failure(&reply), RecipientResult::Transient("451 try later".into()));
    }
}

//! Parsing one SMTP command line into a [`Command`].
//!
//! smtp-proto parses the command grammar of RFC 5321 section 4.1 and its
//! extensions. Around it this module rejects what a strict server must not
//! accept: control characters, invalid UTF-8, and parameters of extensions
//! that mailroom does not advertise.

use std::borrow::Cow;

use smtp_proto::{MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_SMTPUTF8, Request};

/// Body type declared with the BODY parameter (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    SevenBit,
    EightBitMime,
}

/// MAIL FROM parameters of the advertised extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParameters {
    /// Declared message size in octets (RFC 1870), or `None` when absent or 0.
    pub size: Option<u64>,
    pub body: Option<BodyType>,
    /// Whether the transaction needs SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
}

/// A command the session acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo {
        domain: String,
    },
    Helo {
        domain: String,
    },
    /// `from` is empty for the null reverse-path `<>`.
    Mail {
        from: String,
        parameters: MailParameters,
    },
    Rcpt {
        to: String,
    },
    Data,
    Rset,
    Noop,
    Quit,
    Help,
    StartTls,
    /// VRFY or EXPN, both disabled.
    Verify,
    /// AUTH (RFC 4954) with the text after the verb, decoded by
    /// [`crate::auth::parse_auth_arguments`] where AUTH is offered.
    Auth {
        arguments: String,
    },
    /// A command of an extension that is not advertised, such as BDAT.
    NotImplemented {
        verb: &'static str,
    },
}

/// Reason a command line was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("command not recognized")]
    Unrecognized,
    #[error("line does not end with CRLF")]
    MissingCrlf,
    #[error("control character 0x{0:02x} in command line")]
    ControlCharacter(u8),
    #[error("command line is not valid UTF-8")]
    InvalidUtf8,
    #[error("syntax: {usage}")]
    Syntax { usage: &'static str },
    #[error("invalid EHLO or HELO domain {0:?}")]
    InvalidDomain(String),
    #[error("invalid sender address")]
    InvalidSender,
    #[error("invalid recipient address")]
    InvalidRecipient,
    #[error("invalid value of parameter {0}")]
    InvalidParameter(&'static str),
    #[error("unsupported parameter {0}")]
    UnsupportedParameter(String),
}

/// Parses one command line, which must end with CRLF as
/// [`crate::frame::CommandFramer`] returns it.
pub fn parse_command(line: &[u8]) -> Result<Command, CommandError> {
    let text = line.strip_suffix(b"\r\n").ok_or(CommandError::MissingCrlf)?;
    if let Some(&control) = text
        .iter()
        .find(|&&byte| (byte < 0x20 && byte != b'\t') || byte == 0x7f)
    {
        return Err(CommandError::ControlCharacter(control));
    }
    std::str::from_utf8(text).map_err(|_| CommandError::InvalidUtf8)?;

    if let Some(command) = command_without_arguments_checked(text) {
        return Ok(command);
    }

    let request = Request::parse(&mut line.iter()).map_err(map_parse_error)?;
    convert_request(request)
}

/// Recognizes commands whose reply does not depend on their arguments, so a
/// malformed argument does not turn that reply into a syntax error.
fn command_without_arguments_checked(text: &[u8]) -> Option<Command> {
    let verb_length = text.iter().position(|&byte| byte == b' ').unwrap_or(text.len());
    let verb = text[..verb_length].to_ascii_uppercase();
    let command = match verb.as_slice() {
        b"VRFY" | b"EXPN" => Command::Verify,
        b"HELP" => Command::Help,
        b"AUTH" => Command::Auth {
            // The caller checked that the line is UTF-8.
            arguments: String::from_utf8_lossy(&text[verb_length..]).trim().to_owned(),
        },
        b"BDAT" => Command::NotImplemented { verb: "BDAT" },
        b"BURL" => Command::NotImplemented { verb: "BURL" },
        b"ETRN" => Command::NotImplemented { verb: "ETRN" },
        b"ATRN" => Command::NotImplemented { verb: "ATRN" },
        _ => return None,
    };
    Some(command)
}

fn map_parse_error(error: smtp_proto::Error) -> CommandError {
    match error {
        smtp_proto::Error::UnknownCommand => CommandError::Unrecognized,
        smtp_proto::Error::InvalidSenderAddress => CommandError::InvalidSender,
        smtp_proto::Error::InvalidRecipientAddress => CommandError::InvalidRecipient,
        smtp_proto::Error::SyntaxError { syntax } => CommandError::Syntax { usage: syntax },
        smtp_proto::Error::InvalidParameter { param } => CommandError::InvalidParameter(param),
        smtp_proto::Error::UnsupportedParameter { param } => CommandError::UnsupportedParameter(param),
        // The line ends with CRLF, so the parser never runs out of input. The
        // response variants belong to the client side of smtp-proto.
        smtp_proto::Error::NeedsMoreData { .. }
        | smtp_proto::Error::ResponseTooLong
        | smtp_proto::Error::InvalidResponse { .. } => CommandError::Unrecognized,
    }
}

fn convert_request(request: Request<Cow<'_, str>>) -> Result<Command, CommandError> {
    let command = match request {
        Request::Ehlo { host } => Command::Ehlo {
            domain: checked_domain(host)?,
        },
        Request::Helo { host } => Command::Helo {
            domain: checked_domain(host)?,
        },
        Request::Mail { from } => convert_mail(from)?,
        Request::Rcpt { to } => convert_rcpt(to)?,
        Request::Data => Command::Data,
        Request::Rset => Command::Rset,
        Request::Noop { .. } => Command::Noop,
        Request::Quit => Command::Quit,
        Request::StartTls => Command::StartTls,
        Request::Help { .. } => Command::Help,
        Request::Vrfy { .. } | Request::Expn { .. } => Command::Verify,
        // Never reached: AUTH lines are taken before smtp-proto parses.
        Request::Auth { .. } => Command::Auth {
            arguments: String::new(),
        },
        // LHLO belongs to LMTP (RFC 2033), not SMTP.
        Request::Lhlo { .. } => return Err(CommandError::Unrecognized),
        Request::Bdat { .. } => Command::NotImplemented { verb: "BDAT" },
        Request::Burl { .. } => Command::NotImplemented { verb: "BURL" },
        Request::Etrn { .. } => Command::NotImplemented { verb: "ETRN" },
        Request::Atrn { .. } => Command::NotImplemented { verb: "ATRN" },
    };
    Ok(command)
}

/// Accepts a domain or address literal made of letters, digits, `.-_:[]`
/// and non-ASCII characters, so the name can be written into a `Received:`
/// header as it is.
fn checked_domain(host: Cow<'_, str>) -> Result<String, CommandError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_:[]".contains(c) || !c.is_ascii();
    if host.is_empty() || !host.chars().all(allowed) {
        return Err(CommandError::InvalidDomain(host.into_owned()));
    }
    Ok(host.into_owned())
}

fn convert_mail(from: smtp_proto::MailFrom<Cow<'_, str>>) -> Result<Command, CommandError> {
    let known_flags = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8;
    if let Some(name) = unadvertised_mail_parameter(&from, known_flags) {
        return Err(CommandError::UnsupportedParameter(name.to_owned()));
    }

    let body = if from.flags & MAIL_BODY_8BITMIME != 0 {
        Some(BodyType::EightBitMime)
    } else if from.flags & MAIL_BODY_7BIT != 0 {
        Some(BodyType::SevenBit)
    } else {
        None
    };
    let parameters = MailParameters {
        size: (from.size > 0).then_some(from.size as u64),
        body,
        smtputf8: from.flags & MAIL_SMTPUTF8 != 0,
    };
    Ok(Command::Mail {
        from: from.address.into_owned(),
        parameters,
    })
}

/// Returns the name of a parameter that smtp-proto understood but mailroom
/// does not advertise, such as BODY=BINARYMIME or the DSN parameters.
fn unadvertised_mail_parameter(from: &smtp_proto::MailFrom<Cow<'_, str>>, known_flags: u64) -> Option<&'static str> {
    let checks = [
        (from.flags & !known_flags != 0, "BODY, RET, BY, REQUIRETLS or CONPERM"),
        (from.trans_id.is_some(), "TRANSID"),
        (from.env_id.is_some(), "ENVID"),
        (from.solicit.is_some(), "SOLICIT"),
        (from.mtrk.is_some(), "MTRK"),
        (from.auth.is_some(), "AUTH"),
        (from.hold_for != 0 || from.hold_until != 0, "HOLDFOR or HOLDUNTIL"),
        (from.mt_priority != 0, "MT-PRIORITY"),
        (from.by != 0, "BY"),
    ];
    checks.into_iter().find(|(present, _)| *present).map(|(_, name)| name)
}

fn convert_rcpt(to: smtp_proto::RcptTo<Cow<'_, str>>) -> Result<Command, CommandError> {
    if to.orcpt.is_some() || to.flags != 0 || to.rrvs != 0 {
        return Err(CommandError::UnsupportedParameter(
            "NOTIFY, ORCPT, RRVS or CONNEG".to_owned(),
        ));
    }
    // NOTE: smtp-proto returns "" both for <> and for the domain-less
    // <Postmaster> that RFC 5321 section 2.3.5 requires servers to accept, so
    // both are rejected here until the parser distinguishes them.
    if to.address.is_empty() {
        return Err(CommandError::InvalidRecipient);
    }
    Ok(Command::Rcpt {
        to: to.address.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, CommandError> {
        parse_command(line.as_bytes())
    }

    fn mail(from: &str, parameters: MailParameters) -> Result<Command, CommandError> {
        Ok(Command::Mail {
            from: from.to_owned(),
            parameters,
        })
    }

    #[test]
    fn parses_ehlo_case_insensitively() {
        assert_eq!(
            parse("ehlo client.example\r\n"),
            Ok(Command::Ehlo {
                domain: "client.example".to_owned()
            })
        );
    }

    #[test]
    fn parses_address_literal_in_helo() {
        assert_eq!(
            parse("HELO [192.0.2.1]\r\n"),
            Ok(Command::Helo {
                domain: "[192.0.2.1]".to_owned()
            })
        );
    }

    #[test]
    fn rejects_helo_name_with_header_syntax() {
        assert_eq!(
            parse("EHLO a(b)\r\n"),
            Err(CommandError::InvalidDomain("a(b)".to_owned()))
        );
        assert_eq!(
            parse("EHLO a;b\r\n"),
            Err(CommandError::InvalidDomain("a;b".to_owned()))
        );
    }

    #[test]
    fn rejects_ehlo_without_domain() {
        assert!(matches!(parse("EHLO\r\n"), Err(CommandError::Syntax { .. })));
    }

    #[test]
    fn parses_mail_with_advertised_parameters() {
        let expected = MailParameters {
            size: Some(1234),
            body: Some(BodyType::EightBitMime),
            smtputf8: true,
        };
        assert_eq!(
            parse("MAIL FROM:<a@example.test> SIZE=1234 BODY=8BITMIME SMTPUTF8\r\n"),
            mail("a@example.test", expected)
        );
        let seven_bit = MailParameters {
            body: Some(BodyType::SevenBit),
            ..Default::default()
        };
        assert_eq!(
            parse("MAIL FROM:<a@example.test> BODY=7BIT\r\n"),
            mail("a@example.test", seven_bit)
        );
    }

    #[test]
    fn parses_null_reverse_path() {
        assert_eq!(parse("MAIL FROM:<>\r\n"), mail("", MailParameters::default()));
    }

    #[test]
    fn parses_utf8_address() {
        let parameters = MailParameters {
            smtputf8: true,
            ..Default::default()
        };
        assert_eq!(
            parse("MAIL FROM:<jörg@example.test> SMTPUTF8\r\n"),
            mail("jörg@example.test", parameters)
        );
    }

    #[test]
    fn rejects_unadvertised_mail_parameters() {
        for line in [
            "MAIL FROM:<a@example.test> BODY=BINARYMIME\r\n",
            "MAIL FROM:<a@example.test> RET=FULL\r\n",
            "MAIL FROM:<a@example.test> ENVID=x\r\n",
            "MAIL FROM:<a@example.test> AUTH=<>\r\n",
            "MAIL FROM:<a@example.test> REQUIRETLS\r\n",
            "MAIL FROM:<a@example.test> X-UNKNOWN=1\r\n",
        ] {
            assert!(
                matches!(parse(line), Err(CommandError::UnsupportedParameter(_))),
                "{line:?}"
            );
        }
    }

    #[test]
    fn rejects_invalid_size_value() {
        assert_eq!(
            parse("MAIL FROM:<a@example.test> SIZE=x\r\n"),
            Err(CommandError::InvalidParameter("SIZE"))
        );
    }

    #[test]
    fn parses_rcpt() {
        assert_eq!(
            parse("RCPT TO:<b@example.test>\r\n"),
            Ok(Command::Rcpt {
                to: "b@example.test".to_owned()
            })
        );
    }

    #[test]
    fn rejects_dsn_parameters_on_rcpt() {
        assert!(matches!(
            parse("RCPT TO:<b@example.test> NOTIFY=NEVER\r\n"),
            Err(CommandError::UnsupportedParameter(_))
        ));
    }

    #[test]
    fn rejects_invalid_addresses() {
        assert_eq!(
            parse("MAIL FROM:<a..b@example.test>\r\n"),
            Err(CommandError::InvalidSender)
        );
        assert_eq!(parse("RCPT TO:<no-domain>\r\n"), Err(CommandError::InvalidRecipient));
        assert_eq!(parse("RCPT TO:<>\r\n"), Err(CommandError::InvalidRecipient));
    }

    #[test]
    fn rejects_mail_without_angle_brackets() {
        assert!(matches!(
            parse("MAIL FROM:a@example.test\r\n"),
            Err(CommandError::Syntax { .. })
        ));
    }

    #[test]
    fn answers_vrfy_and_expn_whatever_the_argument() {
        assert_eq!(parse("VRFY\r\n"), Ok(Command::Verify));
        assert_eq!(parse("VRFY alice\r\n"), Ok(Command::Verify));
        assert_eq!(parse("EXPN staff\r\n"), Ok(Command::Verify));
    }

    #[test]
    fn parses_commands_without_arguments() {
        assert_eq!(parse("DATA\r\n"), Ok(Command::Data));
        assert_eq!(parse("RSET\r\n"), Ok(Command::Rset));
        assert_eq!(parse("NOOP\r\n"), Ok(Command::Noop));
        assert_eq!(parse("QUIT\r\n"), Ok(Command::Quit));
        assert_eq!(parse("STARTTLS\r\n"), Ok(Command::StartTls));
        assert_eq!(parse("HELP\r\n"), Ok(Command::Help));
    }

    #[test]
    fn reports_unadvertised_extension_commands() {
        assert_eq!(parse("BDAT 10 LAST\r\n"), Ok(Command::NotImplemented { verb: "BDAT" }));
        assert_eq!(
            parse("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
            Ok(Command::Auth {
                arguments: "PLAIN AGFsaWNlAHNlY3JldA==".to_owned()
            })
        );
    }

    #[test]
    fn rejects_unknown_command() {
        assert_eq!(parse("XYZZY\r\n"), Err(CommandError::Unrecognized));
        assert_eq!(parse("LHLO client.example\r\n"), Err(CommandError::Unrecognized));
        assert_eq!(parse("\r\n"), Err(CommandError::Unrecognized));
    }

    #[test]
    fn rejects_control_characters_and_bare_cr() {
        assert_eq!(parse("NOOP \0\r\n"), Err(CommandError::ControlCharacter(0)));
        assert_eq!(
            parse("MAIL FROM:<a@example.test>\rRCPT TO:<b@example.test>\r\n"),
            Err(CommandError::ControlCharacter(b'\r'))
        );
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert_eq!(
            parse_command(b"MAIL FROM:<\xff@example.test>\r\n"),
            Err(CommandError::InvalidUtf8)
        );
    }

    #[test]
    fn rejects_line_without_crlf() {
        assert_eq!(parse("NOOP\n"), Err(CommandError::MissingCrlf));
    }
}

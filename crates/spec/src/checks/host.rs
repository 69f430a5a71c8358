//! Checks of the host-wide fields: version, hostname, recipient delimiter,
//! TLS, relay and limits.

use std::path::Path;

use super::names::check_dns_name;
use super::{Findings, SemanticViolation};
use crate::types::{AcmeChallenge, DnsUpdate, HostSpec, ListenerRole, Relay, Tls};

/// The only spec version this crate reads.
const SUPPORTED_VERSION: u32 = 1;

pub(super) fn check(spec: &HostSpec, findings: &mut Findings) {
    if spec.version != SUPPORTED_VERSION {
        findings.add(
            "/version",
            SemanticViolation::UnsupportedVersion(spec.version),
        );
    }

    if let Err(reason) = check_dns_name(&spec.hostname) {
        let hostname = spec.hostname.clone();
        findings.add(
            "/hostname",
            SemanticViolation::HostnameNotFqdn { hostname, reason },
        );
    }

    if let Some(delimiter) = &spec.recipient_delimiter {
        check_delimiter(delimiter, findings);
    }
    check_tls(spec, findings);
    check_relay(&spec.relay, findings);
    check_limits(spec, findings);
    check_submission(spec, findings);
}

fn check_delimiter(delimiter: &str, findings: &mut Findings) {
    let violation = match delimiter.chars().count() {
        0 => SemanticViolation::EmptyDelimiter,
        1 if delimiter == "@" => SemanticViolation::AtSignDelimiter,
        1 => return,
        _ => SemanticViolation::LongDelimiter(delimiter.to_owned()),
    };
    findings.add("/recipient_delimiter", violation);
}

fn check_tls(spec: &HostSpec, findings: &mut Findings) {
    match &spec.tls {
        Tls::SelfSigned { extra_names } => check_extra_names(extra_names, findings),
        Tls::Acme {
            extra_names,
            challenge,
            ca_file,
            dns_update,
            ..
        } => {
            check_extra_names(extra_names, findings);
            if let Some(ca_file) = ca_file {
                check_absolute("/tls/ca_file", ca_file, findings);
            }
            check_challenge_listener(spec, *challenge, findings);
            check_dns_update(spec, *challenge, dns_update.as_ref(), findings);
        }
        Tls::Files {
            cert_file,
            key_file,
        } => {
            check_absolute("/tls/cert_file", cert_file, findings);
            check_absolute("/tls/key_file", key_file, findings);
        }
    }
}

/// HTTP-01 responses are served on an `http` listener, which the CA reaches on port
/// 80 (RFC 8555 section 8.3), and TLS-ALPN-01 on an `https` listener, which
/// it reaches on port 443 (RFC 8737 section 3), so the spec must have one.
fn check_challenge_listener(spec: &HostSpec, challenge: AcmeChallenge, findings: &mut Findings) {
    let (challenge, role) = match challenge {
        AcmeChallenge::Http01 => ("http-01", ListenerRole::Http),
        AcmeChallenge::TlsAlpn01 => ("tls-alpn-01", ListenerRole::Https),
        AcmeChallenge::Dns01 => return,
    };
    if !spec.listeners.iter().any(|l| l.role == role) {
        let violation = SemanticViolation::MissingChallengeListener { challenge, role: role.as_str() };
        findings.add("/tls/challenge", violation);
    }
}

/// DNS-01 needs a server to write to, and every name of the certificate
/// inside the zone it updates.
fn check_dns_update(spec: &HostSpec, challenge: AcmeChallenge, update: Option<&DnsUpdate>, findings: &mut Findings) {
    let Some(update) = update else {
        if challenge == AcmeChallenge::Dns01 {
            findings.add("/tls/challenge", SemanticViolation::MissingDnsUpdate);
        }
        return;
    };
    check_absolute("/tls/dns_update/tsig_secret_file", &update.tsig_secret_file, findings);

    let zone = update.zone.to_ascii_lowercase();
    let extra_names = match &spec.tls {
        Tls::Acme { extra_names, .. } => extra_names.as_slice(),
        _ => &[],
    };
    for name in std::iter::once(&spec.hostname).chain(extra_names) {
        let name = name.to_ascii_lowercase();
        if name != zone && !name.ends_with(&format!(".{zone}")) {
            let violation = SemanticViolation::NameOutsideZone { name, zone: update.zone.clone() };
            findings.add("/tls/dns_update/zone", violation);
        }
    }
}

fn check_extra_names(names: &[String], findings: &mut Findings) {
    for (index, name) in names.iter().enumerate() {
        if let Err(reason) = check_dns_name(name) {
            let violation = SemanticViolation::InvalidName {
                name: name.clone(),
                reason,
            };
            findings.add(format!("/tls/extra_names/{index}"), violation);
        }
    }
}

fn check_absolute(pointer: &str, path: &Path, findings: &mut Findings) {
    if !path.is_absolute() {
        findings.add(
            pointer,
            SemanticViolation::RelativePath(path.display().to_string()),
        );
    }
}

fn check_relay(relay: &Relay, findings: &mut Findings) {
    match relay {
        Relay::Disabled => {}
        Relay::Ses { region, .. } => {
            if !is_aws_region(region) {
                findings.add(
                    "/relay/region",
                    SemanticViolation::InvalidRegion(region.clone()),
                );
            }
        }
        Relay::Smtp { port, .. } => {
            if *port == 0 {
                findings.add("/relay/port", SemanticViolation::ZeroLimit("port"));
            }
        }
    }
}

/// Returns whether `region` is shaped like an AWS region name: a two-letter
/// area, one or more lower-case words, and a number (`us-east-1`,
/// `us-gov-west-1`).
fn is_aws_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [area, words @ .., number] = parts.as_slice() else {
        return false;
    };
    let is_lower_word =
        |part: &&str| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase());

    area.len() == 2
        && is_lower_word(area)
        && !words.is_empty()
        && words.iter().all(is_lower_word)
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

fn check_limits(spec: &HostSpec, findings: &mut Findings) {
    let limits = &spec.limits;
    check_nonzero(
        "limits",
        &[
            ("max_message_size", limits.max_message_size),
            ("max_recipients", u64::from(limits.max_recipients)),
            ("max_queue_lifetime_hours", u64::from(limits.max_queue_lifetime_hours)),
        ],
        findings,
    );
}

fn check_submission(spec: &HostSpec, findings: &mut Findings) {
    let submission = &spec.submission;
    check_nonzero(
        "submission",
        &[
            ("auth_failure_burst", u64::from(submission.auth_failure_burst)),
            ("auth_lockout_seconds", u64::from(submission.auth_lockout_seconds)),
        ],
        findings,
    );
}

/// Reports each field of the `section` object whose value is zero.
fn check_nonzero(section: &str, fields: &[(&'static str, u64)], findings: &mut Findings) {
    for &(name, value) in fields {
        if value == 0 {
            findings.add(format!("/{section}/{name}"), SemanticViolation::ZeroLimit(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_aws_region;

    #[test]
    fn accepts_aws_region_names() {
        for region in [
            "us-east-1",
            "eu-central-1",
            "ap-southeast-2",
            "us-gov-west-1",
        ] {
            assert!(is_aws_region(region), "{region}");
        }
    }

    #[test]
    fn rejects_other_region_shapes() {
        for region in [
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "email-smtp.us-east-1.amazonaws.com",
            "",
        ] {
            assert!(!is_aws_region(region), "{region}");
        }
    }
}

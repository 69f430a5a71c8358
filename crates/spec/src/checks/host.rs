//! Checks of the host-wide fields: version, hostname, recipient delimiter,
//! TLS, relay and limits.

use std::path::Path;

use super::names::check_dns_name;
use super::{Findings, SemanticViolation};
use crate::types::{HostSpec, Relay, Tls};

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
    check_tls(&spec.tls, findings);
    check_relay(&spec.relay, findings);
    check_limits(spec, findings);
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

fn check_tls(tls: &Tls, findings: &mut Findings) {
    match tls {
        Tls::SelfSigned { extra_names } | Tls::Acme { extra_names, .. } => {
            check_extra_names(extra_names, findings);
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
    if spec.limits.max_message_size == 0 {
        findings.add(
            "/limits/max_message_size",
            SemanticViolation::ZeroLimit("max_message_size"),
        );
    }
    if spec.limits.max_recipients == 0 {
        findings.add(
            "/limits/max_recipients",
            SemanticViolation::ZeroLimit("max_recipients"),
        );
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

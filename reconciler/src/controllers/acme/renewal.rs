//! When an ACME certificate is ordered or renewed, decided from the files
//! on disk alone, so that `mailroom plan` needs no CA.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

/// The facts of the certificate on disk that the decision needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub names: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// ACME directory that issued it, from `meta.json`; `None` when the files
    /// were not written by the ACME controller.
    pub directory: Option<String>,
    /// `renew_before_days` of the spec it was ordered under, from `meta.json`.
    pub renew_before_days: Option<u32>,
}

/// Next step for the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The certificate is good until `renew_at`.
    Keep { renew_at: DateTime<Utc> },
    /// No ACME certificate on disk, or one for other names or another CA.
    Order { why: String },
    /// The certificate is inside its renewal window.
    Renew { days_left: i64 },
    /// The renewal window is as long as the whole lifetime, and the
    /// certificate was ordered under the same setting: a renewal would be due
    /// again at once, so it waits for the setting to change or for expiry.
    WindowCoversLifetime { days_left: i64 },
}

impl Decision {
    pub fn is_due(&self) -> bool {
        matches!(self, Self::Order { .. } | Self::Renew { .. })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep { renew_at } => write!(f, "keep (renewal due {})", renew_at.to_rfc3339()),
            Self::Order { why } => write!(f, "order ({why})"),
            Self::Renew { days_left } if *days_left < 0 => write!(f, "renew (expired {} days ago)", -days_left),
            Self::Renew { days_left } => write!(f, "renew (expires in {days_left} days)"),
            Self::WindowCoversLifetime { days_left } => write!(
                f,
                "keep (expires in {days_left} days; renew_before_days covers the whole lifetime, so it was renewed once)"
            ),
        }
    }
}

/// Returns when `issued` is renewed: `renew_before_days` before expiry, or,
/// without it, when a third of the lifetime remains (30 days for a 90-day
/// certificate).
pub fn renew_at(issued: &Issued, renew_before_days: Option<u32>) -> DateTime<Utc> {
    let margin = match renew_before_days {
        Some(days) => Duration::days(i64::from(days)),
        None => (issued.not_after - issued.not_before) / 3,
    };
    issued.not_after - margin
}

/// Decides what to do about the certificate on disk.
pub fn decide(
    issued: Option<&Issued>,
    names: &[String],
    directory: &str,
    renew_before_days: Option<u32>,
    now: DateTime<Utc>,
) -> Decision {
    let Some(issued) = issued else {
        return Decision::Order { why: "none on disk".to_owned() };
    };
    if issued.directory.as_deref() != Some(directory) {
        return Decision::Order { why: format!("current certificate is not from {directory}") };
    }
    if sorted(&issued.names) != sorted(names) {
        return Decision::Order { why: format!("names changed from {}", issued.names.join(", ")) };
    }

    let renew_at = renew_at(issued, renew_before_days);
    if now < renew_at {
        return Decision::Keep { renew_at };
    }
    let days_left = (issued.not_after - now).num_days();
    let window_covers_lifetime = renew_at <= issued.not_before;
    if window_covers_lifetime && issued.renew_before_days == renew_before_days && now < issued.not_after {
        return Decision::WindowCoversLifetime { days_left };
    }
    Decision::Renew { days_left }
}

fn sorted(names: &[String]) -> Vec<&str> {
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRECTORY: &str = "https://acme.example.test/dir";

    fn names() -> Vec<String> {
        vec!["mail.example.test".to_owned(), "mta-sts.example.test".to_owned()]
    }

    fn issued(now: DateTime<Utc>, age_days: i64, lifetime_days: i64) -> Issued {
        let not_before = now - Duration::days(age_days);
        Issued {
            names: names(),
            not_before,
            not_after: not_before + Duration::days(lifetime_days),
            directory: Some(DIRECTORY.to_owned()),
            renew_before_days: None,
        }
    }

    #[test]
    fn orders_when_none_on_disk() {
        let decision = decide(None, &names(), DIRECTORY, None, Utc::now());
        assert_eq!(decision.to_string(), "order (none on disk)");
    }

    #[test]
    fn keeps_fresh_certificate_until_a_third_remains() {
        let now = Utc::now();
        let fresh = issued(now, 10, 90);
        let decision = decide(Some(&fresh), &names(), DIRECTORY, None, now);
        assert_eq!(decision, Decision::Keep { renew_at: fresh.not_before + Duration::days(60) });
    }

    #[test]
    fn renews_when_a_third_of_lifetime_remains() {
        let now = Utc::now();
        let decision = decide(Some(&issued(now, 81, 90)), &names(), DIRECTORY, None, now);
        assert_eq!(decision.to_string(), "renew (expires in 9 days)");
    }

    #[test]
    fn renew_before_days_overrides_default() {
        let now = Utc::now();
        let decision = decide(Some(&issued(now, 1, 90)), &names(), DIRECTORY, Some(100), now);
        assert!(decision.is_due());
    }

    #[test]
    fn window_longer_than_lifetime_renews_once() {
        let now = Utc::now();
        let before = issued(now, 0, 90);
        let after = Issued { renew_before_days: Some(100), ..before.clone() };

        let first = decide(Some(&before), &names(), DIRECTORY, Some(100), now);
        let second = decide(Some(&after), &names(), DIRECTORY, Some(100), now);

        assert!(first.is_due());
        assert!(!second.is_due());
    }

    #[test]
    fn reorders_when_names_change() {
        let now = Utc::now();
        let decision = decide(Some(&issued(now, 1, 90)), &names()[..1], DIRECTORY, None, now);
        assert_eq!(decision.to_string(), "order (names changed from mail.example.test, mta-sts.example.test)");
    }

    #[test]
    fn reorders_when_directory_changes() {
        let now = Utc::now();
        let decision = decide(Some(&issued(now, 1, 90)), &names(), "https://other.example.test/dir", None, now);
        assert!(matches!(decision, Decision::Order { .. }));
    }

    #[test]
    fn name_order_does_not_matter() {
        let now = Utc::now();
        let mut reversed = names();
        reversed.reverse();
        let decision = decide(Some(&issued(now, 1, 90)), &reversed, DIRECTORY, None, now);
        assert!(!decision.is_due());
    }
}

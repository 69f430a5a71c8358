//! Delivery state of one queue entry, and the retry schedule.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// First retry delay (Postfix `minimal_backoff_time`, 300 s).
pub const MIN_BACKOFF: TimeDelta = TimeDelta::seconds(300);

/// Maximum retry delay (Postfix `maximal_backoff_time` is 4000 s; one hour
/// here).
pub const MAX_BACKOFF: TimeDelta = TimeDelta::seconds(3600);

/// The record of delivery attempts on one entry. A missing state file
/// means no attempt yet and the entry is due now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryState {
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Earliest time of the next attempt; `None` means now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<DateTime<Utc>>,
    /// Reason the last attempt did not deliver, such as the relay's reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The last attempt timed out after the final dot, so the relay may have
    /// accepted the message; the next attempt may deliver a duplicate.
    #[serde(default)]
    pub delivery_uncertain: bool,
}

impl EntryState {
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.next_attempt.is_none_or(|next| next <= now)
    }

    /// Records a failed attempt at `now` and schedules the next one.
    pub fn defer(&mut self, now: DateTime<Utc>, error: String, uncertain: bool) {
        self.attempts += 1;
        self.last_error = Some(error);
        self.delivery_uncertain = uncertain;
        self.next_attempt = Some(now + backoff(self.attempts));
    }
}

/// Delay after the `attempts`-th failed attempt: doubling from
/// [`MIN_BACKOFF`], capped at [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> TimeDelta {
    let doublings = attempts.saturating_sub(1).min(16);
    let delay = MIN_BACKOFF * 2_i32.pow(doublings);
    delay.min(MAX_BACKOFF)
}

/// Whether a message queued at `queued_at` has been retried for longer than
/// `lifetime` and must bounce instead of waiting again.
pub fn is_expired(queued_at: DateTime<Utc>, lifetime: TimeDelta, now: DateTime<Utc>) -> bool {
    now - queued_at >= lifetime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_waits_minimum_backoff() {
        assert_eq!(backoff(1), MIN_BACKOFF);
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(3), MIN_BACKOFF * 4);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(backoff(40), MAX_BACKOFF);
    }

    #[test]
    fn deferral_counts_and_schedules() {
        let now = Utc::now();
        let mut state = EntryState::default();
        state.defer(now, "421 busy".into(), false);
        assert_eq!(state.attempts, 1);
        assert_eq!(state.next_attempt, Some(now + MIN_BACKOFF));
        assert!(!state.is_due(now));
    }

    #[test]
    fn fresh_entry_is_due() {
        assert!(EntryState::default().is_due(Utc::now()));
    }

    #[test]
    fn entry_expires_after_lifetime() {
        let now = Utc::now();
        let lifetime = TimeDelta::hours(120);
        assert!(is_expired(now - lifetime, lifetime, now));
        assert!(!is_expired(now - TimeDelta::hours(119), lifetime, now));
    }
}

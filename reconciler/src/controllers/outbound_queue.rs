//! The outbound queue as a status resource: depth, oldest entry, delivery
//! counts per hour and the entries waiting for a retry.
//!
//! The entries are read from the spool on every pass. The hourly counts come
//! from the statistics file that the queue daemon writes after each of its
//! passes. The queue is reported ready whatever its depth: deferrals are the
//! relay's state, which the relay resource reports.

use chrono::{SecondsFormat, Utc};
use mailroom_queue::{QueueStats, Spool};
use mailroom_spec::{HostSpec, Relay};
use serde_json::{Value, json};

use crate::state::StateDir;
use crate::status::{Condition, StatusBoard};

const KIND: &str = "queue";
const NAME: &str = "outbound";
/// Most entries listed in status; `mailroom queue` lists them all.
const MAX_LISTED: usize = 20;

/// Reports the queue on `board`, or removes it when relaying is disabled and
/// the queue is empty.
pub fn report(spec: &HostSpec, state: &StateDir, board: &StatusBoard) {
    let spool = Spool::new(state.queue_root());
    let ids = match spool.list() {
        Ok(ids) => ids,
        Err(error) => {
            board.set(KIND, NAME, Condition::not_ready("Unreadable", format!("cannot read the queue: {error}")));
            return;
        }
    };
    if spec.relay == Relay::Disabled && ids.is_empty() {
        board.retain(KIND, &[]);
        return;
    }

    let now = Utc::now();
    let mut oldest = None;
    let mut entries = Vec::new();
    for id in &ids {
        let (Ok(envelope), Ok(entry)) = (spool.envelope(id), spool.state(id)) else { continue };
        oldest = Some(oldest.map_or(envelope.queued_at, |t: chrono::DateTime<Utc>| t.min(envelope.queued_at)));
        if entries.len() < MAX_LISTED {
            entries.push(json!({
                "id": id,
                "recipients": envelope.recipients,
                "attempts": entry.attempts,
                "next_attempt": entry.next_attempt.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
                "last_error": entry.last_error,
                "delivery_uncertain": entry.delivery_uncertain,
            }));
        }
    }

    let stats = QueueStats::read(&state.queue_root()).unwrap_or_default();
    let oldest_age = oldest.map(|t| (now - t).num_seconds().max(0));
    let message = match ids.len() {
        0 => "queue is empty".to_owned(),
        depth => format!("{depth} entries queued"),
    };
    let condition = Condition::ready("Running", message)
        .with("depth", ids.len())
        .with("oldest_age_seconds", oldest_age)
        .with("deliveries_last_hour", stats.deliveries_last_hour)
        .with("deferrals_last_hour", stats.deferrals_last_hour)
        .with("bounces_last_hour", stats.bounces_last_hour)
        .with("delivery_uncertain", entries.iter().filter(|e| e["delivery_uncertain"] == Value::Bool(true)).count())
        .with("entries", entries);
    board.set(KIND, NAME, condition);
}

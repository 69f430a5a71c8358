//! Queue statistics, written by the queue daemon to `<queue_root>/stats.json`
//! for the reconciler's status board.

use std::collections::VecDeque;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// File name of the statistics in the queue root.
pub const STATS_FILE: &str = "stats.json";

/// Kinds of delivery events counted per hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// One recipient delivered (relayed or stored locally).
    Delivery,
    /// One entry deferred for a later attempt.
    Deferral,
    /// One recipient bounced.
    Bounce,
}

/// Snapshot of the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Entries in the queue.
    pub depth: usize,
    /// When the oldest entry was queued.
    pub oldest_queued_at: Option<DateTime<Utc>>,
    pub deliveries_last_hour: usize,
    pub deferrals_last_hour: usize,
    pub bounces_last_hour: usize,
    /// Entries whose last attempt timed out after the final dot.
    pub uncertain: usize,
    pub updated_at: Option<DateTime<Utc>>,
}

impl QueueStats {
    /// Reads the statistics in `queue_root`; `None` when the daemon has not
    /// written any yet or the file is unreadable.
    pub fn read(queue_root: &Path) -> Option<Self> {
        let text = std::fs::read(queue_root.join(STATS_FILE)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes the statistics to `queue_root` through a temporary file, so a
    /// reader never sees half a file. No fsync: losing them costs nothing.
    pub fn write(&self, queue_root: &Path) -> std::io::Result<()> {
        let temporary = queue_root.join(format!("{STATS_FILE}.tmp"));
        std::fs::write(&temporary, serde_json::to_vec_pretty(self).expect("stats serialise"))?;
        std::fs::rename(&temporary, queue_root.join(STATS_FILE))
    }
}

/// Events of the last hour, kept in memory by the daemon.
#[derive(Debug, Default)]
pub struct EventLog {
    events: VecDeque<(DateTime<Utc>, Event)>,
}

impl EventLog {
    pub fn record(&mut self, at: DateTime<Utc>, event: Event, count: usize) {
        for _ in 0..count {
            self.events.push_back((at, event));
        }
    }

    /// Drops events older than an hour before `now` and counts the rest of
    /// kind `event`.
    pub fn count_last_hour(&mut self, now: DateTime<Utc>, event: Event) -> usize {
        let horizon = now - TimeDelta::hours(1);
        while self.events.front().is_some_and(|(at, _)| *at < horizon) {
            self.events.pop_front();
        }
        self.events.iter().filter(|(_, kind)| *kind == event).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_last_hour() {
        let now = Utc::now();
        let mut log = EventLog::default();
        log.record(now - TimeDelta::minutes(90), Event::Bounce, 1);
        log.record(now - TimeDelta::minutes(10), Event::Bounce, 2);
        log.record(now, Event::Delivery, 1);
        assert_eq!(log.count_last_hour(now, Event::Bounce), 2);
    }

    #[test]
    fn stats_round_trip_through_file() {
        let root = tempfile::tempdir().unwrap();
        let stats = QueueStats { depth: 3, bounces_last_hour: 1, ..QueueStats::default() };
        stats.write(root.path()).unwrap();
        assert_eq!(QueueStats::read(root.path()), Some(stats));
    }
}

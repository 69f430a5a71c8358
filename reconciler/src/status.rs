//! The status board: one condition per resource, served as JSON on
//! `GET /status`, as Prometheus text on `GET /metrics`, and as a verdict on
//! `GET /healthz`.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::spec_source::Revision;

/// The condition of one resource, in the shape of a Kubernetes condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceStatus {
    pub kind: &'static str,
    pub name: String,
    pub ready: bool,
    /// A CamelCase word for the state, such as `Running` or `InvalidSpec`.
    pub reason: String,
    /// Explanation for an operator, including the fix when not ready.
    pub message: String,
    /// When `ready` last changed, RFC 3339.
    #[serde(serialize_with = "rfc3339")]
    pub since: DateTime<Utc>,
    /// Facts observed for this kind: certificate `not_after`, daemon `pid`...
    pub observed: Map<String, Value>,
}

/// A condition update, before the board stamps its transition time.
#[derive(Debug, Clone)]
pub struct Condition {
    pub ready: bool,
    pub reason: &'static str,
    pub message: String,
    pub observed: Map<String, Value>,
}

impl Condition {
    pub fn ready(reason: &'static str, message: impl Into<String>) -> Self {
        Self { ready: true, reason, message: message.into(), observed: Map::new() }
    }

    pub fn not_ready(reason: &'static str, message: impl Into<String>) -> Self {
        Self { ready: false, reason, message: message.into(), observed: Map::new() }
    }

    /// Adds an observed fact.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.observed.insert(key.to_owned(), value.into());
        self
    }
}

/// The JSON document served on `/status`.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub spec_path: String,
    pub revision: Option<Revision>,
    pub converged: bool,
    pub resources: Vec<ResourceStatus>,
}

#[derive(Debug, Default)]
struct Board {
    spec_path: String,
    revision: Option<Revision>,
    resources: BTreeMap<(&'static str, String), ResourceStatus>,
}

/// Shared, cheaply cloned handle to the status of every resource.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    inner: Arc<RwLock<Board>>,
}

impl StatusBoard {
    pub fn new(spec_path: &str) -> Self {
        let board = Board { spec_path: spec_path.to_owned(), ..Board::default() };
        Self { inner: Arc::new(RwLock::new(board)) }
    }

    /// Records the revision of the spec now applied.
    pub fn set_revision(&self, revision: Revision) {
        self.write().revision = Some(revision);
    }

    /// Records the condition of one resource. `since` moves only when
    /// `ready` changes.
    pub fn set(&self, kind: &'static str, name: &str, condition: Condition) {
        let mut board = self.write();
        let key = (kind, name.to_owned());
        let since = match board.resources.get(&key) {
            Some(old) if old.ready == condition.ready => old.since,
            _ => Utc::now(),
        };
        let status = ResourceStatus {
            kind,
            name: name.to_owned(),
            ready: condition.ready,
            reason: condition.reason.to_owned(),
            message: condition.message,
            since,
            observed: condition.observed,
        };
        board.resources.insert(key, status);
    }

    /// Forgets resources of `kind` whose names are not in `keep`.
    pub fn retain(&self, kind: &'static str, keep: &[String]) {
        self.write().resources.retain(|(k, name), _| *k != kind || keep.contains(name));
    }

    pub fn snapshot(&self) -> Snapshot {
        let board = self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let resources: Vec<ResourceStatus> = board.resources.values().cloned().collect();
        Snapshot {
            spec_path: board.spec_path.clone(),
            revision: board.revision.clone(),
            converged: !resources.is_empty() && resources.iter().all(|r| r.ready),
            resources,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Board> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Snapshot {
    /// Returns a one-line summary for systemd's `STATUS=`.
    pub fn summary(&self) -> String {
        let waiting: Vec<String> =
            self.resources.iter().filter(|r| !r.ready).map(|r| format!("{} {}: {}", r.kind, r.name, r.reason)).collect();
        if waiting.is_empty() { "converged".to_owned() } else { format!("not converged: {}", waiting.join("; ")) }
    }

    /// Renders the Prometheus text exposition format.
    pub fn metrics(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP mailroom_converged Whether every resource is ready.\n# TYPE mailroom_converged gauge\n");
        out.push_str(&format!("mailroom_converged {}\n", u8::from(self.converged)));
        out.push_str("# HELP mailroom_resource_ready Whether one resource is ready.\n# TYPE mailroom_resource_ready gauge\n");
        for r in &self.resources {
            out.push_str(&format!(
                "mailroom_resource_ready{{kind=\"{}\",name=\"{}\"}} {}\n",
                r.kind,
                escape_label(&r.name),
                u8::from(r.ready)
            ));
        }
        out.push_str("# HELP mailroom_daemon_restarts_total Unexpected exits of a daemon.\n# TYPE mailroom_daemon_restarts_total counter\n");
        for r in self.resources.iter().filter(|r| r.kind == "daemon") {
            let restarts = r.observed.get("restarts").and_then(Value::as_u64).unwrap_or(0);
            out.push_str(&format!("mailroom_daemon_restarts_total{{daemon=\"{}\"}} {restarts}\n", escape_label(&r.name)));
        }
        for r in self.resources.iter().filter(|r| r.kind == "queue") {
            out.push_str(&queue_metrics(&r.observed));
        }
        out
    }
}

/// Gauges of the outbound queue, from the facts of its status resource.
fn queue_metrics(observed: &Map<String, Value>) -> String {
    let gauges = [
        ("depth", "mailroom_queue_depth", "Messages in the outbound queue."),
        ("oldest_age_seconds", "mailroom_queue_oldest_age_seconds", "Age of the oldest queued message."),
        ("deliveries_last_hour", "mailroom_queue_deliveries_last_hour", "Recipients delivered in the last hour."),
        ("deferrals_last_hour", "mailroom_queue_deferrals_last_hour", "Delivery attempts deferred in the last hour."),
        ("bounces_last_hour", "mailroom_queue_bounces_last_hour", "Recipients bounced in the last hour."),
    ];
    let mut out = String::new();
    for (fact, name, help) in gauges {
        let value = observed.get(fact).and_then(Value::as_i64).unwrap_or(0);
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"));
    }
    out
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn rfc3339<S: serde::Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_moves_only_when_ready_changes() {
        let board = StatusBoard::new("spec.json");
        board.set("daemon", "smtpd", Condition::not_ready("Starting", "starting"));
        let first = board.snapshot().resources[0].since;
        board.set("daemon", "smtpd", Condition::not_ready("Starting", "still starting"));
        assert_eq!(board.snapshot().resources[0].since, first);
        std::thread::sleep(std::time::Duration::from_millis(5));
        board.set("daemon", "smtpd", Condition::ready("Running", "running"));
        assert!(board.snapshot().resources[0].since > first);
    }

    #[test]
    fn converged_needs_every_resource_ready() {
        let board = StatusBoard::new("spec.json");
        assert!(!board.snapshot().converged);
        board.set("daemon", "smtpd", Condition::ready("Running", ""));
        assert!(board.snapshot().converged);
        board.set("certificate", "mail.example.test", Condition::not_ready("Missing", ""));
        assert!(!board.snapshot().converged);
    }

    #[test]
    fn metrics_show_queue_depth() {
        let board = StatusBoard::new("spec.json");
        board.set("queue", "outbound", Condition::ready("Running", "").with("depth", 4).with("bounces_last_hour", 1));
        let metrics = board.snapshot().metrics();
        assert!(metrics.contains("mailroom_queue_depth 4\n"));
        assert!(metrics.contains("mailroom_queue_bounces_last_hour 1\n"));
    }

    #[test]
    fn metrics_list_restarts_per_daemon() {
        let board = StatusBoard::new("spec.json");
        board.set("daemon", "smtpd", Condition::ready("Running", "").with("restarts", 3));
        let metrics = board.snapshot().metrics();
        assert!(metrics.contains("mailroom_daemon_restarts_total{daemon=\"smtpd\"} 3\n"));
        assert!(metrics.contains("mailroom_converged 1\n"));
    }
}

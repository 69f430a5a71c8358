//! systemd notifications (`sd_notify`), sent only when `NOTIFY_SOCKET` is set.
//!
//! A datagram send blocks when the receiver's queue is full, so sends happen
//! on a dedicated thread fed by a bounded queue: the reconcile loop never
//! waits on systemd. When the queue is full the newest message is dropped,
//! which loses at most a status line or one watchdog ping.

use std::sync::OnceLock;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use sd_notify::NotifyState;

/// Messages waiting for the notifier thread.
const QUEUE: usize = 16;

/// One notification, owned so it can cross to the notifier thread.
enum Message {
    Ready(String),
    Status(String),
    Stopping,
    Watchdog,
}

/// Tells systemd the service is up, with a status line.
pub fn ready(status: &str) {
    send(Message::Ready(status.to_owned()));
}

/// Updates the status line shown by `systemctl status`.
pub fn status(status: &str) {
    send(Message::Status(status.to_owned()));
}

pub fn stopping() {
    send(Message::Stopping);
}

pub fn watchdog() {
    send(Message::Watchdog);
}

/// Returns how often to ping the watchdog: half of `WATCHDOG_USEC`, as
/// sd_watchdog_enabled(3) advises, or `None` when no watchdog is set.
///
/// Parsed here rather than with `sd_notify::watchdog_enabled`, which also
/// requires `WATCHDOG_PID`; the man page makes that variable optional and
/// requires only that, when set, it names this process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok().filter(|usec| *usec > 0)?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    Some(Duration::from_micros(usec / 2))
}

fn send(message: Message) {
    static NOTIFIER: OnceLock<Option<SyncSender<Message>>> = OnceLock::new();
    let notifier = NOTIFIER.get_or_init(|| {
        std::env::var_os("NOTIFY_SOCKET")?;
        let (sender, receiver) = sync_channel::<Message>(QUEUE);
        let spawned = std::thread::Builder::new().name("sd-notify".to_owned()).spawn(move || {
            for message in receiver {
                deliver(&message);
            }
        });
        match spawned {
            Ok(_) => Some(sender),
            Err(error) => {
                tracing::warn!(%error, "cannot start the systemd notifier thread; notifications are off");
                None
            }
        }
    });
    let Some(sender) = notifier else { return };
    if let Err(TrySendError::Full(_)) = sender.try_send(message) {
        tracing::debug!("systemd is not reading notifications; dropping one");
    }
}

fn deliver(message: &Message) {
    let states = match message {
        Message::Ready(status) => vec![NotifyState::Ready, NotifyState::Status(status)],
        Message::Status(status) => vec![NotifyState::Status(status)],
        Message::Stopping => vec![NotifyState::Stopping],
        Message::Watchdog => vec![NotifyState::Watchdog],
    };
    if let Err(error) = sd_notify::notify(false, &states) {
        tracing::warn!(%error, "cannot notify systemd");
    }
}

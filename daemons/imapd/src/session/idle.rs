//! IDLE (RFC 2177): the client waits for news without polling.
//!
//! NOTE: new mail is found by looking at `new/` and `cur/` every
//! [`POLL_INTERVAL`], not by file system notification, so it shows up with
//! up to that delay.

use std::time::Duration;

use super::{After, Done, Session};
use crate::error::CommandError;

/// How often the selected mailbox is checked while idling.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Maximum IDLE before the server ends the session; RFC 2177 has clients
/// restart IDLE within 29 minutes.
const MAX_IDLE: Duration = Duration::from_secs(30 * 60);

/// Maximum line length while idling, where only `DONE` is valid.
const MAX_IDLE_LINE: usize = 1024;

impl Session {
    pub(super) async fn idle(&mut self, _tag: &str) -> Result<Done, CommandError> {
        self.account("IDLE")?;
        self.connection.queue(b"+ idling\r\n");
        let deadline = tokio::time::Instant::now() + MAX_IDLE;
        let mut poll = tokio::time::interval(POLL_INTERVAL);

        loop {
            if self.connection.flush().await.is_err() {
                return Ok(Done {
                    code: None,
                    text: "IDLE ended",
                    after: After::Close,
                });
            }
            tokio::select! {
                line = self.connection.read_line(MAX_IDLE_LINE) => {
                    return match line {
                        Ok(line) if line.trim_ascii().eq_ignore_ascii_case(b"DONE") => Ok(Done::ok("IDLE terminated")),
                        Ok(_) => Err(CommandError::InvalidSyntax),
                        Err(_) => Ok(Done { code: None, text: "IDLE ended", after: After::Close }),
                    };
                }
                _ = poll.tick() => {
                    if self.sync(true).await == After::Close {
                        return Ok(Done { code: None, text: "IDLE ended", after: After::Close });
                    }
                }
                _ = self.shutdown.changed() => {
                    self.bye("server shutting down");
                    return Ok(Done { code: None, text: "IDLE ended", after: After::Close });
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.bye("IDLE lasted too long; start it again");
                    return Ok(Done { code: None, text: "IDLE ended", after: After::Close });
                }
            }
        }
    }
}

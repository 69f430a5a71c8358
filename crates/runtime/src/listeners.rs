//! Listening sockets inherited from the reconciler.
//!
//! The reconciler duplicates each socket without `FD_CLOEXEC` just before it
//! spawns a daemon and names them in `MAILROOM_LISTEN_FDS` as `ROLE:FD` pairs,
//! such as `mx:7,mx:8`. Unlike systemd's `LISTEN_FDS`, the numbers are not
//! renumbered from 3, which would need code between `fork` and `exec`.

#![allow(unsafe_code)]

use std::net::TcpListener;
use std::os::fd::{FromRawFd, RawFd};

use mailroom_spec::ListenerRole;

use crate::Error;

/// Environment variable naming the inherited sockets.
pub const LISTEN_FDS_ENV: &str = "MAILROOM_LISTEN_FDS";

/// A listening socket and the role it serves.
#[derive(Debug)]
pub struct InheritedListener {
    pub role: ListenerRole,
    pub listener: TcpListener,
}

/// Formats the `MAILROOM_LISTEN_FDS` value for `sockets`.
pub fn encode_listen_fds(sockets: &[(ListenerRole, RawFd)]) -> String {
    let pairs: Vec<String> = sockets.iter().map(|(role, fd)| format!("{}:{fd}", role.as_str())).collect();
    pairs.join(",")
}

/// Adopts the inherited sockets whose role is in `roles`.
pub(crate) fn inherited(roles: &[ListenerRole]) -> Result<Vec<InheritedListener>, Error> {
    let value = std::env::var(LISTEN_FDS_ENV).unwrap_or_default();
    let mut adopted = Vec::new();
    for (role, fd) in parse(&value)? {
        if !roles.contains(&role) {
            continue;
        }
        adopted.push(InheritedListener { role, listener: adopt(role, fd)? });
    }
    Ok(adopted)
}

fn parse(value: &str) -> Result<Vec<(ListenerRole, RawFd)>, Error> {
    let invalid = || Error::ListenFds { env: LISTEN_FDS_ENV, value: value.to_owned() };
    let mut sockets = Vec::new();
    for pair in value.split(',').filter(|p| !p.is_empty()) {
        let (role, fd) = pair.split_once(':').ok_or_else(invalid)?;
        let role: ListenerRole = serde_json::from_value(serde_json::Value::String(role.to_owned())).map_err(|_| invalid())?;
        let fd: RawFd = fd.parse().map_err(|_| invalid())?;
        if fd < 3 {
            return Err(invalid());
        }
        sockets.push((role, fd));
    }
    Ok(sockets)
}

fn adopt(role: ListenerRole, fd: RawFd) -> Result<TcpListener, Error> {
    let not_a_listener = |source| Error::NotAListener { role: role.as_str(), fd, source };

    // SAFETY: the fd number comes from the reconciler, which created the socket
    // and left it open in this process for exactly this adoption; nothing else
    // in this process owns it, so taking ownership here is sound.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };

    listener.local_addr().map_err(not_a_listener)?;
    listener.set_nonblocking(true).map_err(not_a_listener)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_fd_pairs() {
        let parsed = parse("mx:7,imaps:9").unwrap();
        assert_eq!(parsed, vec![(ListenerRole::Mx, 7), (ListenerRole::Imaps, 9)]);
    }

    #[test]
    fn rejects_unknown_role_and_low_fd() {
        assert!(parse("pop3:7").is_err());
        assert!(parse("mx:1").is_err());
        assert!(parse("mx").is_err());
    }

    #[test]
    fn encodes_what_it_parses() {
        let sockets = vec![(ListenerRole::Submission, 5), (ListenerRole::Mx, 6)];
        assert_eq!(parse(&encode_listen_fds(&sockets)).unwrap(), sockets);
    }
}

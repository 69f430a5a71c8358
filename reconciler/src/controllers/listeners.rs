//! The listening sockets named in the spec.
//!
//! The reconciler owns every listening socket and keeps it open across daemon
//! restarts and reloads, so a connection arriving while a daemon restarts
//! waits in the backlog instead of being refused. A socket is closed only
//! when the spec drops its listener.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, BorrowedFd};

use mailroom_spec::{Listener, ListenerRole};
use socket2::{Domain, Protocol, Socket, Type};

use crate::status::{Condition, StatusBoard};

/// Pending connections the kernel queues per socket, as in Postfix's default.
const BACKLOG: i32 = 1024;

/// Errors binding one listener.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("invalid listener address {0:?}: expected ip:port, such as 127.0.0.1:25 or [::1]:25")]
    Address(String),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: SocketAddr, source: std::io::Error },
}

type Key = (ListenerRole, SocketAddr);

/// The sockets currently bound, by role and address.
#[derive(Debug, Default)]
pub struct ListenerSet {
    bound: BTreeMap<Key, TcpListener>,
}

impl ListenerSet {
    /// Binds listeners the spec adds and closes those it drops; returns
    /// whether the set changed. Each listener's condition goes on `board`.
    pub fn sync(&mut self, wanted: &[Listener], board: &StatusBoard) -> bool {
        let mut keep = BTreeMap::new();
        let mut names = Vec::new();
        let mut changed = false;

        for listener in wanted {
            let name = format!("{} {}", listener.role.as_str(), listener.address);
            names.push(name.clone());
            let address: SocketAddr = match listener.address.parse() {
                Ok(address) => address,
                Err(_) => {
                    let error = ListenerError::Address(listener.address.clone());
                    board.set("listener", &name, Condition::not_ready("InvalidAddress", error.to_string()));
                    continue;
                }
            };
            let key = (listener.role, address);
            if let Some(socket) = self.bound.remove(&key) {
                keep.insert(key, socket);
                continue;
            }
            match bind(address) {
                Ok(socket) => {
                    tracing::info!(role = listener.role.as_str(), %address, "listening");
                    board.set("listener", &name, Condition::ready("Bound", format!("listening on {address}")));
                    keep.insert(key, socket);
                    changed = true;
                }
                Err(error) => {
                    tracing::error!(role = listener.role.as_str(), %address, %error, "cannot bind listener");
                    board.set("listener", &name, Condition::not_ready("BindFailed", error.to_string()));
                }
            }
        }

        changed |= !self.bound.is_empty();
        for ((role, address), _) in std::mem::take(&mut self.bound) {
            tracing::info!(role = role.as_str(), %address, "listener closed");
        }
        self.bound = keep;
        board.retain("listener", &names);
        changed
    }

    /// Returns the sockets serving any of `roles`.
    pub fn for_roles(&self, roles: &[ListenerRole]) -> Vec<(ListenerRole, SocketAddr, BorrowedFd<'_>)> {
        self.bound
            .iter()
            .filter(|((role, _), _)| roles.contains(role))
            .map(|((role, address), socket)| (*role, *address, socket.as_fd()))
            .collect()
    }

    /// Returns a handle to the socket of the status listener, if bound.
    pub fn status_socket(&self) -> Option<(SocketAddr, std::io::Result<TcpListener>)> {
        self.bound
            .iter()
            .find(|((role, _), _)| *role == ListenerRole::Status)
            .map(|((_, address), socket)| (*address, socket.try_clone()))
    }
}

/// Opens a listening socket. IPv6 sockets are IPv6-only, so that `0.0.0.0:25`
/// and `[::]:25` can both be listed.
fn bind(address: SocketAddr) -> Result<TcpListener, ListenerError> {
    let failed = |source| ListenerError::Bind { address, source };
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, Some(Protocol::TCP)).map_err(failed)?;
    socket.set_reuse_address(true).map_err(failed)?;
    if address.is_ipv6() {
        socket.set_only_v6(true).map_err(failed)?;
    }
    socket.bind(&address.into()).map_err(failed)?;
    socket.listen(BACKLOG).map_err(failed)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(role: ListenerRole, address: &str) -> Listener {
        Listener { role, address: address.to_owned() }
    }

    #[test]
    fn keeps_sockets_across_syncs() {
        let board = StatusBoard::new("spec.json");
        let mut set = ListenerSet::default();
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = probe.local_addr().unwrap().to_string();
        drop(probe);
        let wanted = vec![listener(ListenerRole::Mx, &address)];

        assert!(set.sync(&wanted, &board));
        let before = set.for_roles(&[ListenerRole::Mx])[0].2.try_clone_to_owned().unwrap();
        assert!(!set.sync(&wanted, &board));
        let after = set.for_roles(&[ListenerRole::Mx])[0].2.try_clone_to_owned().unwrap();

        use std::os::fd::AsRawFd;
        let inode = |fd: &std::os::fd::OwnedFd| std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd())).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap();
        assert_eq!(inode(&before), inode(&after));
    }

    #[test]
    fn reports_bind_failure_without_panicking() {
        let board = StatusBoard::new("spec.json");
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = taken.local_addr().unwrap().to_string();
        let mut set = ListenerSet::default();

        set.sync(&[listener(ListenerRole::Mx, &address)], &board);

        let snapshot = board.snapshot();
        assert_eq!(snapshot.resources[0].reason, "BindFailed");
        assert!(!snapshot.resources[0].ready);
    }

    #[test]
    fn dropping_a_listener_closes_it() {
        let board = StatusBoard::new("spec.json");
        let mut set = ListenerSet::default();
        set.sync(&[listener(ListenerRole::Imap, "127.0.0.1:0")], &board);
        assert!(set.sync(&[], &board));
        assert!(set.for_roles(&[ListenerRole::Imap]).is_empty());
        assert!(board.snapshot().resources.is_empty());
    }
}

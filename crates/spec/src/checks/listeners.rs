//! Checks of listener addresses and roles.

use std::net::SocketAddr;

use super::{Findings, SemanticViolation};
use crate::types::{Listener, ListenerRole};

pub(super) fn check(listeners: &[Listener], findings: &mut Findings) {
    let mut bound: Vec<(usize, SocketAddr)> = Vec::new();

    for (index, listener) in listeners.iter().enumerate() {
        let pointer = format!("/listeners/{index}/address");
        let Ok(address) = listener.address.parse::<SocketAddr>() else {
            findings.add(
                pointer,
                SemanticViolation::InvalidListenAddress(listener.address.clone()),
            );
            continue;
        };

        if let Some((other_index, other)) = bound.iter().find(|(_, other)| collide(address, *other))
        {
            let violation = SemanticViolation::ListenerCollision {
                address: address.to_string(),
                other: other.to_string(),
                other_pointer: format!("/listeners/{other_index}"),
            };
            findings.add(pointer, violation);
        }
        bound.push((index, address));
    }

    check_single_status(listeners, findings);
}

/// Returns whether binding both addresses fails: the same address and port,
/// or a wildcard and a specific address of the same family on one port.
///
/// The IPv4 and IPv6 wildcards do not collide, because the reconciler binds
/// IPv6 sockets with `IPV6_V6ONLY`. Port 0 never collides, because the
/// system picks a free port for each such socket.
fn collide(a: SocketAddr, b: SocketAddr) -> bool {
    if a.port() == 0 || a.port() != b.port() || a.is_ipv4() != b.is_ipv4() {
        return false;
    }
    a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified()
}

fn check_single_status(listeners: &[Listener], findings: &mut Findings) {
    let mut status = listeners
        .iter()
        .enumerate()
        .filter(|(_, listener)| listener.role == ListenerRole::Status)
        .map(|(index, _)| index);

    let Some(first) = status.next() else {
        return;
    };
    for index in status {
        let violation = SemanticViolation::DuplicateStatusListener {
            first: format!("/listeners/{first}"),
        };
        findings.add(format!("/listeners/{index}/role"), violation);
    }
}

#[cfg(test)]
mod tests {
    use super::collide;

    fn addr(text: &str) -> std::net::SocketAddr {
        text.parse().expect("test address parses")
    }

    #[test]
    fn same_address_and_port_collide() {
        assert!(collide(addr("127.0.0.1:25"), addr("127.0.0.1:25")));
        assert!(collide(addr("[::1]:25"), addr("[::1]:25")));
    }

    #[test]
    fn wildcard_collides_with_specific_address_of_its_family() {
        assert!(collide(addr("0.0.0.0:25"), addr("192.0.2.1:25")));
        assert!(collide(addr("[2001:db8::1]:25"), addr("[::]:25")));
    }

    #[test]
    fn ipv4_and_ipv6_wildcards_coexist() {
        assert!(!collide(addr("0.0.0.0:25"), addr("[::]:25")));
        assert!(!collide(addr("[::]:25"), addr("127.0.0.1:25")));
    }

    #[test]
    fn different_ports_and_port_zero_coexist() {
        assert!(!collide(addr("127.0.0.1:25"), addr("127.0.0.1:587")));
        assert!(!collide(addr("127.0.0.1:0"), addr("127.0.0.1:0")));
    }
}

"""Renewal against pebble: a session opened before it keeps working, the next handshake gets the
new certificate, and the listening sockets stay the same."""

import pytest

from peers import acme_mailhost, procs
from peers.acme_mailhost import AcmeMailroom
from peers.lab import ALICE, MAIL_HOSTNAME

# Longer than any certificate pebble issues, so a fresh certificate is already due.
RENEW_ALWAYS_DAYS = 36500


@pytest.fixture
def renewing_mailhost(lab, test_folder, alice_password):
    spec = acme_mailhost.acme_spec(lab, test_folder / "mailroom", alice_password)
    server = AcmeMailroom(lab["mailhost"], test_folder / "mailroom", spec)
    yield server
    server.stop()


def current_serial(server):
    certificate = server.certificate() or {}
    return acme_mailhost.normalized_serial(certificate.get("observed", {}).get("serial"))


def test_renewal_keeps_sessions_and_sockets(lab, test_folder, renewing_mailhost, alice_password):
    server = renewing_mailhost.start_issued()
    mailhost, client = lab["mailhost"], lab["client"]
    first_serial = current_serial(server)
    inodes_before = {port: acme_mailhost.listening_inodes(mailhost, port) for port in (25, 993, 80)}
    hold, hold_out, resume = acme_mailhost.start_imap_hold(
        client, test_folder / "imap", MAIL_HOSTNAME, ALICE, alice_password, lab.pebble.root_file
    )
    procs.wait_for(lambda: acme_mailhost.read_json(hold_out), "the IMAP session to log in")

    renewing = dict(server.spec, tls={**server.spec["tls"], "renew_before_days": RENEW_ALWAYS_DAYS})
    server.write_spec(renewing)
    new_serial = procs.wait_for(
        lambda: (serial := current_serial(server)) != first_serial and serial,
        "the renewed certificate in /status", deadline=acme_mailhost.ISSUE_DEADLINE,
    )
    served = procs.wait_for(
        lambda: (chain := acme_mailhost.served_chain(client, mailhost.address, 993, lab.pebble.root_file))[1]
        and acme_mailhost.normalized_serial(chain[1]) == new_serial and chain,
        "port 993 to present the renewed certificate",
    )
    resume.write_text("go\n")
    hold.popen.wait(60)
    session_result = acme_mailhost.read_json(hold_out)
    inodes_after = {port: acme_mailhost.listening_inodes(mailhost, port) for port in (25, 993, 80)}
    starttls_verified, starttls_serial = acme_mailhost.served_chain(
        client, mailhost.address, 25, lab.pebble.root_file, "smtp"
    )

    assert acme_mailhost.normalized_serial(session_result["serial"]) == first_serial
    assert session_result["noop"] == "OK", f"NOOP on the session opened before renewal: {session_result}"
    assert session_result["select"] == "OK", f"SELECT on the session opened before renewal: {session_result}"
    assert served[0], "the renewed chain on 993 does not verify against pebble's root"
    assert starttls_verified, "the renewed chain on 25 does not verify against pebble's root"
    assert acme_mailhost.normalized_serial(starttls_serial) == new_serial
    assert inodes_after == inodes_before
    assert all(inodes_before.values()), f"a port had no listening socket: {inodes_before}"

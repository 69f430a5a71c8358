"""Internet to inbox: Postfix finds our MX in Knot, delivers over verified STARTTLS, clients fetch it."""

import pytest

from peers.lab import ALICE
from peers import clients, messages

SENDER = "sender@example.net"


@pytest.fixture
def delivered(lab, mailhost, test_folder):
    """A message handed to Postfix in `internet` for alice, once Postfix logs it as sent."""
    message, message_id = messages.write_message(test_folder, SENDER, ALICE, subject="internet to inbox")
    queue_id = lab.postfix.submit(message, SENDER, ALICE)
    lab.postfix.wait_delivered(queue_id)
    return message.read_bytes(), message_id, queue_id


def find_message(raw_messages, message_id):
    found = [raw for raw in raw_messages if messages.message_id_of(raw) == message_id]
    assert len(found) == 1, f"expected one message with Message-ID {message_id}, found {len(found)}"
    return found[0]


def test_postfix_delivers_to_mx_from_knot(lab, delivered):
    _, _, queue_id = delivered

    log = lab.postfix.log_lines(queue_id)

    assert any(f"relay=mail.example.test[{lab['mailhost'].address}]:25" in line for line in log), log


def test_postfix_verifies_starttls_certificate(lab, delivered):
    _, _, queue_id = delivered

    log = lab.postfix.log()

    assert f"Verified TLS connection established to mail.example.test[{lab['mailhost'].address}]:25" in log


def test_mbsync_fetches_message_unchanged(lab, delivered, test_folder, alice_password):
    original, message_id, _ = delivered

    inbox = clients.mbsync(lab["client"], test_folder / "mbsync", "mail.example.test", ALICE, alice_password, lab.ca.ca_file)

    fetched = messages.strip_mbsync_tuid(find_message(clients.maildir_messages(inbox), message_id))
    added = messages.prepended_fields(original, fetched)
    assert added is not None, f"mbsync copy does not end with the message sent:\n{fetched[:2000]!r}"
    assert set(added) <= messages.TRACE_FIELDS, f"fields added besides trace fields: {added}"
    assert "received" in added


def test_imaplib_fetches_message_byte_identical(lab, delivered, test_folder, alice_password):
    original, message_id, _ = delivered

    dump = clients.imap_dump(lab["client"], test_folder, "mail.example.test", ALICE, alice_password, lab.ca.ca_file)

    fetched = find_message([m["body"] for m in dump["messages"]], message_id)
    assert fetched.endswith(original), "IMAP body differs from the message sent beyond the prepended fields"
    assert set(messages.prepended_fields(original, fetched)) <= messages.TRACE_FIELDS


def test_offlineimap_fetches_message_unchanged(lab, delivered, test_folder, alice_password):
    original, message_id, _ = delivered

    inbox = clients.offlineimap(
        lab["client"], test_folder / "offlineimap", "mail.example.test", ALICE, alice_password, lab.ca.ca_file
    )

    fetched = find_message(clients.maildir_messages(inbox), message_id)
    added = messages.prepended_fields(original, fetched)
    assert added is not None, f"offlineimap copy does not end with the message sent:\n{fetched[:2000]!r}"
    assert set(added) <= messages.TRACE_FIELDS, f"fields added besides trace fields: {added}"

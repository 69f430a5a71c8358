"""Restart keeps mail: SIGTERM during a stream of messages loses nothing acknowledged and keeps UIDs."""

from peers.lab import ALICE
from peers import clients, procs

SENDER = "sender@example.net"
STREAM_LENGTH = 100
ACKS_BEFORE_STOP = 10

# Seconds a stream may take in all; it only bounds a hang.
STREAM_DEADLINE = 240


def run_stream(lab, test_folder, tag, count):
    return clients.start_smtp_stream(
        lab["internet"], test_folder, "mail.example.test", lab.ca.ca_file,
        "relay.example.net", SENDER, ALICE, count, tag,
    )


def wait_stream(process):
    process.popen.wait(STREAM_DEADLINE)
    assert process.popen.returncode == 0, f"stream failed:\n{process.tail()}"


def uids_by_message_id(dump):
    return {message["message_id"]: message["uid"] for message in dump["messages"]}


def test_sigterm_during_stream_loses_no_acknowledged_mail(lab, mailhost, test_folder, alice_password):
    def fetch():
        return clients.imap_dump(lab["client"], test_folder, "mail.example.test", ALICE, alice_password, lab.ca.ca_file)

    earlier, earlier_acks = run_stream(lab, test_folder, "earlier", 5)
    wait_stream(earlier)
    before = fetch()

    stream, stream_acks = run_stream(lab, test_folder, "during", STREAM_LENGTH)
    try:
        procs.wait_for(
            lambda: len(clients.read_acks(stream_acks)) >= ACKS_BEFORE_STOP,
            f"{ACKS_BEFORE_STOP} acknowledged messages",
            deadline=STREAM_DEADLINE,
        )
        exit_status = mailhost.stop()
        acked_at_stop = len(clients.read_acks(stream_acks))
        mailhost.start()
        wait_stream(stream)
    finally:
        stream.stop()
    after = fetch()

    acknowledged = clients.read_acks(earlier_acks) + clients.read_acks(stream_acks)
    stored = uids_by_message_id(after)
    assert exit_status == 0, f"mailroom exited with status {exit_status} on SIGTERM:\n{mailhost.log()}"
    assert acked_at_stop < STREAM_LENGTH, "the stream ended before the restart"
    assert [m for m in acknowledged if m not in stored] == []
    assert after["uidvalidity"] == before["uidvalidity"]
    assert {m: stored.get(m) for m in uids_by_message_id(before)} == uids_by_message_id(before)

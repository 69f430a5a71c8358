"""Outbound relay through the SES stand-in: delivery, deferral, bounces, a
killed queue daemon, the derived credential and its probe.

Each test puts its message into the spool with the queue's own enqueue
(`crates/queue/examples/enqueue.rs`), the call the submission role makes, so
that the relay side is tested apart from submission; the path through
submission is `test_submission_ses.py`.
"""

import itertools
import json
import os
import secrets
import signal

import pytest

from peers import mailroom, outbound, procs
from peers.lab import ALICE
from peers.ses import SesStandIn

CAROL = "carol@example.net"
REGION = "us-east-1"
KEY_ID = "AKIALABTESTUSER01"
PORTS = itertools.count(2601)

# Seconds a queued message may take to reach the stand-in; it only bounds a
# hang (the queue daemon looks at the spool every 5 s).
DELIVERY_DEADLINE = 60


def message(subject):
    return (
        f"From: {ALICE}\r\nTo: {CAROL}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{secrets.token_hex(8)}@example.test>\r\n\r\nHello Carol.\r\n"
    ).encode()


class Relay:
    """A mailroom relaying through its own SES stand-in, with the secret in a file."""

    def __init__(self, lab, folder):
        self.lab = lab
        self.folder = folder
        self.secret_file = folder / "ses-secret"
        self.set_secret(secrets.token_urlsafe(30))
        self.ses = SesStandIn(lab["remote"], folder / "ses", lab.ca, port=next(PORTS), user=KEY_ID)
        self.ses.password = outbound.ses_smtp_password(self.secret, REGION)
        self.server = lab.mailroom(folder / "mailroom", {ALICE: secrets.token_urlsafe(12)})
        self.server.spec["relay"] = {
            "mode": "ses",
            "region": REGION,
            "access_key_id": KEY_ID,
            "secret_access_key_file": str(self.secret_file),
            "endpoint": f"{self.ses.hostname}:{self.ses.port}",
            "ca_file": str(lab.ca.ca_file),
        }
        self.state = folder / "mailroom" / "state"

    def set_secret(self, secret):
        self.secret = secret
        self.secret_file.write_text(secret + "\n")
        self.secret_file.chmod(0o600)

    def enqueue(self, subject):
        return outbound.enqueue(self.state / "queue", ALICE, [CAROL], message(subject))

    def queue_ids(self):
        active = self.state / "queue" / "active"
        return sorted(p.stem for p in active.glob("*.json")) if active.exists() else []

    def resource(self, kind):
        status = self.server.status() or {}
        return next((r for r in status.get("resources", []) if r["kind"] == kind), None)

    def wait_delivered(self, count):
        procs.wait_for(lambda: len(self.ses.messages()) >= count and not self.queue_ids(),
                       f"{count} messages at the stand-in and an empty queue", deadline=DELIVERY_DEADLINE)

    def queue_cli(self, *args):
        return procs.run([mailroom.binary(), "queue", "--spec", self.server.spec_file, *args])


@pytest.fixture
def relay(lab, test_folder):
    relay = Relay(lab, test_folder)
    relay.ses.start()
    try:
        yield relay
    finally:
        relay.server.stop()
        relay.ses.stop()


def test_queued_message_reaches_stand_in_once(relay):
    relay.server.start()

    relay.enqueue("once")
    relay.wait_delivered(1)

    stored = relay.ses.messages()
    assert len(stored) == 1
    assert stored[0][0]["mail_from"] == ALICE
    assert stored[0][0]["rcpt_tos"] == [CAROL]
    assert stored[0][0]["auth_login"] == KEY_ID


def test_stopped_stand_in_defers_then_delivers_once(relay):
    relay.server.start()
    relay.ses.stop()

    queue_id = relay.enqueue("deferred")
    entry = procs.wait_for(
        lambda: next((e for e in (relay.resource("queue") or {}).get("observed", {}).get("entries", [])
                      if e["attempts"] >= 1), None),
        "a deferral in /status", deadline=DELIVERY_DEADLINE,
    )
    listing = relay.queue_cli().stdout
    relay.ses.start()
    relay.queue_cli("retry", queue_id)
    relay.wait_delivered(1)

    assert entry["id"] == queue_id
    assert entry["next_attempt"] is not None
    assert "connecting to" in entry["last_error"]
    assert queue_id in listing
    assert len(relay.ses.messages()) == 1


def test_data_rejection_puts_dsn_in_sender_inbox(relay):
    relay.ses.control(data_reply="554 Transaction failed: Message rejected by the lab")
    relay.server.start()

    relay.enqueue("rejected")
    bounces = procs.wait_for(lambda: outbound.maildir_messages(relay.state / "mail"),
                             "a DSN in alice's INBOX", deadline=DELIVERY_DEADLINE)

    dsn = bounces[0].decode()
    assert len(bounces) == 1
    assert "report-type=delivery-status" in dsn
    assert f"Final-Recipient: rfc822; {CAROL}" in dsn
    assert "554 Transaction failed: Message rejected by the lab" in dsn
    assert relay.queue_ids() == []


def test_killed_queue_daemon_relays_after_restart_once(relay):
    relay.server.start()
    daemon = procs.wait_for(lambda: next((r for r in relay.server.status()["resources"]
                                          if r["kind"] == "daemon" and r["name"] == "queued" and r["observed"].get("pid")), None),
                            "the queue daemon's pid in /status")

    relay.enqueue("survives kill -9")
    os.kill(daemon["observed"]["pid"], signal.SIGKILL)
    relay.wait_delivered(1)

    restarted = procs.wait_for(lambda: next((r for r in relay.server.status()["resources"]
                                             if r["kind"] == "daemon" and r["name"] == "queued" and r["observed"].get("restarts")), None),
                               "the queue daemon's restart in /status")
    assert restarted["observed"]["restarts"] >= 1
    assert len(relay.ses.messages()) == 1


def test_changed_secret_changes_relayed_password(relay):
    relay.server.start()
    relay.enqueue("first")
    relay.wait_delivered(1)

    relay.set_secret(secrets.token_urlsafe(30))
    new_password = outbound.ses_smtp_password(relay.secret, REGION)
    relay.ses.set_password(new_password)
    password_file = relay.state / "relay" / "ses-smtp-password"
    procs.wait_for(lambda: password_file.read_text() == new_password, "the new password in the state dir",
                   deadline=DELIVERY_DEADLINE)
    relay.enqueue("second")
    relay.wait_delivered(2)

    stored = relay.ses.messages()
    assert stored[0][0]["auth_password_sha256"] != stored[1][0]["auth_password_sha256"]
    assert stored[1][0]["auth_password_sha256"] == outbound.sha256_hex(new_password)
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"


def test_wrong_secret_fails_probe(relay):
    relay.set_secret("not-the-secret-the-stand-in-expects")
    relay.server.start(converged=False)

    resource = procs.wait_for(
        lambda: (r := relay.resource("relay")) and "last_probe_result" in r["observed"] and r,
        "a probe result in /status", deadline=DELIVERY_DEADLINE,
    )
    status = relay.server.status()

    assert resource["ready"] is False
    assert resource["observed"]["last_probe_result"].startswith("failed")
    assert resource["observed"]["key_id"] == KEY_ID
    assert resource["observed"]["region"] == REGION
    assert relay.secret not in json.dumps(status)
    assert status["converged"] is False


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"])
def test_ses_password_matches_independent_derivation(region):
    secret = secrets.token_urlsafe(30)

    result = procs.run([mailroom.binary(), "ses-smtp-password", "--region", region], input=secret)

    assert result.stdout.strip() == outbound.ses_smtp_password(secret, region)


def test_ses_password_matches_documented_vector():
    result = procs.run([mailroom.binary(), "ses-smtp-password", "--region", "us-east-1"],
                       input="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")

    assert result.stdout.strip() == "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"

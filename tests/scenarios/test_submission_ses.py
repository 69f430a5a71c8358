"""Submission to the SES stand-in. swaks and neomutt submit on 587 (STARTTLS)
and 465 (implicit TLS) with AUTH, and the stand-in receives each message
once. The message has exactly one DKIM-Signature, which dkimpy verifies
against the key published in the lab's Knot, and `Message-ID` is not a
signed header. A `kill -9` of smtpd right after its 250 loses nothing."""

import itertools
import os
import re
import secrets
import signal
from pathlib import Path

import pytest

from peers import clients, outbound, procs
from peers.lab import ALICE
from peers.ses import SesStandIn

CAROL = "carol@example.net"
REGION = "us-east-1"
KEY_ID = "AKIALABSUBMISSION1"
PORTS = itertools.count(2651)

# Seconds a submitted message may take to reach the stand-in; it only bounds
# a hang (the queue daemon looks at the spool every 5 s).
DELIVERY_DEADLINE = 60


class SubmissionHost:
    """A mailroom with submission listeners, relaying through its own SES stand-in."""

    def __init__(self, lab, folder):
        self.lab = lab
        self.password = clients.random_password(12)
        secret = secrets.token_urlsafe(30)
        secret_file = folder / "ses-secret"
        secret_file.write_text(secret + "\n")
        secret_file.chmod(0o600)
        self.ses = SesStandIn(lab["remote"], folder / "ses", lab.ca, port=next(PORTS), user=KEY_ID)
        self.ses.password = outbound.ses_smtp_password(secret, REGION)
        self.server = lab.mailroom(folder / "mailroom", {ALICE: self.password})
        address = lab["mailhost"].address
        self.server.spec["listeners"] += [
            {"role": "submission", "address": f"{address}:587"},
            {"role": "submissions", "address": f"{address}:465"},
        ]
        self.server.spec["relay"] = {
            "mode": "ses",
            "region": REGION,
            "access_key_id": KEY_ID,
            "secret_access_key_file": str(secret_file),
            "endpoint": f"{self.ses.hostname}:{self.ses.port}",
            "ca_file": str(lab.ca.ca_file),
        }

    def publish_dkim_key(self):
        """Publishes the TXT record that /status shows for the key in the example.test zone in Knot."""
        resource = next(r for r in self.server.status()["resources"] if r["kind"] == "dkim-key")
        name, record = resource["observed"]["dns_name"], resource["observed"]["dns_txt"]
        # A TXT character-string is at most 255 bytes long (RFC 1035), so the key is split.
        strings = " ".join(f'"{record[i:i + 250]}"' for i in range(0, len(record), 250))
        # Each test's mailroom makes a new key under the same date-based
        # selector, so the record of an earlier test is replaced, not added to.
        self.lab.knot.update("example.test", [f"del {name}. TXT", f"add {name}. 60 TXT {strings}"])

    def submit(self, folder, port, message, extra=()):
        message_file = folder / f"submitted-{port}.eml"
        message_file.write_bytes(message)
        return clients.swaks(
            self.lab["client"], self.lab["mailhost"].address, port, ALICE, CAROL,
            data=message_file, tls=False, ca_file=str(self.lab.ca.ca_file),
            auth=("PLAIN", ALICE, self.password), extra=extra,
        )

    def wait_relayed(self, count):
        return procs.wait_for(lambda: len(self.ses.messages()) >= count and self.ses.messages(),
                              f"{count} messages at the stand-in", deadline=DELIVERY_DEADLINE)


@pytest.fixture
def host(lab, test_folder):
    host = SubmissionHost(lab, test_folder)
    host.ses.start()
    try:
        host.server.start()
        host.publish_dkim_key()
        yield host
    finally:
        host.server.stop()
        host.ses.stop()


def message(subject, client_signature=False):
    text = f"From: Alice <{ALICE}>\r\nTo: <{CAROL}>\r\nSubject: {subject}\r\n\r\nHello Carol.\r\n"
    if client_signature:
        text = "DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=client; h=from;\r\n\tbh=AAAA; b=AAAA\r\n" + text
    return text.encode()


def signatures(stored):
    headers = stored.split(b"\r\n\r\n", 1)[0].decode()
    return re.findall(r"^DKIM-Signature:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*", headers, re.MULTILINE | re.IGNORECASE)


def signed_headers(signature):
    unfolded = re.sub(r"\s+", "", signature)
    return [name.lower() for name in re.search(r";h=([^;]+)", unfolded).group(1).split(":")]


def verify_in_lab(lab, folder, stored):
    signed = folder / "relayed.eml"
    signed.write_bytes(stored)
    return clients.dkim_verify(lab["client"], signed)


def test_starttls_submission_reaches_ses_signed_once(host, lab, test_folder):
    result = host.submit(test_folder, 587, message("starttls"), extra=["--tls"])

    assert result.returncode == 0, result.stdout + result.stderr
    [(envelope, stored)] = host.wait_relayed(1)
    found = signatures(stored)
    assert envelope["auth_login"] == KEY_ID
    assert len(found) == 1, found
    assert "message-id" not in signed_headers(found[0])
    verdict = verify_in_lab(lab, test_folder, stored)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_implicit_tls_submission_reaches_ses(host, lab, test_folder):
    result = host.submit(test_folder, 465, message("implicit"), extra=["--tls-on-connect"])

    assert result.returncode == 0, result.stdout + result.stderr
    [(_envelope, stored)] = host.wait_relayed(1)
    verdict = verify_in_lab(lab, test_folder, stored)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_client_signature_does_not_cause_554(host, lab, test_folder):
    result = host.submit(test_folder, 587, message("client-signed", client_signature=True), extra=["--tls"])

    assert result.returncode == 0, result.stdout + result.stderr
    [(_envelope, stored)] = host.wait_relayed(1)
    found = signatures(stored)
    assert len(found) == 1, found
    assert "s=client" not in found[0]
    verdict = verify_in_lab(lab, test_folder, stored)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


@pytest.mark.parametrize("url", ["smtp://mail.example.test:587/", "smtps://mail.example.test:465/"],
                         ids=["starttls-587", "implicit-tls-465"])
def test_neomutt_submission_reaches_ses_signed_once(host, lab, test_folder, url):
    result = clients.neomutt(lab["client"], test_folder / "neomutt", url, ALICE, host.password, ALICE, CAROL,
                             subject="sent by neomutt", body="Hello Carol, from neomutt.\n", ca_file=lab.ca.ca_file)

    assert result.returncode == 0, result.stdout + result.stderr
    [(envelope, stored)] = host.wait_relayed(1)
    found = signatures(stored)
    assert envelope["rcpt_tos"] == [CAROL]
    assert b"Hello Carol, from neomutt." in stored
    assert len(found) == 1, found
    assert "message-id" not in signed_headers(found[0])
    verdict = verify_in_lab(lab, test_folder, stored)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def daemon_status(host, name):
    return next(r for r in host.server.status()["resources"] if r["kind"] == "daemon" and r["name"] == name)


def test_kill_9_of_smtpd_after_250_relays_once(host, lab, test_folder):
    pid = daemon_status(host, "smtpd")["observed"]["pid"]

    result = host.submit(test_folder, 587, message("survives kill -9 of smtpd"), extra=["--tls"])
    os.kill(pid, signal.SIGKILL)

    assert result.returncode == 0, result.stdout + result.stderr
    [(_envelope, stored)] = host.wait_relayed(1)
    assert b"survives kill -9 of smtpd" in stored
    active = Path(host.server.spec["state_dir"]) / "queue" / "active"
    procs.wait_for(lambda: not any(active.iterdir()), "the queue to be empty after the relay")
    assert len(host.ses.messages()) == 1
    restarted = procs.wait_for(lambda: daemon_status(host, "smtpd")["observed"]["restarts"] >= 1
                               and daemon_status(host, "smtpd"), "smtpd's restart in /status")
    assert restarted["observed"]["pid"] != pid

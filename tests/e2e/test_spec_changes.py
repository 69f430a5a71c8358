"""Spec changes while running: a new account receives mail without a
restart; an invalid spec is reported and the applied one keeps serving."""

import json
import smtplib
import subprocess

from mailhost import MAILROOM_BIN, MX, wait_for


def hash_password(password):
    result = subprocess.run([MAILROOM_BIN, "hash-password"], input=password, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def rcpt_reply(address):
    with smtplib.SMTP(*MX, timeout=10) as client:
        client.ehlo("client.example.net")
        client.mail("sender@example.net")
        return client.rcpt(address)


def test_added_account_receives_mail_without_restart(dev_host):
    pid = dev_host.process.pid
    assert rcpt_reply("carol@example.test")[0] == 550
    spec = json.loads(dev_host.spec_path.read_text())
    spec["accounts"].append({"address": "carol@example.test", "password_hash": hash_password("carol-pw")})

    dev_host.write_spec(spec)

    wait_for(lambda: rcpt_reply("carol@example.test")[0] == 250, 10, "carol to be accepted")
    with smtplib.SMTP(*MX, timeout=10) as client:
        client.sendmail("sender@example.net", ["carol@example.test"], "Subject: welcome\r\n\r\nhi carol\r\n")
    assert len(dev_host.messages("carol@example.test")) == 1
    assert dev_host.process.pid == pid
    assert dev_host.process.poll() is None


def test_invalid_spec_keeps_old_one_serving(dev_host):
    revision = dev_host.status()["revision"]
    spec = json.loads(dev_host.spec_path.read_text())
    spec["aliases"].append({"address": "ghost@example.test", "targets": ["nobody@example.test"]})

    dev_host.write_spec(spec)

    entry = wait_for(lambda: (r := dev_host.resource("spec", str(dev_host.spec_path)))["reason"] == "InvalidSpec" and r,
                     10, "/status to report the invalid spec")
    assert entry["ready"] is False
    assert "/aliases/1/targets/0" in entry["message"]
    assert "nobody@example.test" in entry["message"]
    status = dev_host.status()
    assert status["converged"] is False
    assert status["revision"] == revision
    assert rcpt_reply("alice@example.test")[0] == 250

    dev_host.write_spec(spec | {"aliases": spec["aliases"][:-1]})
    wait_for(lambda: dev_host.status()["converged"], 10, "convergence after the fix")


def test_garbage_spec_is_reported_not_fatal(dev_host):
    dev_host.write_spec("{ not json")

    entry = wait_for(lambda: (r := dev_host.resource("spec", str(dev_host.spec_path)))["reason"] == "InvalidSpec" and r,
                     10, "/status to report the unparsable spec")
    assert "line 1" in entry["message"]
    assert dev_host.process.poll() is None
    assert rcpt_reply("bob@example.test")[0] == 250

"""The reconciler's status endpoint, CLI, systemd notifications and shutdown."""

import os
import re
import signal
import smtplib
import socket
import subprocess
import urllib.error
import urllib.request

from mailhost import MAILROOM_BIN, MX, STATUS, MailHost, wait_for

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_status_document_lists_every_resource(dev_host):
    status = dev_host.status()

    assert status["converged"] is True
    assert status["revision"]["content_hash"].startswith("sha256:")
    kinds = {(r["kind"], r["name"]) for r in status["resources"]}
    assert ("certificate", "mail.example.test") in kinds
    assert ("daemon", "smtpd") in kinds
    assert ("daemon", "imapd") in kinds
    assert ("listener", "mx 127.0.0.1:2525") in kinds
    for resource in status["resources"]:
        assert set(resource) >= {"kind", "name", "ready", "reason", "message", "since", "observed"}
        assert RFC3339.match(resource["since"]), resource
    assert dev_host.resource("certificate", "mail.example.test")["observed"]["not_after"]
    smtpd = dev_host.resource("daemon", "smtpd")["observed"]
    assert smtpd["pid"] > 0
    assert smtpd["restarts"] == 0
    assert smtpd["auth_failure_delay_seconds"] == 1
    assert smtpd["auth_failure_burst"] == 10
    assert smtpd["auth_lockout_seconds"] == 900


def test_healthz_and_metrics(dev_host):
    with urllib.request.urlopen(STATUS + "/healthz", timeout=5) as response:
        assert response.status == 200
    with urllib.request.urlopen(STATUS + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert "mailroom_converged 1" in metrics
    assert 'mailroom_daemon_restarts_total{daemon="smtpd"} 0' in metrics


def test_healthz_fails_when_not_converged(dev_host):
    dev_host.write_spec("{}")
    wait_for(lambda: not dev_host.status()["converged"], 10, "the host to be not converged")
    try:
        urllib.request.urlopen(STATUS + "/healthz", timeout=5)
        raise AssertionError("/healthz answered 200 while not converged")
    except urllib.error.HTTPError as error:
        assert error.code == 503


def test_status_command_prints_table_and_json(dev_host):
    table = subprocess.run([MAILROOM_BIN, "status", "--spec", str(dev_host.spec_path)],
                           capture_output=True, text=True, timeout=20)
    assert table.returncode == 0, table.stderr
    assert "converged true" in table.stdout
    assert re.search(r"daemon\s+smtpd\s+true\s+Running", table.stdout), table.stdout

    raw = subprocess.run([MAILROOM_BIN, "status", "--json"], capture_output=True, text=True, timeout=20)
    assert raw.returncode == 0, raw.stderr
    assert '"converged": true' in raw.stdout


def test_status_command_without_agent_says_so(tmp_path):
    result = subprocess.run([MAILROOM_BIN, "status", "--url", "http://127.0.0.1:9/status"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert "is `mailroom run` active?" in result.stderr


def test_notifies_systemd_and_stops_on_sigterm(tmp_path):
    notify_path = tmp_path / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify.settimeout(30)
    host = MailHost(tmp_path, env={"NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "200000"})
    try:
        host.start()
        messages = []
        for _ in range(100):
            if any(b"READY=1" in m for m in messages) and any(b"WATCHDOG=1" in m for m in messages):
                break
            messages.append(notify.recv(4096))
        assert any(b"READY=1" in m for m in messages), messages
        assert any(b"WATCHDOG=1" in m for m in messages), messages
        assert any(b"STATUS=" in m for m in messages)
        child_pids = [r["observed"]["pid"] for r in host.status()["resources"] if r["kind"] == "daemon"]
    finally:
        exit_code = host.stop()
        notify.close()

    assert exit_code == 0, host.log_tail()
    for pid in child_pids:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert not (host.state_dir / "run" / "agent.pid").exists()


def test_sighup_reloads_without_closing_sockets(dev_host):
    pids = {r["name"]: r["observed"]["pid"] for r in dev_host.status()["resources"] if r["kind"] == "daemon"}
    in_flight = smtplib.SMTP(*MX, timeout=10)
    in_flight.ehlo("before.example.net")

    os.kill(dev_host.process.pid, signal.SIGHUP)
    wait_for(lambda: dev_host.log_path.read_text().count("configuration reloaded") >= 2, 10,
             "both daemons to log the reload")

    in_flight.sendmail("sender@example.net", ["bob@example.test"], "Subject: in flight\r\n\r\nstarted before SIGHUP\r\n")
    in_flight.quit()
    with smtplib.SMTP(*MX, timeout=10) as after:
        after.sendmail("sender@example.net", ["bob@example.test"], "Subject: after\r\n\r\nstarted after SIGHUP\r\n")
    assert len(dev_host.messages("bob@example.test")) == 2
    now = {r["name"]: r["observed"]["pid"] for r in dev_host.status()["resources"] if r["kind"] == "daemon"}
    assert now == pids


def test_revision_names_git_commit(tmp_path):
    host = MailHost(tmp_path)
    git = lambda *args: subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, text=True)
    git("init", "-q")
    git("add", "dev.json")
    git("-c", "user.name=test", "-c", "user.email=test@example.test", "commit", "-q", "-m", "spec")
    head = git("rev-parse", "HEAD").stdout.strip()
    try:
        host.start()
        revision = host.status()["revision"]
    finally:
        host.stop()

    assert revision["git_commit"] == head
    assert revision["content_hash"].startswith("sha256:")

"""Start and drive a `mailroom run` on loopback for end-to-end tests."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAILROOM_BIN = os.environ.get("MAILROOM_BIN", "/var/tmp/mailroom-target/debug/mailroom")
DEV_SPEC = REPO / "examples" / "dev.json"

MX = ("127.0.0.1", 2525)
IMAP = ("127.0.0.1", 2143)
IMAPS = ("127.0.0.1", 2993)
STATUS = "http://127.0.0.1:8787"
PASSWORDS = {"alice@example.test": "alice-dev-password", "bob@example.test": "bob-dev-password"}


def wait_for(predicate, timeout, what):
    """Polls `predicate` until it returns a true value; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # the condition is not reachable yet
            last_error = error
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")


class MailHost:
    """A `mailroom run` of a copy of examples/dev.json in its own folder."""

    def __init__(self, workdir: Path, env=None):
        self.workdir = workdir
        self.spec_path = workdir / "dev.json"
        self.log_path = workdir / "mailroom.log"
        self.env = dict(os.environ, RUST_LOG="info", **(env or {}))
        self.process = None
        shutil.copy(DEV_SPEC, self.spec_path)

    @property
    def state_dir(self) -> Path:
        return self.workdir / "dev-state"

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "certs" / "mail.example.test" / "fullchain.pem"

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [MAILROOM_BIN, "run", str(self.spec_path)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_for(self._converged_or_dead, 30, "mailroom to converge")
        return self

    def _converged_or_dead(self):
        if self.process.poll() is not None:
            raise AssertionError(f"mailroom exited with {self.process.returncode}:\n{self.log_tail()}")
        return self.status()["converged"]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def status(self):
        with urllib.request.urlopen(STATUS + "/status", timeout=5) as response:
            return json.load(response)

    def resource(self, kind, name):
        for resource in self.status()["resources"]:
            if resource["kind"] == kind and resource["name"] == name:
                return resource
        raise AssertionError(f"no {kind} {name} in /status")

    def maildir(self, account):
        local, domain = account.split("@")
        return self.state_dir / "mail" / domain / local

    def messages(self, account):
        """Returns the bytes of every message in the account's INBOX."""
        maildir = self.maildir(account)
        files = [p for sub in ("new", "cur") if (maildir / sub).is_dir() for p in (maildir / sub).iterdir()]
        return [p.read_bytes() for p in sorted(files)]

    def write_spec(self, spec):
        """Replaces the spec file the way editors do: write aside, rename over."""
        temporary = self.spec_path.with_suffix(".tmp")
        temporary.write_text(spec if isinstance(spec, str) else json.dumps(spec, indent=2))
        os.replace(temporary, self.spec_path)

    def log_tail(self, lines=60):
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def smtp_greeting(address, timeout=5):
    with socket.create_connection(address, timeout=timeout) as connection:
        return connection.makefile("rb").readline()


def strip_first_received(message: bytes) -> bytes:
    """Removes the first header field if it is `Received:` (with folded lines)."""
    assert message.startswith(b"Received:"), message[:200]
    end = 0
    while True:
        end = message.index(b"\r\n", end) + 2
        if message[end:end + 1] not in (b" ", b"\t"):
            return message[end:]

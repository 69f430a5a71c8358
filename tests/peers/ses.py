"""Starts the SES stand-in (`tools/ses_server.py`) and reads what it stored."""

import json
from pathlib import Path

from . import clients, procs

SERVER_SCRIPT = Path(__file__).parent / "tools" / "ses_server.py"
DEBIAN_PYTHON = "/usr/bin/python3"


class SesStandIn:
    """An SES-like smarthost on `host`:`port`, with one user and a certificate from the lab CA."""

    def __init__(self, host, folder, ca, hostname="email-smtp.example.net", port=587, user="AKIALABTESTUSER"):
        self.host = host
        self.folder = Path(folder)
        self.ca = ca
        self.hostname = hostname
        self.port = port
        self.user = user
        self.password = clients.random_password(24)
        self.inbox = self.folder / "messages"
        self.password_file = self.folder / "password"
        self.control_file = self.folder / "control.json"
        self.process = None

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        cert, key = self.ca.issue("ses", [self.hostname], [self.host.address])
        self.set_password(self.password)
        argv = [
            DEBIAN_PYTHON, SERVER_SCRIPT,
            "--address", self.host.address,
            "--port", self.port,
            "--hostname", self.hostname,
            "--cert", cert,
            "--key", key,
            "--user", self.user,
            "--password-file", self.password_file,
            "--folder", self.inbox,
            "--control-file", self.control_file,
        ]
        self.process = self.host.start("ses stand-in", argv, self.folder / "ses.log")
        self.process.wait_ready(lambda: self.host.listening(self.port, self.host.address), f"listening on {self.port}")
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def set_password(self, password):
        """Make `password` the one accepted from now on; the stand-in reads it at every AUTH."""
        self.password = password
        self.password_file.write_text(password)
        self.password_file.chmod(0o600)

    def control(self, **instructions):
        """Set how the stand-in answers DATA: `data_reply="554 ..."`, `stall_seconds=N`, or nothing for normal."""
        self.control_file.write_text(json.dumps(instructions))

    def messages(self):
        """Return the stored messages in arrival order, each as (envelope dict, bytes)."""
        stored = []
        for eml in sorted(self.inbox.glob("*.eml")):
            envelope = json.loads(eml.with_suffix(".json").read_text())
            stored.append((envelope, eml.read_bytes()))
        return stored

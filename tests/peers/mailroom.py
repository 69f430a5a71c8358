"""The product under test: `mailroom run SPEC` as root inside the mailhost."""

import json
import os
from pathlib import Path

from . import procs

DEFAULT_BIN = "/var/tmp/mailroom-target/debug/mailroom"
BUILD_HINT = "CARGO_TARGET_DIR=/var/tmp/mailroom-target cargo build -p mailroom"
STATUS_PORT = 9925

# mailroom lets sessions finish for up to 30 s after SIGTERM before it exits.
STOP_GRACE = 40


def binary():
    """Return the mailroom binary from MAILROOM_BIN (default: the shared debug build)."""
    path = Path(os.environ.get("MAILROOM_BIN", DEFAULT_BIN))
    if not os.access(path, os.X_OK):
        raise AssertionError(f"mailroom binary {path} is missing or not executable: build it with `{BUILD_HINT}`")
    return path


def hash_password(password):
    """Return a SHA512-crypt (`$6$`) hash of `password`, made by `openssl passwd`."""
    return procs.run(["openssl", "passwd", "-6", "-stdin"], input=password).stdout.strip()


def host_spec(state_dir, hostname, address, cert_file, key_file, domains, accounts):
    """Build a version 1 host spec serving `domains` on `address` with ports 25, 143 and 993.

    `accounts` maps an address to its password hash. The status endpoint
    listens on the mailhost's own loopback.
    """
    return {
        "version": 1,
        "hostname": hostname,
        "state_dir": str(state_dir),
        "domains": [{"name": name} for name in domains],
        "accounts": [{"address": a, "password_hash": h} for a, h in accounts.items()],
        "listeners": [
            {"role": "mx", "address": f"{address}:25"},
            {"role": "imap", "address": f"{address}:143"},
            {"role": "imaps", "address": f"{address}:993"},
            {"role": "status", "address": f"127.0.0.1:{STATUS_PORT}"},
        ],
        "tls": {"mode": "files", "cert_file": str(cert_file), "key_file": str(key_file)},
        "relay": {"mode": "disabled"},
    }


class Mailroom:
    """One `mailroom run` in `host` with `spec`, its state under `folder`."""

    def __init__(self, host, folder, spec):
        self.host = host
        self.folder = Path(folder)
        self.spec = spec
        self.spec_file = self.folder / "spec.json"
        self.process = None
        self.last_status = None
        self.starts = 0

    def start(self, converged=True):
        """Start mailroom and wait until ports 25 and 993 listen and /status answers.

        With `converged`, also wait until /status reports every resource ready.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        self.spec_file.write_text(json.dumps(self.spec, indent=2))
        self.host.run([binary(), "check", self.spec_file])

        self.starts += 1
        log = self.folder / f"mailroom-{self.starts}.log"
        env = {"RUST_LOG": os.environ.get("RUST_LOG", "info")}
        self.process = self.host.start("mailroom", [binary(), "run", self.spec_file], log, env=env)
        ready = self._ready if converged else self._answering
        try:
            self.process.wait_ready(ready, "answering on /status with ports 25 and 993 bound")
        except procs.PeerStartError as error:
            raise procs.PeerStartError(f"{error}\nlast /status: {self.last_status}") from None
        return self

    def _ready(self):
        status = self.status()
        converged = bool(status) and status.get("converged") is True
        return converged and self.host.listening(25) and self.host.listening(993)

    def _answering(self):
        return bool(self.status()) and self.host.listening(25) and self.host.listening(993)

    def status(self):
        """Return the parsed `GET /status`, or None while the endpoint does not respond."""
        url = f"http://127.0.0.1:{STATUS_PORT}/status"
        result = self.host.run(["curl", "-sSf", "--max-time", "3", url], check=False)
        if result.returncode != 0:
            return None
        try:
            self.last_status = json.loads(result.stdout)
        except json.JSONDecodeError:
            self.last_status = result.stdout
            return None
        return self.last_status

    def stop(self):
        """Send SIGTERM and wait for mailroom to exit; return its exit status."""
        if self.process is None:
            return None
        return self.process.stop(grace=STOP_GRACE)

    def log(self):
        return self.process.tail(200) if self.process else ""

"""A mailroom that gets its certificate from the lab's pebble, and how to look at what it serves."""

import copy
import json
import re
from pathlib import Path

from . import mailroom, procs
from .lab import ALICE, MAIL_HOSTNAME

# `openssl x509 -serial` prints "serial=0A1B...".
SERIAL_LINE = re.compile(r"^serial=([0-9A-Fa-f]+)$", re.MULTILINE)

# Seconds allowed for pebble to validate and issue. pebble issued within 1 s
# in the lab with `PEBBLE_VA_NOSLEEP=1`; the bound turns a hang into a failure.
ISSUE_DEADLINE = 90.0


def acme_spec(lab, folder, password, **tls):
    """Return a host spec for the mailhost with `tls.mode` acme against the lab's pebble.

    The spec adds an `http` listener on port 80 for HTTP-01; `tls` overrides
    or adds fields of the `tls` section.
    """
    base = lab.mailroom(folder, {ALICE: password})
    spec = copy.deepcopy(base.spec)
    spec["listeners"].append({"role": "http", "address": f"{lab['mailhost'].address}:80"})
    spec["tls"] = {
        "mode": "acme",
        "directory": lab.pebble.directory_url,
        "contact": ["mailto:postmaster@example.test"],
        "challenge": "http-01",
        "ca_file": str(lab.pebble.ca_file),
        **tls,
    }
    return spec


class AcmeMailroom(mailroom.Mailroom):
    """A Mailroom whose start waits for a chosen condition instead of convergence."""

    def start_until(self, condition, what, deadline=ISSUE_DEADLINE):
        """Start mailroom and wait until `condition(self)` holds."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.spec_file.write_text(json.dumps(self.spec, indent=2))
        self.host.run([mailroom.binary(), "check", self.spec_file])
        self.starts += 1
        log = self.folder / f"mailroom-{self.starts}.log"
        self.process = self.host.start("mailroom", [mailroom.binary(), "run", self.spec_file], log, env={"RUST_LOG": "info"})
        try:
            self.process.wait_ready(lambda: condition(self), what, deadline=deadline)
        except procs.PeerStartError as error:
            raise procs.PeerStartError(f"{error}\nlast /status: {self.last_status}") from None
        return self

    def start_issued(self):
        """Start mailroom and wait until it reports converged with ports 25 and 80 bound."""
        return self.start_until(
            lambda s: s._ready() and s.host.listening(80), "issuing its certificate and converging"
        )

    def certificate(self):
        """Return the certificate resource from /status, or None."""
        status = self.status() or {}
        for resource in status.get("resources", []):
            if resource["kind"] == "certificate" and resource["name"] == MAIL_HOSTNAME:
                return resource
        return None

    def write_spec(self, spec):
        """Replace the spec file; a running mailroom applies it on its own."""
        self.spec = spec
        self.spec_file.write_text(json.dumps(spec, indent=2))


def served_chain(host, address, port, ca_file, starttls=None):
    """Return (verified, serial) of the certificate a TLS handshake with `address:port` presents.

    `verified` is openssl's verdict against `ca_file` for the name
    mail.example.test; `serial` is the leaf's serial number in upper-case hex.
    """
    argv = [
        "openssl", "s_client", "-connect", f"{address}:{port}", "-servername", MAIL_HOSTNAME,
        "-verify_hostname", MAIL_HOSTNAME, "-CAfile", ca_file, "-verify_return_error",
    ]
    if starttls:
        argv += ["-starttls", starttls]
    result = host.run(argv, check=False, input="", timeout=30)
    verified = result.returncode == 0 and "Verify return code: 0 (ok)" in result.stdout
    leaf = host.run(["openssl", "x509", "-noout", "-serial"], check=False, input=result.stdout)
    match = SERIAL_LINE.search(leaf.stdout)
    return verified, match.group(1).upper() if match else None


def normalized_serial(serial):
    """Return `serial` as upper-case hex without colons or leading zeros, so that openssl,
    Python's ssl module and mailroom's status can be compared."""
    return serial.replace(":", "").upper().lstrip("0") if serial else None


def listening_inodes(host, port):
    """Return the socket inodes of every TCP socket listening on `port` in `host`."""
    result = host.run(["ss", "-Hltne", f"sport = :{port}"], check=False)
    return sorted(re.findall(r"ino:(\d+)", result.stdout))


def start_imap_hold(host, folder, server, user, password, ca_file):
    """Start `tools/imap_hold.py`: one IMAP session held open until `resume()` is called.

    Returns (process, out_file, resume_file).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    password_file = folder / "imap-password"
    password_file.write_text(password)
    password_file.chmod(0o600)
    out_file, resume_file = folder / "imap-hold.json", folder / "imap-hold.resume"
    argv = [
        "/usr/bin/python3", Path(__file__).parent / "tools" / "imap_hold.py",
        "--server", server, "--ca-file", ca_file, "--user", user,
        "--password-file", password_file, "--out", out_file, "--resume", resume_file,
    ]
    process = host.start("imap hold", argv, folder / "imap-hold.log")
    return process, out_file, resume_file


def read_json(path):
    """Return the JSON in `path`, or None while it is missing or half-written."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None

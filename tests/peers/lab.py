"""The whole lab: hosts, test zones and every peer, started together and stopped together.

Hosts (network namespaces on one bridge, 10.99.0.0/24):

    dns       Knot (port 53) for example.test and example.net; pebble (14000, 15000)
    internet  Postfix, the internet MTA that sends to our MX
    mailhost  mailroom, on ports 25, 143 and 993
    client    IMAP clients and the independent checkers
    remote    example.net's own servers: the SES stand-in (587), sinks on port 25

Zone data:

    example.test   MX 10 mail.example.test -> mailhost; SPF allows the mailhost
    example.net    MX 10 mx.example.net -> remote; email-smtp.example.net -> remote
"""

import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

from . import install, mailroom, netns, reference
from .knot import Knot
from .pebble import Pebble
from .pki import TestCA
from .postfix import Postfix
from .ses import SesStandIn

ROLES = ("dns", "internet", "mailhost", "client", "remote")
LAB_ROOT = Path("/var/tmp/mailroom-lab")
MAIL_HOSTNAME = "mail.example.test"
INTERNET_HOSTNAME = "relay.example.net"
ALICE = "alice@example.test"


def zones(network):
    """Return the test zones, with addresses from `network`."""
    mailhost, remote = network["mailhost"].address, network["remote"].address
    return {
        "example.test": [
            "@ MX 10 mail",
            f"mail A {mailhost}",
            f"client A {network['client'].address}",
            f'@ TXT "v=spf1 ip4:{mailhost} -all"',
        ],
        "example.net": [
            "@ MX 10 mx",
            f"mx A {remote}",
            f"email-smtp A {remote}",
            f"relay A {network['internet'].address}",
            f'@ TXT "v=spf1 ip4:{network["internet"].address} -all"',
        ],
    }


class Lab:
    """Every peer of the scenarios, and the order to stop them in.

    `start()` leaves everything it started registered for `close()`, also
    when a later peer fails to start, so a test fixture can always clean up.
    """

    def __init__(self):
        self.cleanup = ExitStack()
        self.network = netns.Network(ROLES)
        self.folder = LAB_ROOT / self.network.run_id
        self.timings = {}

    def __getitem__(self, role):
        return self.network[role]

    def start(self):
        started = time.monotonic()
        self._timed("packages", install.ensure_installed)
        # Postfix and smtp-sink drop to the postfix user, which must reach their folders.
        self.folder.mkdir(parents=True, exist_ok=True)
        for folder in (LAB_ROOT, self.folder):
            folder.chmod(0o755)
        self.cleanup.callback(self._remove_folder)

        self._timed("namespaces", self.network.create)
        self.cleanup.callback(self.network.delete)
        self.ca = TestCA(self.folder / "ca")

        self.knot = self._start_peer("knot", Knot(self["dns"], self.folder / "knot", zones(self.network)))
        dns_server = f"{self['dns'].address}:53"
        self.pebble = self._start_peer("pebble", Pebble(self["dns"], self.folder / "pebble", self.ca, dns_server))
        self.ses = self._start_peer("ses", SesStandIn(self["remote"], self.folder / "ses", self.ca))
        # Mail to our domain must go over STARTTLS with a certificate from the lab CA.
        postfix = Postfix(
            self["internet"],
            self.folder / "postfix",
            INTERNET_HOSTNAME,
            tls_policy={"example.test": "verify"},
            ca_file=self.ca.ca_file,
        )
        self.postfix = self._start_peer("postfix", postfix)
        self.timings["total"] = time.monotonic() - started
        return self

    def _timed(self, name, step):
        started = time.monotonic()
        result = step()
        self.timings[name] = time.monotonic() - started
        return result

    def _start_peer(self, name, peer):
        self.cleanup.callback(peer.stop)
        return self._timed(name, peer.start)

    def _remove_folder(self):
        if os.environ.get("MAILROOM_LAB_KEEP"):
            print(f"lab files kept in {self.folder} (MAILROOM_LAB_KEEP is set)")
            return
        shutil.rmtree(self.folder, ignore_errors=True)

    def timing_report(self):
        parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.timings.items() if name != "total")
        return f"lab started in {self.timings.get('total', 0):.2f} s ({parts})"

    def close(self):
        self.cleanup.close()

    def mailroom(self, folder, accounts):
        """Return an unstarted Mailroom for the mailhost serving example.test with `accounts`.

        `accounts` maps an address to its plain password; the spec gets hashes.
        The certificate comes from the lab CA, for mail.example.test and the
        mailhost's address.
        """
        folder = Path(folder)
        cert, key = self.ca.issue("mailhost", [MAIL_HOSTNAME], [self["mailhost"].address])
        hashes = {address: mailroom.hash_password(password) for address, password in accounts.items()}
        if reference.wanted():
            return reference.ReferenceMailhost(
                self["mailhost"], folder, MAIL_HOSTNAME, "example.test", cert, key, hashes
            )
        spec = mailroom.host_spec(
            folder / "state", MAIL_HOSTNAME, self["mailhost"].address, cert, key, ["example.test"], hashes
        )
        return mailroom.Mailroom(self["mailhost"], folder, spec)

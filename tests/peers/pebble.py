"""pebble as the ACME server, resolving and validating challenges through the lab's Knot."""

import json
from pathlib import Path

from . import procs

ACME_PORT = 14000
MANAGEMENT_PORT = 15000


class Pebble:
    """A pebble inside `host`, with a listener certificate issued by the lab CA.

    After `start()`, `ca_file` is the listener CA (ACME clients must trust it)
    and `root_file` the issuing root pebble generated at this start.
    """

    def __init__(
        self, host, folder, ca, dns_server, http_port=80, tls_port=443, nonce_reject_percent=0,
        acme_port=ACME_PORT, management_port=MANAGEMENT_PORT,
    ):
        self.host = host
        self.acme_port = acme_port
        self.management_port = management_port
        self.folder = Path(folder)
        self.ca = ca
        self.dns_server = dns_server
        self.http_port = http_port
        self.tls_port = tls_port
        self.nonce_reject_percent = nonce_reject_percent
        self.process = None
        self.ca_file = ca.ca_file
        self.root_file = self.folder / "issuing-root.pem"
        self.intermediate_file = self.folder / "issuing-intermediate.pem"

    @property
    def directory_url(self):
        return f"https://{self.host.address}:{self.acme_port}/dir"

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        cert, key = self.ca.issue(
            "pebble-listener", ["localhost", "acme.example.test"], ["127.0.0.1", self.host.address]
        )
        config = self.folder / "pebble.json"
        config.write_text(json.dumps({"pebble": self._settings(cert, key)}, indent=2))
        env = {
            "PEBBLE_VA_NOSLEEP": "1",
            "PEBBLE_WFE_NONCEREJECT": str(self.nonce_reject_percent),
        }
        argv = ["pebble", "-config", config, "-dnsserver", self.dns_server]
        self.process = self.host.start("pebble", argv, self.folder / "pebble.log", env=env)
        self.process.wait_ready(lambda: self._get(self.directory_url, check=False), "serving its ACME directory")
        self.root_file.write_text(self._get(self._management_url("/roots/0")))
        self.intermediate_file.write_text(self._get(self._management_url("/intermediates/0")))
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def _settings(self, cert, key):
        return {
            "listenAddress": f"{self.host.address}:{self.acme_port}",
            "managementListenAddress": f"{self.host.address}:{self.management_port}",
            "certificate": str(cert),
            "privateKey": str(key),
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }

    def _management_url(self, path):
        return f"https://{self.host.address}:{self.management_port}{path}"

    def _get(self, url, check=True):
        result = self.host.run(["curl", "-sSf", "--max-time", "5", "--cacert", self.ca_file, url], check=check)
        return result.stdout if result.returncode == 0 else ""

"""Knot as the authoritative DNS server of the test zones.

Every zone accepts RFC 2136 updates and AXFR signed with one TSIG key
(hmac-sha256). `zonefile-sync: -1` keeps updates in the journal, so the
zone files the lab writes stay as written.
"""

import base64
import os
from pathlib import Path

from . import procs

TSIG_NAME = "mailroom-lab"
SOA_TIMERS = "1 3600 600 86400 300"


class Knot:
    """A knotd on `address`:`port` inside `host`, serving `zones`.

    `zones` maps a zone name to zone-file lines relative to that zone, such
    as `"@ MX 10 mail"` or `"mail A 10.99.0.12"`. SOA and NS records are
    added, with the name server at `address`.
    """

    def __init__(self, host, folder, zones, address=None, port=53):
        self.host = host
        self.folder = Path(folder)
        self.address = address or host.address
        self.port = port
        self.zones = zones
        self.tsig_secret = base64.b64encode(os.urandom(32)).decode()
        self.process = None

    @property
    def tsig(self):
        """The key as `kdig -y` and `knsupdate -y` take it."""
        return f"hmac-sha256:{TSIG_NAME}:{self.tsig_secret}"

    def start(self):
        for sub in ("zones", "db", "run"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        for zone, records in self.zones.items():
            (self.folder / "zones" / f"{zone}.zone").write_text(self._zone_text(zone, records))
        config = self.folder / "knot.conf"
        config.write_text(self._config_text())
        self.host.run(["knotc", "-c", config, "conf-check"])
        self.process = self.host.start("knotd", ["knotd", "-c", config], self.folder / "knotd.log")
        first_zone = next(iter(self.zones))
        self.process.wait_ready(lambda: self.query(first_zone, "SOA", check=False), f"serving {first_zone} SOA")
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def _zone_text(self, zone, records):
        lines = [
            f"$ORIGIN {zone}.",
            "$TTL 60",
            f"@ SOA ns.{zone}. hostmaster.{zone}. {SOA_TIMERS}",
            f"@ NS ns.{zone}.",
            f"ns A {self.address}",
            *records,
        ]
        return "\n".join(lines) + "\n"

    def _config_text(self):
        zones = "\n".join(f"  - domain: {zone}\n    template: lab" for zone in self.zones)
        return f"""server:
    rundir: "{self.folder}/run"
    listen: [ "{self.address}@{self.port}", "127.0.0.1@{self.port}" ]
    identity: "mailroom-lab"

log:
  - target: stderr
    any: info

database:
    storage: "{self.folder}/db"

key:
  - id: {TSIG_NAME}
    algorithm: hmac-sha256
    secret: {self.tsig_secret}

acl:
  - id: tsig-update-transfer
    key: {TSIG_NAME}
    action: [update, transfer]

template:
  - id: lab
    storage: "{self.folder}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: changes
    acl: tsig-update-transfer

zone:
{zones}
"""

    def query(self, name, rtype, host=None, check=True):
        """Return the answer records of `name`/`rtype` as `kdig +short` prints them, one a line.

        The query runs in `host` (default: the DNS host itself).
        """
        argv = ["kdig", f"@{self.address}", "-p", self.port, "+short", "+time=1", "+retry=0", name, rtype]
        result = (host or self.host).run(argv, check=check)
        return [line for line in result.stdout.splitlines() if line.strip()]

    def update(self, zone, commands):
        """Apply RFC 2136 `commands` (knsupdate syntax, such as `add x.example.test. 60 TXT "v"`)."""
        script = f"server {self.address} {self.port}\nzone {zone}.\n" + "\n".join(commands) + "\nsend\n"
        return self.host.run(["knsupdate", "-y", self.tsig], input=script)

    def axfr(self, zone, key=True):
        """Return the zone transfer of `zone` as `kdig` prints it, signed with the TSIG key unless `key` is false."""
        argv = ["kdig", f"@{self.address}", "-p", self.port, "+time=2", "+retry=0"]
        if key:
            argv += ["-y", self.tsig]
        return self.host.run([*argv, zone, "AXFR"], check=False).stdout

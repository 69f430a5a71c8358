"""ACME issuance through real DNS-01 validation: mailroom writes the TXT record into the lab's Knot with a
TSIG-signed RFC 2136 update, and pebble reads it from Knot."""

from peers import acme_mailhost, procs
from peers.acme_mailhost import AcmeMailroom
from peers.knot import TSIG_NAME

CHALLENGE_RECORD = "_acme-challenge.mail.example.test"


def test_first_start_issues_certificate_through_dns01(lab, test_folder, alice_password):
    folder = test_folder / "mailroom"
    secret_file = test_folder / "tsig.secret"
    secret_file.write_text(lab.knot.tsig_secret + "\n")
    secret_file.chmod(0o600)
    dns_update = {
        "server": f"{lab.knot.address}:{lab.knot.port}",
        "zone": "example.test",
        "tsig_key_name": TSIG_NAME,
        "tsig_secret_file": str(secret_file),
    }
    spec = acme_mailhost.acme_spec(lab, folder, alice_password, challenge="dns-01", dns_update=dns_update)
    spec["listeners"] = [l for l in spec["listeners"] if l["role"] != "http"]
    server = AcmeMailroom(lab["mailhost"], folder, spec)
    address = lab["mailhost"].address
    try:
        server.start_until(lambda s: s._ready(), "issuing its certificate through DNS-01")
        smtp_verified, smtp_serial = acme_mailhost.served_chain(lab["client"], address, 25, lab.pebble.root_file, "smtp")
        leftover = procs.wait_for(
            lambda: lab.knot.query(CHALLENGE_RECORD, "TXT", check=False) == [] and "deleted",
            "the challenge record to be deleted",
        )
        log = (folder / "mailroom-1.log").read_text()
    finally:
        server.stop()

    assert f'record={CHALLENGE_RECORD}' in log, "mailroom logged no DNS-01 record write"
    assert smtp_verified, "STARTTLS on 25 presented no chain that verifies against pebble's root"
    assert smtp_serial
    assert leftover == "deleted"

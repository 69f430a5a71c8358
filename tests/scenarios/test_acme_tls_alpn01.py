"""ACME issuance through real TLS-ALPN-01 validation: pebble makes an `acme-tls/1` handshake with the
mailhost's port 443, finding the mailhost through the lab's Knot."""

from peers import acme_mailhost
from peers.acme_mailhost import AcmeMailroom


def test_first_start_issues_certificate_through_tls_alpn01(lab, test_folder, alice_password):
    folder = test_folder / "mailroom"
    spec = acme_mailhost.acme_spec(lab, folder, alice_password, challenge="tls-alpn-01")
    spec["listeners"] = [l for l in spec["listeners"] if l["role"] != "http"]
    spec["listeners"].append({"role": "https", "address": f"{lab['mailhost'].address}:443"})
    server = AcmeMailroom(lab["mailhost"], folder, spec)
    address = lab["mailhost"].address
    try:
        server.start_until(
            lambda s: s._ready() and s.host.listening(443), "issuing its certificate through TLS-ALPN-01"
        )
        smtp_verified, smtp_serial = acme_mailhost.served_chain(lab["client"], address, 25, lab.pebble.root_file, "smtp")
        imaps_verified, imaps_serial = acme_mailhost.served_chain(lab["client"], address, 993, lab.pebble.root_file)
        plain_tls_on_443 = lab["client"].run(
            ["openssl", "s_client", "-connect", f"{address}:443", "-servername", "mail.example.test"],
            check=False, input="", timeout=30,
        )
        log = (folder / "mailroom-1.log").read_text()
    finally:
        server.stop()

    assert 'challenge="tls-alpn-01"' in log, "mailroom logged no TLS-ALPN-01 challenge"
    assert smtp_verified, "STARTTLS on 25 presented no chain that verifies against pebble's root"
    assert imaps_verified, "implicit TLS on 993 presented no chain that verifies against pebble's root"
    assert smtp_serial == imaps_serial
    assert plain_tls_on_443.returncode != 0, "port 443 completed a handshake without acme-tls/1"

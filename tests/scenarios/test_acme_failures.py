"""ACME failures against pebble: a directory that is not ACME, pebble down and back, and pebble
rejecting half of all nonces. Each pebble of its own runs in the dns host on ports of its own."""

from pathlib import Path

import pytest

from peers import acme_mailhost, procs
from peers.acme_mailhost import AcmeMailroom
from peers.pebble import Pebble

RENEW_ALWAYS_DAYS = 36500


@pytest.fixture
def private_pebble(lab, test_folder, request):
    """A pebble of this test only; `request.param` is its nonce rejection percentage."""
    reject = getattr(request, "param", 0)
    index = int(test_folder.name.lstrip("t"))
    pebble = Pebble(
        lab["dns"], test_folder / "pebble", lab.ca, f"{lab['dns'].address}:53",
        nonce_reject_percent=reject, acme_port=14100 + index, management_port=15100 + index,
    )
    pebble.start()
    yield pebble
    pebble.stop()


def acme_server(lab, test_folder, password, **tls):
    spec = acme_mailhost.acme_spec(lab, test_folder / "mailroom", password, **tls)
    return AcmeMailroom(lab["mailhost"], test_folder / "mailroom", spec)


def certificate_field(server, *keys):
    value = server.certificate() or {}
    for key in keys:
        value = value.get(key, {}) if isinstance(value, dict) else {}
    return value


def test_non_acme_directory_is_permanent_error(lab, test_folder, alice_password):
    not_acme = f"https://{lab['dns'].address}:15000/roots/0"
    server = acme_server(lab, test_folder, alice_password, directory=not_acme)
    try:
        server.start_until(
            lambda s: certificate_field(s, "reason") == "OrderFailed", "the certificate to report OrderFailed"
        )
        smtp = lab["client"].run(
            ["openssl", "s_client", "-connect", f"{lab['mailhost'].address}:25", "-starttls", "smtp"],
            check=False, input="", timeout=30,
        )
        certificate = server.certificate()
        alive = server.process.alive()
    finally:
        server.stop()

    assert "is not an ACME directory" in certificate["message"]
    assert not_acme in certificate["message"]
    assert certificate["ready"] is False
    assert certificate["observed"]["attempts"] == 1
    assert "next_attempt" not in certificate["observed"]
    assert alive, "mailroom exited after a permanent ACME error"
    assert "BEGIN CERTIFICATE" in smtp.stdout, "no STARTTLS on port 25 while the certificate is failing"


def test_pebble_outage_retries_then_renews(lab, test_folder, alice_password, private_pebble):
    server = acme_server(
        lab, test_folder, alice_password, directory=private_pebble.directory_url
    )
    try:
        server.start_issued()
        old_serial = acme_mailhost.normalized_serial(certificate_field(server, "observed", "serial"))
        old_root = Path(test_folder / "old-root.pem")
        old_root.write_text(private_pebble.root_file.read_text())
        private_pebble.stop()

        server.write_spec(dict(server.spec, tls={**server.spec["tls"], "renew_before_days": RENEW_ALWAYS_DAYS}))
        failing = procs.wait_for(
            lambda: certificate_field(server, "reason") == "RenewalFailing" and server.certificate(),
            "the renewal to fail while pebble is down", deadline=acme_mailhost.ISSUE_DEADLINE,
        )
        verified_during_outage, serial_during_outage = acme_mailhost.served_chain(
            lab["client"], lab["mailhost"].address, 25, old_root, "smtp"
        )

        private_pebble.start()
        renewed = procs.wait_for(
            lambda: (serial := acme_mailhost.normalized_serial(certificate_field(server, "observed", "serial")))
            != old_serial and certificate_field(server, "reason") == "Issued" and serial,
            "the renewal to complete after pebble is back", deadline=acme_mailhost.ISSUE_DEADLINE,
        )
    finally:
        server.stop()

    assert "cannot reach the ACME server" in failing["observed"]["last_error"]
    assert "next_attempt" in failing["observed"]
    assert failing["ready"] is True, "a valid certificate was reported as not ready during the outage"
    assert verified_during_outage, "port 25 stopped presenting the old certificate during the outage"
    assert acme_mailhost.normalized_serial(serial_during_outage) == old_serial
    assert renewed != old_serial


@pytest.mark.parametrize("private_pebble", [50], indirect=True, ids=["nonce-reject-50"])
def test_nonce_rejections_still_end_with_certificate(lab, test_folder, alice_password, private_pebble):
    server = acme_server(lab, test_folder, alice_password, directory=private_pebble.directory_url)
    try:
        server.start_issued()
        verified, serial = acme_mailhost.served_chain(
            lab["client"], lab["mailhost"].address, 25, private_pebble.root_file, "smtp"
        )
        status_serial = acme_mailhost.normalized_serial(certificate_field(server, "observed", "serial"))
    finally:
        server.stop()
    cert_dir = test_folder / "mailroom" / "state" / "certs" / "mail.example.test"
    acme_dir = test_folder / "mailroom" / "state" / "acme"

    assert verified, "the chain on 25 does not verify against pebble's root"
    assert acme_mailhost.normalized_serial(serial) == status_serial
    assert sorted(p.name for p in cert_dir.iterdir()) == ["fullchain.pem", "key.pem", "meta.json", "self-signed"]
    assert sorted(p.name for p in acme_dir.iterdir()) == ["account.json"]

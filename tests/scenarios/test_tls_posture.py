"""TLS posture of ports 25 and 587 (STARTTLS) and 465 and 993 (implicit TLS), read by testssl.sh.

One testssl scan per port takes 10-20 s, so each port is one test with one
assert per condition.
"""

import pytest

from peers import clients

OLD_PROTOCOLS = ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]
WEAK_CIPHER_CATEGORIES = ["cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT"]


@pytest.mark.parametrize(
    "port, starttls",
    [
        pytest.param(25, "smtp", id="smtp-starttls-25"),
        pytest.param(587, "smtp", id="submission-starttls-587"),
        pytest.param(465, None, id="submissions-465"),
        pytest.param(993, None, id="imaps-993"),
    ],
)
def test_tls_posture_of_port(lab, submission_mailhost, test_folder, port, starttls):
    target = f"{lab['mailhost'].address}:{port}"

    findings = clients.testssl(lab["client"], test_folder, target, lab.ca.ca_file, starttls=starttls)

    offered_old = {p: findings[p]["finding"] for p in OLD_PROTOCOLS if findings[p]["finding"] != "not offered"}
    assert offered_old == {}, "protocols older than TLS 1.2 answered"
    modern = [p for p in ("TLS1_2", "TLS1_3") if findings[p]["finding"].startswith("offered")]
    assert modern, "neither TLS 1.2 nor TLS 1.3 offered"
    weak = {c: findings[c]["finding"] for c in WEAK_CIPHER_CATEGORIES if findings[c]["finding"] != "not offered"}
    assert weak == {}, "NULL, anonymous or export ciphers offered"
    chain = findings["cert_chain_of_trust"]
    assert chain["severity"] == "OK", f"chain not valid against the lab CA: {chain['finding']}"

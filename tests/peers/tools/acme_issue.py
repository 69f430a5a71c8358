"""Order a certificate over ACME (RFC 8555) with an HTTP-01 responder of our own.

The ACME client is Debian's python3-acme (certbot's protocol library); the
responder is a plain http.server that answers
`GET /.well-known/acme-challenge/<token>` with the key authorization.
Writes `fullchain.pem`, `key.pem` and `served.json` (the challenge paths the
server fetched) into OUT. Run with /usr/bin/python3.
"""

import argparse
import datetime
import http.server
import json
import threading
from pathlib import Path

import josepy
from acme import challenges, client, crypto_util, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

CHALLENGE_PREFIX = "/.well-known/acme-challenge/"


class Responder(http.server.BaseHTTPRequestHandler):
    """Serves key authorizations from the class-level `answers` map."""

    answers = {}
    served = []

    def do_GET(self):
        token = self.path[len(CHALLENGE_PREFIX):] if self.path.startswith(CHALLENGE_PREFIX) else None
        answer = self.answers.get(token)
        if answer is None:
            self.send_error(404)
            return
        Responder.served.append(self.path)
        body = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def order(directory_url, ca_file, names, account_key):
    network = client.ClientNetwork(account_key, user_agent="mailroom-lab", verify_ssl=ca_file)
    directory = client.ClientV2.get_directory(directory_url, network)
    acme = client.ClientV2(directory, net=network)
    acme.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))

    certificate_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = certificate_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    order_resource = acme.new_order(crypto_util.make_csr(key_pem, names))

    for authorization in order_resource.authorizations:
        challenge = next(c for c in authorization.body.challenges if isinstance(c.chall, challenges.HTTP01))
        response, validation = challenge.response_and_validation(account_key)
        Responder.answers[challenge.chall.encode("token")] = validation
        acme.answer_challenge(challenge, response)

    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    finished = acme.poll_and_finalize(order_resource, deadline)
    return finished.fullchain_pem, key_pem


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", required=True, help="ACME directory URL")
    parser.add_argument("--ca-file", required=True, help="CA that signed the ACME server's TLS certificate")
    parser.add_argument("--listen", required=True, help="address the HTTP-01 responder binds, port 80")
    parser.add_argument("--port", type=int, default=80, help="port the HTTP-01 responder binds")
    parser.add_argument("--out", required=True, help="folder for fullchain.pem, key.pem and served.json")
    parser.add_argument("names", nargs="+", help="DNS names for the certificate")
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer((args.listen, args.port), Responder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        account_key = josepy.JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        fullchain, key_pem = order(args.directory, args.ca_file, args.names, account_key)
    finally:
        server.shutdown()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fullchain.pem").write_text(fullchain)
    (out / "key.pem").write_bytes(key_pem)
    (out / "served.json").write_text(json.dumps(Responder.served))


if __name__ == "__main__":
    main()

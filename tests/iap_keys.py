"""IAP's signing side, played locally: an EC P-256 key, ES256 assertions, keys served over HTTP.

The assertions are written here with `cryptography` alone (not with google-auth, which verifies
them), in the shape Google documents: header {alg: ES256, kid}, claims iss, aud, email, sub,
iat, exp. The public keys are served as IAP serves them at .../iap/verify/public_key: a JSON
object of key id to PEM public key.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

IAP_ISSUER = "https://cloud.google.com/iap"
AUDIENCE = "/projects/123456789012/locations/us-central1/services/reelscope"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())

    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def sign(self, header: dict, claims: dict) -> str:
        signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.private.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
        # JWS ES256 is the raw 64-byte r || s, not DER.
        return f"{signed}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class LocalIap:
    """Signs assertions and serves its public keys at `certs_url` (counting the fetches)."""

    def __init__(self) -> None:
        self.key = SigningKey("iap-test-key-1")
        self.published: list[SigningKey] = [self.key]
        self.fetches = 0
        self.certs_url = ""

    def assertion(
        self,
        *,
        audience: str = AUDIENCE,
        email: str = "ada@example.com",
        subject: str = "accounts.google.com:1001",
        issuer: str = IAP_ISSUER,
        issued_ago_s: float = 5,
        lifetime_s: float = 600,
        key: SigningKey | None = None,
        kid: str | None = None,
        alg: str = "ES256",
    ) -> str:
        key = key or self.key
        now = time.time()
        claims = {
            "iss": issuer,
            "aud": audience,
            "email": email,
            "sub": subject,
            "iat": int(now - issued_ago_s),
            "exp": int(now - issued_ago_s + lifetime_s),
        }
        header = {"alg": alg, "kid": kid or key.kid, "typ": "JWT"}
        return key.sign(header, claims)

    def rotate(self) -> SigningKey:
        """A new key, published beside the old one, as IAP does when it rotates."""
        self.key = SigningKey(f"iap-test-key-{len(self.published) + 1}")
        self.published.append(self.key)
        return self.key

    def keys_json(self) -> bytes:
        return json.dumps({key.kid: key.public_pem() for key in self.published}).encode()


@contextlib.contextmanager
def serving_keys(iap: LocalIap) -> Iterator[LocalIap]:
    """IAP's public-key endpoint on 127.0.0.1, in a thread, for the life of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/iap/verify/public_key":
                self.send_error(404)
                return
            iap.fetches += 1
            body = iap.keys_json()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    iap.certs_url = f"http://127.0.0.1:{server.server_address[1]}/iap/verify/public_key"
    try:
        yield iap
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""An S3 server on loopback (moto) and the checks moto leaves out: a presigned link's
signature and expiry, recomputed with botocore's SigV4 as S3 itself does.

moto accepts any credentials, a forged signature and a link past its X-Amz-Expires, so the
link is verified here: the canonical request is rebuilt from the link as a client fetches it
(method, host, path, query), signed with the secret the server holds, and compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

ACCESS_KEY, SECRET_KEY = "testing", "testing"
SIGNED_AT = "%Y%m%dT%H%M%SZ"


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1, its address while the block runs."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def signed_at(url: str) -> datetime:
    stamp = dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"]
    return datetime.strptime(stamp, SIGNED_AT).replace(tzinfo=UTC)


def presigned_problem(
    url: str, secret: str = SECRET_KEY, now: datetime | None = None
) -> str | None:
    """Why S3 would refuse a GET of `url` at `now` (None: it would serve it)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    fields = dict(query)
    if fields.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        return f"not a SigV4 link: {sorted(fields)}"
    lifetime = timedelta(seconds=int(fields["X-Amz-Expires"]))
    if (now or datetime.now(UTC)) > signed_at(url) + lifetime:
        return "expired"
    unsigned = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    request = AWSRequest(
        method="GET", url=urlunsplit(parts._replace(query=urlencode(unsigned, quote_via=quote)))
    )
    request.context["timestamp"] = fields["X-Amz-Date"]
    access, _, region, service, _ = fields["X-Amz-Credential"].split("/")
    signer = S3SigV4QueryAuth(Credentials(access, secret), service, region, expires=0)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    return None if expected == fields["X-Amz-Signature"] else "signature does not match"

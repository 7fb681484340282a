"""The secrets derived per purpose (`clipforge/signing.py`): HKDF as RFC 5869 defines it,
one key per purpose and per API key, and which secrets sign during a rotation."""

from __future__ import annotations

from clipforge.signing import (
    WebhookSecrets,
    as_whsec,
    derived_webhook_secret,
    hkdf,
    link_key,
    new_webhook_secret,
    secret_bytes,
)


def test_hkdf_matches_rfc_5869_test_case_1() -> None:
    okm = hkdf(bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), length=42, salt=bytes(range(0x0D)))
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_one_key_per_purpose_and_per_api_key() -> None:
    server = b"0123456789abcdef" * 4
    link = link_key(server)
    first = derived_webhook_secret(server, "k1")
    assert first == derived_webhook_secret(server, "k1")  # a function of its inputs alone
    webhook_keys = {secret_bytes(derived_webhook_secret(server, k)) for k in ("k1", "k2", "open")}
    assert len(webhook_keys) == 3 and link not in webhook_keys and server not in webhook_keys
    assert derived_webhook_secret(b"another server", "k1") != first
    assert first.startswith("whsec_") and len(secret_bytes(first)) == 32


def test_the_old_secret_signs_until_its_grace_period_ends() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    rotated = WebhookSecrets(new, old, previous_until=100.0)
    assert rotated.valid_at(99.0) == [secret_bytes(new), secret_bytes(old)]
    assert rotated.valid_at(100.0) == [secret_bytes(new)]
    assert WebhookSecrets(new).valid_at(0.0) == [secret_bytes(new)]
    assert as_whsec(secret_bytes(new)) == new

"""Credentials tokens (OCPI tokens A, B and C; not the Tokens module): generation,
hashing, and the header forms.

Tokens we issue are 256-bit random values, so a single SHA-256 is enough to store them
(no password stretching needed: there is nothing to brute-force), and a request's token
is found by looking its hash up. That needs no constant-time comparison of the raw
value: an attacker timing the lookup learns about hashes of guesses, which says nothing
about a 256-bit random token. Secrets compared as they are (the admin token) go through
:func:`secrets_equal`, which is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets


def generate_token() -> str:
    """A fresh credentials token: 43 URL-safe characters, inside OCPI's 64 and U+0021-U+007E."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def encode_token(token: str) -> str:
    """OCPI 2.2+ header form: Base64 (RFC 4648 §4) of the UTF-8 token, no trailing newline."""
    return base64.b64encode(token.encode("utf-8")).decode("ascii")


def header_token_candidates(value: str) -> list[str]:
    """Every token an ``Authorization: Token <x>`` value may stand for.

    Real platforms send the raw token in 2.2.1 as often as the Base64 form, and a hex or
    UUID token is frequently valid Base64 text too, so both readings are tried rather than
    "decode if it decodes". The spec's own examples encode a trailing newline; strip it.
    """
    candidates = [value]
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return candidates
    decoded = decoded.rstrip("\r\n")
    if decoded and decoded != value and decoded.isprintable():
        candidates.append(decoded)
    return candidates

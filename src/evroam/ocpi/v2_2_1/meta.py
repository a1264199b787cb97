"""Facts about OCPI 2.2.1 that its modules share."""

from __future__ import annotations

VERSION = "2.2.1"
# From 2.2 on the Authorization header carries the token Base64-encoded (digest §1.4).
TOKEN_BASE64 = True

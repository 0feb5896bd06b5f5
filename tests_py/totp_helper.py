"""RFC 6238 codes (SHA-1, 6 digits, 30 s), computed here rather than by the code under
test, for the tests that log in with a second factor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

# A base32 secret for the tests' TOTP factors.
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code(secret_b32: str, at: float | None = None) -> str:
    """The TOTP code of `secret_b32` at `at` (now by default)."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret_b32)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"

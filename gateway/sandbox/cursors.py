"""The sandbox's opaque ``next`` cursors.

A cursor is standard base64 with padding, like Kombo's example, so it may contain ``+``, ``/``
and ``=`` and must be URL-encoded: a version byte, an offset, and an HMAC over the offset and
the query it belongs to (the integration and every other query parameter exactly as sent, so an
omitted ``page_size`` and an explicit ``page_size=100`` are different queries). The HMAC key is
fixed, so cursors are deterministic and survive restarts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["CURSOR_KEY", "CursorCodec", "InvalidCursor"]

CURSOR_KEY = b"kombo-gateway sandbox cursor v1"
_CURSOR_VERSION = 1
_CURSOR_MAC_BYTES = 15  # 20 bytes in all: one "=" of padding, like Kombo's example


class InvalidCursor(ValueError):
    """A cursor that is malformed, tampered with, or issued for another query."""


class CursorCodec:
    """Opaque cursors: ``base64(version | offset | HMAC(offset, binding))``."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, offset: int, binding: bytes) -> bytes:
        message = offset.to_bytes(4, "big") + binding
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_CURSOR_MAC_BYTES]

    def encode(self, offset: int, binding: bytes) -> str:
        """The cursor of ``offset`` in the query ``binding`` stands for."""
        raw = bytes([_CURSOR_VERSION]) + offset.to_bytes(4, "big") + self._mac(offset, binding)
        return base64.b64encode(raw).decode("ascii")

    def decode(self, cursor: str, binding: bytes) -> int:
        """The offset in ``cursor``; :class:`InvalidCursor` unless it was issued for
        ``binding``."""
        try:
            raw = base64.b64decode(cursor.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) == 5 + _CURSOR_MAC_BYTES and raw[0] == _CURSOR_VERSION:
            offset = int.from_bytes(raw[1:5], "big")
            if hmac.compare_digest(raw[5:], self._mac(offset, binding)):
                return offset
        raise InvalidCursor(
            "the cursor is malformed, or it was issued for other query parameters (a cursor is "
            "only valid with the exact page_size and filters that produced it)."
        )

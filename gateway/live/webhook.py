"""Kombo's ``data-changed`` webhook, read and checked: pure functions, no I/O.

A webhook is a *hint*, never data: what it names decides which refreshes are scheduled, and
nothing of its body reaches a subscriber. What is checked, in this order (``POST
/webhooks/kombo`` answers with the status in brackets):

1. **Size** [413]: the raw body is at most :data:`MAX_BODY_BYTES` (64 KiB; Kombo's bodies are a
   few hundred bytes, the 25 model names of every Kombo category fit in 2 KiB).
2. **Signature** [401], only when a secret is configured (``KOMBO_WEBHOOK_SECRET``): the
   ``X-Kombo-Signature`` header must equal HMAC-SHA256(secret as UTF-8, the raw body bytes
   exactly as received). Accepted encodings of the 32-byte MAC, optionally prefixed
   ``sha256=`` (case-insensitive), surrounding whitespace ignored: hex (lower or upper case, 64
   digits), base64 standard alphabet (``+/``) and URL-safe alphabet (``-_``), padded (44
   characters) or not (43). Anything else, a missing header included, fails. The comparison is
   :func:`hmac.compare_digest` on the decoded 32 bytes (constant time). Checked before the body
   is parsed, so a forged body is never even read as JSON. The scheme signs the body only (no
   timestamp): a captured genuine delivery replayed later is taken as its ``id`` says, and an
   ``id`` seen in the last 24 hours schedules nothing (the feed's de-duplication).
3. **Schema** [400]: the body is UTF-8 JSON whose top level is an object with ``id`` (a
   non-empty string, at most :data:`MAX_ID_CHARS` characters) and ``type`` (a string). When
   ``type`` is ``data-changed``: ``data`` is an object, ``data.integration_id`` a non-empty
   string (at most :data:`MAX_ID_CHARS`), ``data.changed_models`` a list (at most
   :data:`MAX_CHANGED_MODELS` entries) of objects each with a string ``name``. Other keys
   (``integration_tool``, ``integration_category``...) are not checked.
4. **Type**: any other ``type`` is acknowledged (200) and ignored: :class:`Ignored`.
5. **Models**: each ``changed_models[].name`` of the ten served models (``ats_interviews`` →
   ``Interview``, ``ats_application_stages`` → ``ApplicationStage``...: ``ats_`` and the last
   segment of the model's catalog path with ``-`` as ``_``) is kept; any other name (HRIS models,
   ``ats_job_postings``, names Kombo adds later) is ignored.

De-duplication on ``id`` is the feed's (:meth:`gateway.live.hub.LiveFeed.first_delivery`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.kombo.catalog import CATALOG

__all__ = [
    "DATA_CHANGED",
    "MAX_BODY_BYTES",
    "SIGNATURE_HEADER",
    "BodyTooLarge",
    "DataChanged",
    "Ignored",
    "MalformedWebhook",
    "WebhookError",
    "check_size",
    "decode_signature",
    "model_of",
    "parse",
    "sign",
    "signature_matches",
]

MAX_BODY_BYTES = 65_536
"""Longest body read (64 KiB)."""
MAX_ID_CHARS = 256
"""Longest event id or integration id taken."""
MAX_CHANGED_MODELS = 1_000
"""Most ``changed_models`` entries taken."""
SIGNATURE_HEADER = "X-Kombo-Signature"
DATA_CHANGED = "data-changed"

MODEL_NAMES: Mapping[str, str] = {
    "ats_" + model.path.rsplit("/", 1)[-1].replace("-", "_"): model.name for model in CATALOG
}
"""Kombo's ``changed_models`` name → the catalog's model name, for the served models."""


class WebhookError(ValueError):
    """A body that is refused; ``status`` is the HTTP status answered."""

    status = 400


class MalformedWebhook(WebhookError):
    """Not JSON, or not the ``data-changed`` schema (400)."""


class BodyTooLarge(WebhookError):
    """Longer than :data:`MAX_BODY_BYTES` (413)."""

    status = 413


@dataclass(frozen=True, slots=True)
class DataChanged:
    """A ``data-changed`` event: refresh these ``models`` (catalog names; maybe none of ours)
    of ``integration_id``."""

    event_id: str
    integration_id: str
    models: frozenset[str]
    ignored_models: tuple[str, ...] = ()
    """The ``changed_models`` names of models the gateway does not serve."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """Another event type: acknowledged, nothing done."""

    event_id: str
    type: str


def model_of(changed_name: str) -> str | None:
    """The catalog model of a ``changed_models[].name`` (``ats_interviews`` → ``Interview``);
    ``None`` for a model the gateway does not serve."""
    return MODEL_NAMES.get(changed_name)


def check_size(length: int) -> None:
    """Raise :class:`BodyTooLarge` beyond :data:`MAX_BODY_BYTES`."""
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")


def sign(secret: str, body: bytes) -> bytes:
    """HMAC-SHA256 of the raw ``body`` with ``secret`` (UTF-8): the 32 bytes Kombo signs."""
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


_MAC_BYTES = 32
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def decode_signature(header: str) -> bytes | None:
    """The 32 MAC bytes a header value carries in one of the accepted encodings (module doc);
    ``None`` when it is none of them."""
    value = header.strip()
    if value[:7].lower() == "sha256=":
        value = value[7:].strip()
    if len(value) == 2 * _MAC_BYTES:
        if not all(c in _HEX_DIGITS for c in value):
            return None  # (bytes.fromhex would skip spaces)
        return bytes.fromhex(value)
    if len(value) not in (43, 44) or not value.isascii():
        return None
    unpadded = value.rstrip("=")
    if len(unpadded) != 43 or len(value) - len(unpadded) > 1:
        return None
    alphabet = unpadded.translate(str.maketrans("-_", "+/"))
    if ("-" in unpadded or "_" in unpadded) and ("+" in unpadded or "/" in unpadded):
        return None  # one alphabet or the other, not a mix
    try:
        decoded = base64.b64decode(alphabet + "=", validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == _MAC_BYTES else None


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``X-Kombo-Signature``'s value, ``None`` when absent) is the body's
    HMAC-SHA256 with ``secret`` in an accepted encoding; compared in constant time."""
    if header is None:
        return False
    given = decode_signature(header)
    expected = sign(secret, body)
    if given is None:
        hmac.compare_digest(expected, expected)  # the same work either way
        return False
    return hmac.compare_digest(given, expected)


def _text(value: Any, where: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise MalformedWebhook(f"{where}: expected a string")
    if limit is not None and not 0 < len(value) <= limit:
        raise MalformedWebhook(f"{where}: expected 1 to {limit} characters")
    return value


def parse(body: bytes) -> DataChanged | Ignored:
    """The event a body describes (size, JSON and schema checked as the module doc says);
    raises :class:`BodyTooLarge` or :class:`MalformedWebhook`. The signature is checked
    apart, first (:func:`signature_matches`)."""
    check_size(len(body))
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedWebhook("the body is not UTF-8 JSON") from None
    if not isinstance(payload, dict):
        raise MalformedWebhook("the body must be a JSON object")
    event_id = _text(payload.get("id"), "id", limit=MAX_ID_CHARS)
    event_type = _text(payload.get("type"), "type")
    if event_type != DATA_CHANGED:
        return Ignored(event_id, event_type[:MAX_ID_CHARS])
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedWebhook("data: expected an object")
    integration_id = _text(data.get("integration_id"), "data.integration_id", limit=MAX_ID_CHARS)
    changed = data.get("changed_models")
    if not isinstance(changed, list):
        raise MalformedWebhook("data.changed_models: expected a list")
    if len(changed) > MAX_CHANGED_MODELS:
        raise MalformedWebhook(f"data.changed_models: more than {MAX_CHANGED_MODELS} entries")
    models: set[str] = set()
    ignored: list[str] = []
    for index, entry in enumerate(changed):
        if not isinstance(entry, dict):
            raise MalformedWebhook(f"data.changed_models[{index}]: expected an object")
        name = _text(entry.get("name"), f"data.changed_models[{index}].name")
        model = model_of(name)
        if model is None:
            ignored.append(name)
        else:
            models.add(model)
    return DataChanged(event_id, integration_id, frozenset(models), tuple(ignored))

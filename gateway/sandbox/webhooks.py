"""The ``data-changed`` webhooks the sandbox sends after its edits, as Kombo sends them.

The body is the spec's ``DataChangedWebhookPayload`` (``webhooks: data-changed``)::

    {"id": "<event id>", "type": "data-changed",
     "data": {"integration_id": "sandbox:acme-corp", "integration_tool": "sandbox",
              "integration_category": "ATS", "changed_models": [{"name": "ats_interviews"}]}}

``X-Kombo-Signature`` is the HMAC-SHA256 of the raw body with the secret, in lower-case hex;
without a secret the header is left out. A model's name is ``ats_`` and the last segment of its
endpoint path, ``-`` written ``_`` (``/ats/application-stages`` → ``ats_application_stages``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from gateway.kombo.catalog import CATALOG

__all__ = ["WebhookTarget", "changed_model_name", "data_changed_body", "send", "signature"]

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class WebhookTarget:
    """Where the sandbox posts its webhooks, and the secret it signs them with."""

    url: str
    secret: str | None = field(default=None, repr=False)


def changed_model_name(model: str) -> str:
    """The ``changed_models[].name`` of a catalog model (``"Interview"`` → ``ats_interviews``)."""
    return "ats_" + CATALOG[model].path.rsplit("/", 1)[-1].replace("-", "_")


def data_changed_body(integration_id: str, models: Iterable[str], event_id: str = "") -> bytes:
    """The webhook body saying that ``models`` (catalog names) of ``integration_id`` changed;
    a fresh Kombo-style event id unless ``event_id`` is given."""
    event_id = event_id or "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))
    body = {
        "id": event_id,
        "type": "data-changed",
        "data": {
            "integration_id": integration_id,
            "integration_tool": integration_id.split(":", 1)[0],
            "integration_category": "ATS",
            "changed_models": [{"name": changed_model_name(m)} for m in sorted(set(models))],
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """``X-Kombo-Signature``: HMAC-SHA256 of the raw body with ``secret``, lower-case hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def send(target: WebhookTarget, body: bytes, timeout: float = 5.0) -> int:
    """POST ``body`` to ``target``, signed when it has a secret; the answer's status code.
    Raises :class:`httpx.HTTPError` when no answer comes."""
    headers = {"Content-Type": "application/json"}
    if target.secret:
        headers["X-Kombo-Signature"] = signature(target.secret, body)
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.post(target.url, content=body, headers=headers)
    return response.status_code

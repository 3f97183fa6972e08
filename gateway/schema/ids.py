"""Global ids (CONTRACT 1.3): ``gid://kombo/<Type>/<Kombo id>``, unique across every type.

Kombo's ids are unique within one model only (an interview and a user may share one), so the
GraphQL ``id`` names the type too; ``komboId`` keeps Kombo's own. Arguments that take an id accept
either form: the global id of the right type, or a bare Kombo id.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import quote, unquote

PREFIX = "gid://kombo/"
MAX_ID_CHARS = 200
"""Longest Kombo id taken (Kombo's are 24 characters; remote systems' ids never reach here)."""


class InvalidId(ValueError):
    """Not an id this argument takes; the message says why (argument name excluded)."""


def global_id(type_name: str, kombo_id: str) -> str:
    """The global id of one record. Kombo ids are URL-safe; anything else is percent-encoded, so
    that a ``/`` inside an id can never be read as the type separator."""
    if _url_safe(kombo_id):  # Kombo's own ids: nothing to encode
        return f"{PREFIX}{type_name}/{kombo_id}"
    return f"{PREFIX}{type_name}/{quote(kombo_id, safe='')}"


_url_safe = re.compile(r"[A-Za-z0-9_.~-]+\Z").match
"""What ``quote(text, safe='')`` leaves as it is (RFC 3986 unreserved characters)."""


def parse_global_id(text: str, types: Collection[str]) -> tuple[str, str] | None:
    """``(type, Kombo id)`` of a global id; ``None`` when ``text`` is not one at all.

    Raises :class:`InvalidId` when it looks like one but names no type of ``types`` or holds no id.
    """
    if not text.startswith(PREFIX):
        return None
    type_name, sep, encoded = text[len(PREFIX) :].partition("/")
    if not sep or type_name not in types:
        raise InvalidId(f"{text!r} is not the global id of a known type")
    kombo_id = unquote(encoded)
    _check_kombo_id(kombo_id, text)
    return type_name, kombo_id


def _check_kombo_id(kombo_id: str, text: str) -> None:
    if (
        not kombo_id
        or "," in kombo_id
        or len(kombo_id) > MAX_ID_CHARS
        or not kombo_id.isprintable()
    ):
        raise InvalidId(f"{text!r} is not a Kombo id")


def kombo_id_of(text: str, type_name: str, types: Collection[str]) -> str:
    """The Kombo id that ``text`` names for an argument of type ``type_name``: a global id of
    that type, or a bare Kombo id. A global id of another type is refused."""
    parsed = parse_global_id(text, types)
    if parsed is None:
        _check_kombo_id(text, text)
        return text
    found, kombo_id = parsed
    if found != type_name:
        raise InvalidId(f"{text!r} is the id of {_a(found)}, not of {_a(type_name)}")
    return kombo_id


def _a(type_name: str) -> str:
    """``a Job``, ``an Interview``: the type name with its article, for messages."""
    return f"{'an' if type_name[:1] in 'AEIOU' else 'a'} {type_name}"

"""`Vary`, merged: each header name once, whoever adds it (the endpoint, CORS, GraphiQL).

Starlette's `add_vary_header` appends blindly, so an answer whose `Vary` the endpoint set to
`Accept, Origin, ...` would come out of a CORS middleware as `..., Origin, Origin`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

__all__ = ["merge_vary"]


def merge_vary(headers: MutableHeaders, *names: str) -> None:
    """Add `names` to `headers`' `Vary`, keeping its order and each name once, duplicates
    already there included (names compare case-insensitively; a `*` stays alone)."""
    listed = [
        name.strip() for line in headers.getlist("vary") for name in line.split(",") if name.strip()
    ]
    if "*" in listed:
        headers["Vary"] = "*"
        return
    merged: dict[str, str] = {}  # lowercase -> as first written
    for name in (*listed, *names):
        merged.setdefault(name.lower(), name)
    if merged:
        headers["Vary"] = ", ".join(merged.values())

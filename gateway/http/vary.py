"""`Vary`, merged: each header name once, whoever adds it (the endpoint, CORS, GraphiQL).

Starlette's `add_vary_header` appends blindly, so an answer whose `Vary` the endpoint set to
`Accept, Origin, ...` would come out of a CORS middleware as `..., Origin, Origin`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

__all__ = ["merge_vary"]


def merge_vary(headers: MutableHeaders, *names: str) -> None:
    """Add `names` to `headers`' `Vary`, keeping its order and each name once (names compare
    case-insensitively; a `*` already there stays alone)."""
    present: list[str] = []
    for line in headers.getlist("vary"):
        present.extend(name.strip() for name in line.split(",") if name.strip())
    if "*" in present:
        headers["Vary"] = "*"
        return
    seen = {name.lower() for name in present}
    for name in names:
        if name.lower() not in seen:
            present.append(name)
            seen.add(name.lower())
    if present:
        headers["Vary"] = ", ".join(present)

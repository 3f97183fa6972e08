"""The Content-Security-Policy GraphiQL's page must be served with, written down once.

A literal, not ``gateway.graphiql.CONTENT_SECURITY_POLICY``: a test comparing the header with
the constant it is built from would pass whatever the constant became. After a GraphiQL upgrade
changes the one inline style's hash, update ``EXPECTED`` with it.
"""

from __future__ import annotations

EXPECTED: dict[str, frozenset[str]] = {
    "default-src": frozenset({"'none'"}),
    "script-src": frozenset({"'self'"}),
    "style-src": frozenset({"'self'", "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='"}),
    "font-src": frozenset({"'self'", "data:"}),
    "img-src": frozenset({"'self'", "data:"}),
    "connect-src": frozenset({"'self'"}),
    "base-uri": frozenset({"'none'"}),
    "form-action": frozenset({"'none'"}),
    "frame-ancestors": frozenset({"'none'"}),
}


def directives(header: str) -> dict[str, frozenset[str]]:
    """The policy's directives (lower-cased names) and their sources; a repeated directive
    fails, since browsers ignore every repetition after the first."""
    parsed: dict[str, frozenset[str]] = {}
    for part in header.split(";"):
        if not part.strip():
            continue
        name, *sources = part.split()
        name = name.lower()
        assert name not in parsed, f"{name} is given twice in {header!r}"
        parsed[name] = frozenset(sources)
    return parsed


def assert_strict_csp(header: str | None) -> None:
    """``header`` is exactly :data:`EXPECTED`: no wildcard source, no ``unsafe-`` keyword."""
    assert header, "no Content-Security-Policy header"
    sources = [source for values in directives(header).values() for source in values]
    assert not [s for s in sources if "*" in s], f"a wildcard source in {header!r}"
    assert "unsafe-" not in header.lower(), f"an unsafe- keyword in {header!r}"
    assert directives(header) == EXPECTED

"""The embedded sandbox upstream: a spec-faithful fake of Kombo's ``GET /ats/interviews``.

Used by ``make run`` (explore the gateway with no Kombo account) and by the test suite over real
HTTP. It knows nothing about GraphQL. :mod:`gateway.sandbox.data` holds the deterministic
interviews, :mod:`gateway.sandbox.app` the HTTP surface and the semantics it chose,
:mod:`~gateway.sandbox.params` the query parameters, :mod:`~gateway.sandbox.cursors` the cursor
codec, :mod:`~gateway.sandbox.selection` the filters and :mod:`~gateway.sandbox.faults` the
canned failures.
"""

from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.data import (
    INTEGRATIONS,
    MODEL_NOT_AVAILABLE_INTEGRATION,
    UNSUPPORTED_FILTERS,
    SandboxInterview,
    interviews_for,
)

__all__ = [
    "INTEGRATIONS",
    "MODEL_NOT_AVAILABLE_INTEGRATION",
    "UNSUPPORTED_FILTERS",
    "SandboxInterview",
    "create_sandbox_app",
    "interviews_for",
]

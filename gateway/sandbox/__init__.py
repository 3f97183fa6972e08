"""The embedded sandbox upstream: a spec-faithful fake of Kombo's ten ATS read endpoints.

Used by ``make run`` (explore the gateway with no Kombo account) and by the test suite over real
HTTP. It knows nothing about GraphQL. :mod:`gateway.sandbox.data` holds the integrations and their
deterministic records (one consistent dataset per integration, :mod:`~gateway.sandbox.world`,
grown around the interviews of :mod:`~gateway.sandbox.generation`), :mod:`gateway.sandbox.app`
the HTTP surface and the semantics it chose, :mod:`~gateway.sandbox.params` the query
parameters, :mod:`~gateway.sandbox.cursors` the cursor codec, :mod:`~gateway.sandbox.selection`
the filters, :mod:`~gateway.sandbox.changes` what ``updated_after`` compares,
:mod:`~gateway.sandbox.faults` the canned failures, :mod:`~gateway.sandbox.edits` the records
edited while it runs and :mod:`~gateway.sandbox.webhooks` the ``data-changed`` webhooks that
announce them.
"""

from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.data import (
    ALL_INTEGRATIONS,
    INTEGRATIONS,
    MODEL_NOT_AVAILABLE_INTEGRATION,
    MODELS_NOT_AVAILABLE,
    UNSUPPORTED_FILTERS,
    SandboxInterview,
    SandboxRecord,
    interviews_for,
    records_for,
    shared_ids_for,
)

__all__ = [
    "ALL_INTEGRATIONS",
    "INTEGRATIONS",
    "MODELS_NOT_AVAILABLE",
    "MODEL_NOT_AVAILABLE_INTEGRATION",
    "UNSUPPORTED_FILTERS",
    "SandboxInterview",
    "SandboxRecord",
    "create_sandbox_app",
    "interviews_for",
    "records_for",
    "shared_ids_for",
]

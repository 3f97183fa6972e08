"""A compiled fast path for completing resolved values, byte-for-byte equal to graphql-core's.

graphql-core completes a resolved value field by field: for every field of every object it builds
a resolve info, calls Strawberry's resolver wrapper, and walks ``complete_value``. For a page of
100 interviews with all fields that is ~90,000 Python calls, about 20 ms, while the objects are
dicts (:mod:`gateway.kombo.records`) whose values *are* the answers.

:class:`FastPathExecutor` is graphql-core's executor with one method replaced:
``complete_value``. Parsing, validation, variable coercion, the extensions, the root resolvers,
``Job.interviews``, DataLoader batching, every ``await`` and every error stay graphql-core's and
Strawberry's. When graphql-core asks to complete a value whose selection is *eligible*, the
executor runs a projection instead: a Python function generated once for that selection, which
reads the model's attributes and builds the response dict in one pass.

A projection only handles the happy path, and *checks* that it is on it: the exact model class of
every object, ``str``/``bool`` for String, ID and Boolean, non-null values where the schema says
non-null, real lists. On anything else (a null in a non-null field, a value a scalar must coerce
or refuse, a resolver raising, an awaitable in a list, a foreign object) it raises
:class:`~gateway.execution.projection.ProjectionMiss`, and the executor completes that same value
with graphql-core's own ``complete_value``, whose recursion comes back here for each child value.
Projections are pure (attribute reads, scalar serializers, argument-less sync resolvers such as the
edge cursor), so abandoning one half-way has no effect, and the result, its errors, their order
and the null bubbling are graphql-core's by construction.

Which selections are eligible, and how a projection is generated:
:mod:`gateway.execution.projection`.

``@include``/``@skip`` are honoured by compiling with graphql-core's own field collection; a
plan is cached per document text, operation and the values of the variables those directives
read, so the same document with other condition values gets (and caches) its own plan. A
document too large to cache (:func:`gateway.execution.document_cache.cacheable`) is planned for its
request only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from graphql import (
    GraphQLOutputType,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.language import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.pyutils import Path
from graphql.type import GraphQLResolveInfo

from gateway.execution.document_cache import cacheable
from gateway.execution.executor import AcyclicExecutor
from gateway.execution.projection import Projection, compile_projection
from gateway.kombo.catalog import CATALOG, Model
from gateway.kombo.errors import KomboMalformedResponse
from gateway.kombo.parsing import parse_record
from gateway.schema import GatewayContext

__all__ = ["FastPathExecutor", "FastPathStats", "fast_path_executor"]

MAX_DOCUMENTS = 512
"""Documents whose plans are kept (oldest dropped first); documents larger than
:data:`~gateway.execution.document_cache.MAX_CACHED_DOCUMENT_BYTES` never are."""

MAX_PLANS_PER_DOCUMENT = 32
"""Plans kept per document: one per combination of ``@include``/``@skip`` variable values."""


@dataclass
class FastPathStats:
    """Counters of one schema's fast path, for tests and diagnostics."""

    projected: int = 0
    """Values completed by a projection."""
    fell_back: int = 0
    """Values a projection gave back to graphql-core (a
    :class:`~gateway.execution.projection.ProjectionMiss` or an error)."""
    compiled: int = 0
    """Selections compiled into projections."""
    ineligible: int = 0
    """Selections found ineligible (completed by graphql-core, field by field)."""


@dataclass
class _DocumentPlans:
    """The plans of one operation of one document text."""

    condition_variables: tuple[str, ...]
    """Variables read by ``@include``/``@skip``: their values select the plan."""
    plans: dict[tuple[Any, ...], dict[tuple[str, tuple[int, ...]], Projection | None]] = field(
        default_factory=dict
    )


@dataclass
class _FastPathCache:
    """Plans and counters shared by every request of one schema."""

    documents: dict[tuple[str, int], _DocumentPlans] = field(default_factory=dict)
    stats: FastPathStats = field(default_factory=FastPathStats)


_UNSET: Any = object()

_PAGE_RECORDS: dict[str, Model] = {model.name: model for model in CATALOG}
"""Types whose values may come as Kombo's decoded JSON: a page's records (see
:class:`~gateway.kombo.records.Page`)."""


class FastPathExecutor(AcyclicExecutor):
    """Strawberry's graphql-core executor, completing eligible selections with projections.

    Use :func:`fast_path_executor` to get a subclass with its own plan cache, and pass it to
    ``strawberry.Schema(..., execution_context_class=...)``.
    """

    cache: ClassVar[_FastPathCache] = _FastPathCache()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (id(return type), id(field group)) → (the field group, kept alive so that its id
        # stays unique, and its projection or None). graphql-core memoizes field groups per
        # request the same way, so one list of 100 edges costs one lookup here.
        self._fast_projections: dict[tuple[int, int], tuple[Any, Projection | None]] = {}
        self._fast_plans: dict[tuple[str, tuple[int, ...]], Projection | None] | None = _UNSET
        if isinstance(self.context_value, GatewayContext):
            # This executor completes Kombo's decoded JSON (see complete_value): connections
            # may hand it over unread.
            self.context_value.raw_records = True

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if position_context is None:
            key = (id(return_type), id(field_details_list))
            entry = self._fast_projections.get(key)
            if entry is None:
                entry = (field_details_list, self._projection(return_type, field_details_list))
                self._fast_projections[key] = entry
            projection = entry[1]
            if projection is not None:
                stats = self.cache.stats
                try:
                    completed = projection(result)
                except Exception:
                    stats.fell_back += 1
                else:
                    stats.projected += 1
                    return completed
        if result.__class__ is dict:
            # Kombo's decoded JSON of a page's record (issue 12): graphql-core completes the
            # record it reads as. A page's records were checked to read without failing
            # (parse_page); a plain dict that fails is none of them (a resolver's foreign
            # value), and graphql-core refuses it as it is, as without the fast path.
            model = _PAGE_RECORDS.get(get_named_type(return_type).name)
            if model is not None:
                with contextlib.suppress(KomboMalformedResponse):
                    result = parse_record(model, result)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _projection(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Projection | None:
        if is_non_null_type(return_type) or is_leaf_type(get_named_type(return_type)):
            # graphql-core completes a non-null type by completing its nullable type (which
            # comes back here) and checking the result: a value that misses misses once.
            return None
        plans = self._fast_plans
        if plans is _UNSET:
            plans = self._fast_plans = self._find_plans()
        if plans is None:
            return None
        starts = []
        for details in field_details_list:
            loc = details.node.loc
            if loc is None:
                return None
            starts.append(loc.start)
        key = (str(return_type), tuple(starts))
        if key in plans:
            return plans[key]
        projection = self._compile(return_type, field_details_list)
        plans[key] = projection
        return projection

    def _find_plans(self) -> dict[tuple[str, tuple[int, ...]], Projection | None] | None:
        """This request's plans: by document text, operation and ``@include``/``@skip`` values."""
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return None
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        if strawberry_schema is None or strawberry_schema.exception_handlers:
            return None
        loc = self.operation.loc
        if loc is None:
            return None
        if not cacheable(loc.source.body):  # planned for this request only
            return {}
        documents = self.cache.documents
        document_key = (loc.source.body, loc.start)
        document = documents.get(document_key)
        if document is None:
            document = _DocumentPlans(
                condition_variables=_condition_variables(
                    self.operation, self.fragment_definitions.values()
                )
            )
            if len(documents) >= MAX_DOCUMENTS:
                del documents[next(iter(documents))]
            documents[document_key] = document
        coerced = self.variable_values.coerced
        conditions = tuple(coerced.get(name) for name in document.condition_variables)
        try:
            plans = document.plans.get(conditions)
        except TypeError:  # an unhashable value: this request compiles without caching
            return {}
        if plans is None:
            if len(document.plans) >= MAX_PLANS_PER_DOCUMENT:
                document.plans.clear()
            plans = document.plans[conditions] = {}
        return plans

    def _compile(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Projection | None:
        stats = self.cache.stats
        try:
            projection = compile_projection(self, return_type, field_details_list)
        except Exception:  # not eligible, or e.g. a bad @include argument graphql-core reports
            stats.ineligible += 1
            return None
        stats.compiled += 1
        return projection


def fast_path_executor() -> type[FastPathExecutor]:
    """A :class:`FastPathExecutor` subclass with a plan cache and counters of its own.

    Give each schema its own: plans hold the schema's types.
    """
    return cast(
        "type[FastPathExecutor]",
        type("GatewayFastPathExecutor", (FastPathExecutor,), {"cache": _FastPathCache()}),
    )


def _condition_variables(
    operation: OperationDefinitionNode, fragments: Iterable[FragmentDefinitionNode]
) -> tuple[str, ...]:
    """The variables that ``@include``/``@skip`` read anywhere in the operation or fragments."""
    names: set[str] = set()

    def visit(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            _directive_variables(selection.directives, names)
            # Spreads are not followed: every fragment definition is visited below.
            if isinstance(selection, FieldNode | InlineFragmentNode):
                visit(selection.selection_set)

    visit(operation.selection_set)
    for fragment in fragments:
        visit(fragment.selection_set)
    return tuple(sorted(names))


def _directive_variables(directives: Any, names: set[str]) -> None:
    for directive in cast("tuple[DirectiveNode, ...]", directives or ()):
        if directive.name.value in ("include", "skip"):
            for argument in directive.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)

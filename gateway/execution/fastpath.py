"""A compiled fast path for completing resolved values, byte-for-byte equal to graphql-core's.

graphql-core completes a resolved value field by field: for every field of every object it builds
a resolve info, calls Strawberry's resolver wrapper, and walks ``complete_value``. For a page of
100 interviews with all fields that is ~90,000 Python calls, about 20 ms, while the objects are
plain frozen dataclasses (:mod:`gateway.kombo.models`) whose attributes *are* the answers.

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
:class:`ProjectionMiss`, and the executor completes that same value with graphql-core's own
``complete_value``, whose recursion comes back here for each child value. Projections are pure
(attribute reads, scalar serializers, argument-less sync resolvers such as the edge cursor), so
abandoning one half-way has no effect, and the result, its errors, their order and the null
bubbling are graphql-core's by construction.

Eligible selections (checked when compiling; anything else is completed by graphql-core):

- object types with a known Python class (:data:`PROJECTED_CLASSES`: the Kombo models and the
  connection types), and interfaces whose possible types are such objects (``Node``);
- fields that are plain attributes (Strawberry's default resolver), synchronous resolvers that
  take nothing but ``self`` (``Application.outcome``, ``InterviewEdge.cursor``,
  ``InterviewConnection.nodes``), and ``__typename``;
- no field arguments (``Job.interviews`` is async with arguments: graphql-core resolves it, and
  the connection it returns is projected again), no ``@defer``, no fragment arguments,
  no resolver middleware in the schema (a middleware must see every field), no exception
  handlers in the schema.

Values of nullable types are projected; graphql-core completes a non-null type by completing its
nullable type (which comes back here) and checking the result itself. A synchronous resolver
added to a projected type must stay pure and cheap: a projection that misses runs again.

``@include``/``@skip`` are honoured by compiling with graphql-core's own field collection; a
plan is cached per document text, operation and the values of the variables those directives
read, so the same document with other condition values gets (and caches) its own plan. A
document too large to cache (:func:`gateway.execution.document_cache.cacheable`) is planned for its
request only.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_subfields
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
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from gateway.execution.document_cache import cacheable
from gateway.kombo import models
from gateway.schema import connection

__all__ = [
    "PROJECTED_CLASSES",
    "FastPathExecutor",
    "FastPathStats",
    "ProjectionMiss",
    "fast_path_executor",
]

Projection = Callable[[Any], Any]
"""A compiled projection: a resolved value in, its completed response value out."""

PROJECTED_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        models.Interview,
        models.Location,
        models.User,
        models.Application,
        models.Candidate,
        models.EmailAddress,
        models.Job,
        connection.InterviewConnection,
        connection.InterviewEdge,
        connection.PageInfo,
    )
}
"""GraphQL object type name → the one Python class a projection accepts for it.

The GraphQL types read these objects' attributes (see :mod:`gateway.schema.types`); an object of
any other class is completed by graphql-core.
"""

MAX_DOCUMENTS = 512
"""Documents whose plans are kept (oldest dropped first); documents larger than
:data:`~gateway.execution.document_cache.MAX_CACHED_DOCUMENT_BYTES` never are."""

MAX_PLANS_PER_DOCUMENT = 32
"""Plans kept per document: one per combination of ``@include``/``@skip`` variable values."""

_BUILTIN_STR_SCALARS = (GraphQLString, GraphQLID)
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


class ProjectionMiss(Exception):
    """A projection met something off its happy path; graphql-core completes the value instead."""


class _Ineligible(Exception):
    """The selection uses something projections do not handle (raised while compiling)."""


@dataclass
class FastPathStats:
    """Counters of one schema's fast path, for tests and diagnostics."""

    projected: int = 0
    """Values completed by a projection."""
    fell_back: int = 0
    """Values a projection gave back to graphql-core (a :class:`ProjectionMiss` or an error)."""
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


class FastPathExecutor(StrawberryGraphQLCoreExecutionContext):
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
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    # --- plans --------------------------------------------------------------------------------

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
            projection = _Compiler(self).compile(return_type, field_details_list)
        except Exception:  # _Ineligible, or e.g. a bad @include argument graphql-core reports
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


# --- compiling ---------------------------------------------------------------------------------


class _Compiler:
    """Generates the Python source of one projection and executes it into a function.

    Every value is completed by statements that rebind one local variable, raising
    :class:`ProjectionMiss` whenever graphql-core might do anything but copy, serialize or
    descend; every object selection becomes a function returning its dict literal, with the keys
    in graphql-core's field collection order.
    """

    def __init__(self, executor: FastPathExecutor) -> None:
        self._executor = executor
        self._schema = executor.schema
        self._functions: list[str] = []
        self._namespace: dict[str, Any] = {"_Miss": ProjectionMiss, "_Undefined": Undefined}
        self._count = 0

    def compile(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Projection:
        body: list[str] = []
        self._value("v", return_type, field_details_list, body, 1)
        entry = self._function("_project", "v", [*body, "    return v"])
        source = "\n\n".join(self._functions)
        code = compile(source, f"<fast path for {return_type}>", "exec")
        exec(code, self._namespace)
        projection = cast("Projection", self._namespace[entry])
        projection.__doc__ = source
        return projection

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _constant(self, prefix: str, value: Any) -> str:
        name = self._name(prefix)
        self._namespace[name] = value
        return name

    def _function(self, prefix: str, parameter: str, body: list[str]) -> str:
        name = self._name(prefix)
        self._functions.append(f"def {name}({parameter}):\n" + "\n".join(body))
        return name

    def _value(
        self,
        var: str,
        type_: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        out: list[str],
        depth: int,
    ) -> None:
        """Statements completing ``var`` (already read) as a value of ``type_``.

        A class test rejects None by itself (``None.__class__`` is no model, ``str`` or ``list``),
        so non-null types cost no separate None check where one is made.
        """
        pad = "    " * depth
        non_null = is_non_null_type(type_)
        inner = cast("GraphQLOutputType", type_.of_type if non_null else type_)  # type: ignore[union-attr]
        if inner in _BUILTIN_STR_SCALARS or inner is GraphQLBoolean:
            test = f"{var}.__class__ is not {'bool' if inner is GraphQLBoolean else 'str'}"
            nullable = "" if non_null else f" and {var} is not None"
            out.append(f"{pad}if {test}{nullable}: raise _Miss")
            return
        if is_object_type(inner) or is_list_type(inner) or is_abstract_type(inner):
            if not non_null:
                out.append(f"{pad}if {var} is not None:")
                depth += 1
            self._present(var, inner, field_details_list, out, depth)
            return
        if non_null:
            out.append(f"{pad}if {var} is None: raise _Miss")
        else:
            out.append(f"{pad}if {var} is not None:")
            depth += 1
        self._present(var, inner, field_details_list, out, depth)

    def _present(
        self,
        var: str,
        type_: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        out: list[str],
        depth: int,
    ) -> None:
        """Statements completing ``var`` as a value of the nullable ``type_``; leaves and enums
        get ``var`` known not to be None, composites check for themselves."""
        pad = "    " * depth
        if is_list_type(type_):
            out.append(
                f"{pad}if {var}.__class__ is not tuple and {var}.__class__ is not list: raise _Miss"
            )
            item = self._item(type_.of_type, field_details_list)  # type: ignore[union-attr]
            out.append(f"{pad}{var} = [{item} for x in {var}]")
        elif isinstance(type_, GraphQLEnumType):
            names = self._constant("_enum", _enum_names(type_))
            out.append(f"{pad}{var} = {names}[{var}]")
        elif isinstance(type_, GraphQLScalarType):
            serialize = self._constant("_serialize", type_.coerce_output_value)
            out.append(f"{pad}{var} = {serialize}({var})")
            out.append(f"{pad}if {var} is None or {var} is _Undefined: raise _Miss")
        elif is_object_type(type_):
            function = self._object(cast("GraphQLObjectType", type_), field_details_list)
            out.append(f"{pad}{var} = {function}({var})")
        elif is_abstract_type(type_):
            self._abstract(var, cast("GraphQLInterfaceType", type_), field_details_list, out, pad)
        else:  # pragma: no cover - every output type is one of the above
            raise _Ineligible(f"unexpected output type {type_}")

    def _item(self, type_: GraphQLOutputType, field_details_list: FieldDetailsList) -> str:
        """The expression completing one list item ``x``."""
        non_null = is_non_null_type(type_)
        inner = type_.of_type if non_null else type_  # type: ignore[union-attr]
        if is_object_type(inner):
            # The object's class guard rejects None: a null item misses, as non-null requires.
            function = self._object(cast("GraphQLObjectType", inner), field_details_list)
            return f"{function}(x)" if non_null else f"None if x is None else {function}(x)"
        body: list[str] = []
        self._value("x", type_, field_details_list, body, 1)
        return self._function("_item", "x", [*body, "    return x"]) + "(x)"

    def _abstract(
        self,
        var: str,
        type_: GraphQLInterfaceType,
        field_details_list: FieldDetailsList,
        out: list[str],
        pad: str,
    ) -> None:
        # graphql-core asks the interface's resolve_type, which for these objects ends in the
        # possible type whose is_type_of accepts the object: the type of the same name.
        keyword_ = "if"
        for possible in self._schema.get_possible_types(type_):
            cls = PROJECTED_CLASSES.get(possible.name)
            if cls is None:
                raise _Ineligible(f"{possible.name} has no projected class")
            guard = self._constant("_class", cls)
            function = self._object(possible, field_details_list)
            out.append(f"{pad}{keyword_} {var}.__class__ is {guard}: {var} = {function}({var})")
            keyword_ = "elif"
        out.append(f"{pad}else: raise _Miss")

    def _object(self, type_: GraphQLObjectType, field_details_list: FieldDetailsList) -> str:
        """A function completing one object of ``type_`` with the sub-selection of the group."""
        cls = PROJECTED_CLASSES.get(type_.name)
        if cls is None:
            raise _Ineligible(f"{type_.name} has no projected class")
        executor = self._executor
        grouped, defer_usages, forbidden = collect_subfields(
            self._schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            type_,
            field_details_list,
            executor.hide_suggestions,
        )
        if defer_usages or forbidden:
            raise _Ineligible("@defer")
        guard = self._constant("_class", cls)
        body = [f"    if o.__class__ is not {guard}: raise _Miss"]
        entries: list[str] = []
        for index, (response_name, group) in enumerate(grouped.items()):
            if any(d.defer_usage is not None or d.fragment_variable_values for d in group):
                raise _Ineligible("@defer or fragment arguments")
            node = group[0].node
            field_name = node.name.value
            if field_name == "__typename":
                entries.append(f"{response_name!r}: {type_.name!r}")
                continue
            var = f"v{index}"
            body.append(f"    {var} = {self._read(type_, field_name, node)}")
            self._value(var, type_.fields[field_name].type, group, body, 1)
            entries.append(f"{response_name!r}: {var}")
        body.append("    return {" + ", ".join(entries) + "}")
        return self._function(f"_{type_.name}_", "o", body)

    def _read(self, type_: GraphQLObjectType, field_name: str, node: FieldNode) -> str:
        """The expression Strawberry's resolver for this field amounts to, reading from ``o``."""
        definition = type_.fields.get(field_name)
        if definition is None:
            raise _Ineligible(f"unknown field {type_.name}.{field_name}")
        if definition.args or node.arguments:
            raise _Ineligible(f"{type_.name}.{field_name} takes arguments")
        strawberry_field = definition.extensions.get(_BACKREF)
        if not isinstance(strawberry_field, StrawberryField):
            raise _Ineligible(f"{type_.name}.{field_name} is not a Strawberry field")
        if getattr(definition.resolve, "_is_default", False):
            # Strawberry's resolver for a basic field: default_resolver(source, python_name).
            name = strawberry_field.python_name
            if strawberry_field.default_resolver is not getattr:
                raise _Ineligible("a custom default resolver")
            if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
                return f"o.{name}"
            return f"getattr(o, {name!r})"
        resolver = strawberry_field.base_resolver
        if (
            resolver is None
            or strawberry_field.extensions
            or strawberry_field.is_async
            or strawberry_field.arguments
            or resolver.info_parameter is not None
            or resolver.root_parameter is not None
            or resolver.parent_parameter is not None
        ):
            raise _Ineligible(f"{type_.name}.{field_name} needs its resolver")
        # What Strawberry calls for a resolver without arguments: the function, given the source
        # as ``self`` when it asks for it.
        function = self._constant("_resolver", resolver.wrapped_func)
        return f"{function}(o)" if resolver.self_parameter is not None else f"{function}()"


def _enum_names(type_: GraphQLEnumType) -> dict[Any, Any]:
    """Every runtime value the enum serializes, mapped to what ``coerce_output_value`` gives."""
    values: list[Any] = [value.value for value in type_.values.values()]
    wrapped = getattr(type_, "wrapped_cls", None)  # Strawberry's enums also take their members
    if wrapped is not None:
        values.extend(wrapped)
    names: dict[Any, Any] = {}
    for value in values:
        try:
            names[value] = type_.coerce_output_value(value)
        except Exception:
            continue
    return names


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

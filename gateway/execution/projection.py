"""Compiling a selection into a projection: the generated function the fast path runs.

A projection completes a resolved value as graphql-core would, in one pass over the model's
attributes (:mod:`gateway.execution.fastpath` runs them and falls back to graphql-core when one
raises :class:`ProjectionMiss`).

Eligible selections (checked when compiling; anything else is completed by graphql-core):

- object types with known Python classes (:data:`PROJECTED_CLASSES`: the record classes of
  :mod:`gateway.kombo.records` and the connection types), and interfaces and unions whose possible
  types are such objects (``Node``, ``ScreeningQuestionAnswer``);
- record fields (resolvers carrying ``record_read``, :mod:`gateway.schema.fields`): the key is
  read from the record's dict, and a partial record lacking it misses (graphql-core completes
  it through the resolver); plain attributes (Strawberry's default resolver); synchronous
  resolvers that take nothing but ``self`` (``<Type>Edge.cursor``, ``<Type>Connection.nodes``);
  and ``__typename``;
- no field arguments (``Job.interviews`` is async with arguments: graphql-core resolves it, and
  the connection it returns is projected again), no ``@defer``, no fragment arguments,
  no resolver middleware in the schema (a middleware must see every field), no exception
  handlers in the schema.

Values of nullable types are projected; graphql-core completes a non-null type by completing its
nullable type (which comes back to the fast path) and checking the result itself. A synchronous
resolver added to a projected type must stay pure and cheap: a projection that misses runs again.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
    is_abstract_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_subfields
from graphql.language import FieldNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from gateway.kombo import RECORDS
from gateway.kombo.catalog import (
    CATALOG,
    EnumShape,
    ListShape,
    ObjectShape,
    Scalar,
    Shape,
    UnionShape,
)
from gateway.kombo.instants import normalize
from gateway.kombo.parsing import fields_read
from gateway.schema.connection import PageInfo
from gateway.schema.graph import CONNECTION_CLASSES, EDGE_CLASSES
from gateway.schema.ids import global_id

__all__ = ["PROJECTED_CLASSES", "Projection", "ProjectionMiss", "compile_projection"]

Projection = Callable[[Any], Any]
"""A compiled projection: a resolved value in, its completed response value out."""

PROJECTED_CLASSES: dict[str, tuple[type, ...]] = {
    **{name: RECORDS.classes_of(name) for name in RECORDS.whole},
    **{cls.__name__: (cls,) for cls in (*CONNECTION_CLASSES, *EDGE_CLASSES, PageInfo)},
}
"""GraphQL object type name → the Python classes a projection accepts for it (a model's whole
and partial records); an object of any other class is completed by graphql-core."""

_BUILTIN_STR_SCALARS = (GraphQLString, GraphQLID)
_MODELS = frozenset(model.name for model in CATALOG)
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def _unwrap(type_: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    """Whether ``type_`` is non-null, and the type it wraps (``type_`` itself when nullable)."""
    if is_non_null_type(type_):
        return True, cast("GraphQLOutputType", type_.of_type)  # type: ignore[union-attr]
    return False, type_


def _class_check(var: str, inner: GraphQLOutputType, non_null: bool) -> str | None:
    """For String, ID and Boolean, the statement missing unless ``var`` is already its answer
    (a ``str`` or ``bool``, or None where nullable); None for every other type."""
    if inner not in _BUILTIN_STR_SCALARS and inner is not GraphQLBoolean:
        return None
    test = f"{var}.__class__ is not {'bool' if inner is GraphQLBoolean else 'str'}"
    nullable = "" if non_null else f" and {var} is not None"
    return f"if {test}{nullable}: raise _Miss"


class ProjectionMiss(Exception):
    """A projection met something off its happy path; graphql-core completes the value instead."""


def _miss() -> Any:
    raise ProjectionMiss


class _Ineligible(Exception):
    """The selection uses something projections do not handle (raised while compiling)."""


def compile_projection(
    executor: StrawberryGraphQLCoreExecutionContext,
    return_type: GraphQLOutputType,
    field_details_list: FieldDetailsList,
) -> Projection:
    """The projection completing values of ``return_type`` with this field group's selection, as
    ``executor`` (its schema, fragments and variables) would; raises when it is not eligible."""
    return _Compiler(executor).compile(return_type, field_details_list)


class _Compiler:
    """Generates the Python source of one projection and executes it into a function.

    Every value is completed by statements that rebind one local variable, raising
    :class:`ProjectionMiss` whenever graphql-core might do anything but copy, serialize or
    descend; every object selection becomes a function returning its dict literal, with the keys
    in graphql-core's field collection order.
    """

    def __init__(self, executor: StrawberryGraphQLCoreExecutionContext) -> None:
        self._executor = executor
        self._schema = executor.schema
        self._functions: list[str] = []
        self._namespace: dict[str, Any] = {
            "_Miss": ProjectionMiss,
            "_Undefined": Undefined,
            "_miss": _miss,
        }
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
        non_null, inner = _unwrap(type_)
        check = _class_check(var, inner, non_null)
        if check is not None:
            out.append(pad + check)
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
            function = self._record(cast("GraphQLObjectType", type_), field_details_list)
            out.append(f"{pad}{var} = {function}({var})")
        elif is_abstract_type(type_):
            self._abstract(var, cast("GraphQLInterfaceType", type_), field_details_list, out, pad)
        else:  # pragma: no cover - every output type is one of the above
            raise _Ineligible(f"unexpected output type {type_}")

    def _item(self, type_: GraphQLOutputType, field_details_list: FieldDetailsList) -> str:
        """The expression completing one list item ``x``."""
        non_null, inner = _unwrap(type_)
        if is_object_type(inner):
            # The object's class guard rejects None: a null item misses, as non-null requires.
            function = self._record(cast("GraphQLObjectType", inner), field_details_list)
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
            classes = PROJECTED_CLASSES.get(possible.name)
            if classes is None:
                raise _Ineligible(f"{possible.name} has no projected class")
            function = self._object(possible, field_details_list)
            for cls in classes:
                guard = self._constant("_class", cls)
                out.append(f"{pad}{keyword_} {var}.__class__ is {guard}: {var} = {function}({var})")
                keyword_ = "elif"
        out.append(f"{pad}else: raise _Miss")

    def _subfields(
        self, type_: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> dict[str, FieldDetailsList]:
        """The group's sub-selection on ``type_``, collected as graphql-core collects it."""
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
        for group in grouped.values():
            if any(d.defer_usage is not None or d.fragment_variable_values for d in group):
                raise _Ineligible("@defer or fragment arguments")
        return cast("dict[str, FieldDetailsList]", grouped)

    def _object(self, type_: GraphQLObjectType, field_details_list: FieldDetailsList) -> str:
        """A function completing one object of ``type_`` with the sub-selection of the group."""
        classes = PROJECTED_CLASSES.get(type_.name)
        if classes is None:
            raise _Ineligible(f"{type_.name} has no projected class")
        grouped = self._subfields(type_, field_details_list)
        guards = [self._constant("_class", cls) for cls in classes]
        test = " and ".join(f"o.__class__ is not {guard}" for guard in guards)
        body = [f"    if {test}: raise _Miss"]
        entries: list[str] = []
        for index, (response_name, group) in enumerate(grouped.items()):
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

    def _record(self, type_: GraphQLObjectType, field_details_list: FieldDetailsList) -> str:
        """A function completing one object of ``type_``; for a model's type, one that also takes
        Kombo's decoded JSON of a whole record (a plain ``dict``: a page's item, issue 12)."""
        function = self._object(type_, field_details_list)
        if type_.name not in _MODELS:
            return function
        try:
            raw = self._raw_object(type_, CATALOG[type_.name].shape, False, field_details_list)
        except _Ineligible:
            raw = "_miss"
        return self._function(
            f"_{type_.name}_either_",
            "o",
            [f"    return {raw}(o) if o.__class__ is dict else {function}(o)"],
        )

    # -- Kombo's JSON, as decoded (issue 12) -------------------------------------------------
    # A page's items are Kombo's decoded objects when reading them as records could change
    # nothing structural (:func:`gateway.kombo.parsing.parse_page`). These functions complete
    # such an object in one pass, reading each value as Kombo sent it, and miss whenever a value
    # is not already what reading it would give (a number where text is promised, a date-time
    # to normalize that is none, an unknown enum value): the fast path then completes the
    # parsed record (:class:`~gateway.execution.fastpath.FastPathExecutor`).

    def _raw_object(
        self,
        type_: GraphQLObjectType,
        shape: ObjectShape,
        inline: bool,
        field_details_list: FieldDetailsList,
    ) -> str:
        """A function completing a plain object of ``shape`` (its keys :func:`fields_read`) as
        ``type_`` with the group's sub-selection. An inline record whose id its holder carries
        (``shape.id_from``: an offer's ``application`` by ``application_id``) gets that id as
        a second argument ``i``, as reading it does."""
        parameters = "o, i" if shape.id_from is not None else "o"
        grouped = self._subfields(type_, field_details_list)
        keys = {f.name: f for f in fields_read(shape, inline)}
        body = ["    if o.__class__ is not dict: raise _Miss"]
        entries: list[str] = []
        for index, (response_name, group) in enumerate(grouped.items()):
            node = group[0].node
            field_name = node.name.value
            if field_name == "__typename":
                entries.append(f"{response_name!r}: {type_.name!r}")
                continue
            definition, strawberry_field = _definition(type_, field_name, node)
            record_read = _record_read(strawberry_field)
            if record_read is None:
                raise _Ineligible(f"{type_.name}.{field_name} needs its resolver")
            how, what = record_read
            key = what if how == "key" else "id"  # the global id is made of the Kombo id
            var = f"v{index}"
            entries.append(f"{response_name!r}: {var}")
            key_field = keys.get(key)
            if key_field is not None:
                # A key the spec requires is read by subscript (a third of ``get``'s cost; a
                # missing one raises, and the projection misses), the others by ``get``.
                access = f"o[{key!r}]" if key_field.required else f"o.get({key!r})"
                body.append(f"    {var} = {access}")
            elif key == "id" and shape.id_from is not None:
                body.append(f"    {var} = i")  # the holder's, checked there
            else:  # not inlined here: the record is completed upstream
                return self._function(f"_{type_.name}_raw_", parameters, ["    raise _Miss"])
            if how != "key":
                if key_field is not None:
                    body.append(f"    if {var}.__class__ is not str: raise _Miss")
                body.append(f"    {var} = {self._global_id(what, var)}")
            elif key_field is None:  # ``komboId`` of a record its holder identifies
                continue
            elif isinstance(key_field.shape, ObjectShape) and key_field.shape.id_from:
                self._raw_identified(var, definition.type, key_field.shape, group, body)
            else:
                self._raw_value(var, definition.type, key_field.shape, group, body, 1)
        body.append("    return {" + ", ".join(entries) + "}")
        return self._function(f"_{type_.name}_raw_", parameters, body)

    def _raw_identified(
        self,
        var: str,
        type_: GraphQLOutputType,
        shape: ObjectShape,
        field_details_list: FieldDetailsList,
        out: list[str],
    ) -> None:
        """An inline record identified by its holder's ``shape.id_from`` key: reading it takes
        that id (a non-empty string; else the record reads as null, which is left to
        graphql-core)."""
        non_null, inner = _unwrap(type_)
        if not is_object_type(inner):
            raise _Ineligible(f"{inner} from a {shape}")
        function = self._raw_object(
            cast("GraphQLObjectType", inner), shape, True, field_details_list
        )
        out.append(f"    if {var} is None:")
        out.append("        raise _Miss" if non_null else "        pass")
        out.append("    else:")
        out.append(f"        i = o.get({shape.id_from!r})")
        out.append("        if i.__class__ is not str or not i: raise _Miss")
        out.append(f"        {var} = {function}({var}, i)")

    def _raw_value(
        self,
        var: str,
        type_: GraphQLOutputType,
        shape: Shape,
        field_details_list: FieldDetailsList,
        out: list[str],
        depth: int,
    ) -> None:
        """Statements completing ``var``, a value Kombo sent for ``shape``, as ``type_``."""
        pad = "    " * depth
        non_null, inner = _unwrap(type_)
        check = _class_check(var, inner, non_null)
        if check is not None:
            # What reading keeps as it is; anything else it converts (numbers to text) or drops.
            out.append(pad + check)
            return
        if non_null:
            out.append(f"{pad}if {var} is None: raise _Miss")
        if (
            isinstance(inner, GraphQLScalarType)
            and not (isinstance(shape, Scalar) and shape.kind == "DateTime")
            and inner not in (GraphQLInt, GraphQLFloat)
            and _passes_through(inner, object())
        ):
            return  # JSON: Kombo's value is the answer
        if not non_null:
            out.append(f"{pad}if {var} is not None:")
            depth += 1
            pad = "    " * depth
        if inner is GraphQLInt or inner is GraphQLFloat:
            kind = "int" if inner is GraphQLInt else "float"
            out.append(f"{pad}if {var}.__class__ is not {kind}: raise _Miss")
        elif isinstance(inner, GraphQLScalarType):
            if isinstance(shape, Scalar) and shape.kind == "DateTime":
                # The contract's answer string, once per distinct upstream string.
                normalize_ = self._constant("_normalize", normalize)
                out.append(f"{pad}{var} = {normalize_}({var})")
                out.append(f"{pad}if {var} is None: raise _Miss")
                if _passes_through(inner, _INSTANT):
                    return
            serialize = self._constant("_serialize", inner.coerce_output_value)
            out.append(f"{pad}{var} = {serialize}({var})")
            out.append(f"{pad}if {var} is None or {var} is _Undefined: raise _Miss")
        elif isinstance(inner, GraphQLEnumType):
            if not isinstance(shape, EnumShape):
                raise _Ineligible(f"{inner.name} from a {shape}")
            names = self._constant("_enum", _enum_names(inner))
            out.append(f"{pad}{var} = {names}[{var}]")
        elif is_list_type(inner):
            if not isinstance(shape, ListShape):
                raise _Ineligible(f"{inner} from a {shape}")
            out.append(f"{pad}if {var}.__class__ is not list: raise _Miss")
            item_type = inner.of_type  # type: ignore[union-attr]
            item_non_null, item_inner = _unwrap(item_type)
            item_shape = shape.item
            if (
                is_object_type(item_inner)
                and isinstance(item_shape, ObjectShape)
                and item_shape.id_from is None
            ):
                # Called directly, as for records: the object's class guard rejects None.
                function = self._raw_object(
                    cast("GraphQLObjectType", item_inner), item_shape, True, field_details_list
                )
                item = f"{function}(x)"
                if not item_non_null:
                    item = f"None if x is None else {item}"
            else:
                body: list[str] = []
                self._raw_value("x", item_type, shape.item, field_details_list, body, 1)
                item = self._function("_raw_item", "x", [*body, "    return x"]) + "(x)"
            out.append(f"{pad}{var} = [{item} for x in {var}]")
        elif is_object_type(inner):
            if not isinstance(shape, ObjectShape):
                raise _Ineligible(f"{inner} from a {shape}")
            function = self._raw_object(
                cast("GraphQLObjectType", inner), shape, True, field_details_list
            )
            out.append(f"{pad}{var} = {function}({var})")
        elif is_abstract_type(inner) and isinstance(shape, UnionShape):
            self._raw_union(var, shape, field_details_list, out, pad)
        else:
            raise _Ineligible(f"{inner} from a {shape}")

    def _raw_union(
        self,
        var: str,
        shape: UnionShape,
        field_details_list: FieldDetailsList,
        out: list[str],
        pad: str,
    ) -> None:
        """A union's member chosen by its discriminator, as reading it does."""
        first = shape.members[0].discriminator
        assert first is not None
        outer, _, inner = first[0].partition(".")
        out.append(f"{pad}if {var}.__class__ is not dict: raise _Miss")
        out.append(f"{pad}t = {var}.get({outer!r})")
        if inner:
            out.append(f"{pad}t = t.get({inner!r}) if t.__class__ is dict else None")
        keyword_ = "if"
        for member in shape.members:
            assert member.discriminator is not None
            member_type = self._schema.get_type(member.name)
            if not is_object_type(member_type):
                raise _Ineligible(f"{member.name} is no object type")
            function = self._raw_object(
                cast("GraphQLObjectType", member_type), member, False, field_details_list
            )
            out.append(
                f"{pad}{keyword_} t == {member.discriminator[1]!r}: {var} = {function}({var})"
            )
            keyword_ = "elif"
        out.append(f"{pad}else: raise _Miss")

    def _global_id(self, type_name: str, var: str) -> str:
        """The expression of ``global_id(type_name, var)``: Kombo's ids (ASCII letters and
        digits) need no percent-encoding, so the prefix is joined to them directly."""
        gid = self._constant("_gid", global_id)
        prefix = self._constant("_prefix", global_id(type_name, ""))
        return (
            f"{prefix} + {var} if {var}.__class__ is str and {var}.isalnum() and {var}.isascii()"
            f" else {gid}({type_name!r}, {var})"
        )

    def _read(self, type_: GraphQLObjectType, field_name: str, node: FieldNode) -> str:
        """The expression Strawberry's resolver for this field amounts to, reading from ``o``."""
        definition, strawberry_field = _definition(type_, field_name, node)
        resolver = strawberry_field.base_resolver
        record_read = _record_read(strawberry_field)
        if record_read is not None:
            how, what = record_read
            if how == "key":
                # A whole record has every key; a partial one lacking it is completed upstream.
                return f"(o[{what!r}] if {what!r} in o else _miss())"
            function = self._function("_gid_of_", "i", [f"    return {self._global_id(what, 'i')}"])
            return f"{function}(o['id'])"
        if getattr(definition.resolve, "_is_default", False):
            # Strawberry's resolver for a basic field: default_resolver(source, python_name).
            name = strawberry_field.python_name
            if strawberry_field.default_resolver is not getattr:
                raise _Ineligible("a custom default resolver")
            if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
                return f"o.{name}"
            return f"getattr(o, {name!r})"
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


def _definition(
    type_: GraphQLObjectType, field_name: str, node: FieldNode
) -> tuple[GraphQLField, StrawberryField]:
    """The field's definition and its Strawberry field; a field with arguments is ineligible."""
    definition = type_.fields.get(field_name)
    if definition is None:
        raise _Ineligible(f"unknown field {type_.name}.{field_name}")
    if definition.args or node.arguments:
        raise _Ineligible(f"{type_.name}.{field_name} takes arguments")
    strawberry_field = definition.extensions.get(_BACKREF)
    if not isinstance(strawberry_field, StrawberryField):
        raise _Ineligible(f"{type_.name}.{field_name} is not a Strawberry field")
    return definition, strawberry_field


def _record_read(strawberry_field: StrawberryField) -> tuple[str, str] | None:
    """What the field's resolver reads of a record (:mod:`gateway.schema.fields`), when that is
    all it does: ``("key", kombo_key)`` or ``("global_id", type_name)``."""
    resolver = strawberry_field.base_resolver
    record_read = getattr(resolver.wrapped_func, "record_read", None) if resolver else None
    if record_read is None or strawberry_field.extensions:
        return None
    return cast("tuple[str, str]", record_read)


_INSTANT = normalize("2023-06-26T14:30:00.000Z")


def _passes_through(type_: GraphQLScalarType, value: Any) -> bool:
    """Whether the scalar answers ``value`` (and so every value of its kind) as it is."""
    try:
        return type_.coerce_output_value(value) is value
    except Exception:
        return False


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

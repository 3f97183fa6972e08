"""The fast path answers exactly as graphql-core does: the same bytes, errors included.

Hypothesis writes documents over the real schema (every root connection and lookup, random
subsets of fields at every level of every type, unions, repeated fields, aliases, named and inline
fragments with type conditions, ``__typename``, ``@include``/``@skip`` with literals and
variables, nested connections such as ``Job.interviews``, inline records completed through the
loaders, id lookups with known, unknown, global, bare and invalid ids, bad ``first`` and cursors)
and upstream data: records of every model parsed from varied JSON written by the catalog's
shapes (nulls, also where the spec promises none, unicode, JSON values, datetimes in several
offsets, unknown enum values, union members), and now and then a value of the wrong type set on a
parsed record, to force coercions, refusals and null bubbling. A fake Kombo
client answers from that data, deterministically, failing where the example says (upstream
errors, unavailability). Each document runs through the schema with the fast path on and off,
and the two responses must be byte-for-byte equal.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bench.scenarios import INTERVIEW_ALL_FIELDS
from gateway.execution import executable_schema
from gateway.kombo import (
    KomboAPIError,
    KomboTimeout,
    KomboUnavailable,
    ListQuery,
)
from gateway.kombo.catalog import (
    CATALOG,
    Model,
)
from gateway.kombo.parsing import parse_record
from gateway.schema.cursors import END, EdgeCursor, Position
from gateway.schema.ids import global_id
from tests.support.fake_kombo import (
    CURSOR_KEY,
    INTEGRATION,
    FakeKombo,
    Faults,
    KomboJson,
    execute,
)
from tests.support.kombo_json import (
    INTERVIEWS,
    MODELS,
    RECORDS_PER_MODEL,
    WRONG_VALUES,
    pool,
    raw_object,
    sometimes_wrong,
)

# --- payloads ----------------------------------------------------------------------------------


@st.composite
def records(draw: st.DrawFn, model: Model, index: int) -> Any:
    """One record of ``model`` from varied JSON; now and then a wrong value set after parsing, or
    (for interviews) no record at all but a plain dict, which the type check refuses."""
    own_id = pool(model.name)[index]
    raw = draw(raw_object(model.shape, 0, own_id))
    if draw(st.integers(0, 7)) != 0:
        # Served as the client serves it: Kombo's JSON projected as it is, or its record.
        served: Any = KomboJson(model.name, raw)
    else:
        served = record = parse_record(model, raw)
        key = draw(st.sampled_from(sorted(record)))
        record[key] = draw(st.sampled_from(WRONG_VALUES))
        record["id"] = own_id
    if model is INTERVIEWS:
        return draw(sometimes_wrong(st.just(served), Foreign(id=own_id)))
    return served


class Foreign(dict[str, Any]):
    """An object that is neither a record nor Kombo's decoded JSON: graphql-core refuses it."""


ERRORS = st.sampled_from(
    [
        KomboAPIError(
            status=403,
            code="INTEGRATION.MODEL_NOT_AVAILABLE",
            title="Model not available",
            message="This model is not available for this integration.",
            log_url="https://app.kombo.dev/logs/1",
        ),
        KomboAPIError(status=500, code=None, title=None, message="Oops", log_url=None),
        KomboUnavailable("Kombo could not be reached"),
        KomboTimeout("Kombo did not answer in time"),
    ]
)
EVERY_ID = tuple(i for m in MODELS for i in pool(m.name))


@st.composite
def upstreams(draw: st.DrawFn, models: tuple[Model, ...] = MODELS) -> FakeKombo:
    items: list[Any] = []
    for model in models:
        count = draw(st.integers(0, RECORDS_PER_MODEL))
        items += [draw(records(model, i)) for i in range(count)]
    faults = Faults(
        ids=draw(st.frozensets(st.sampled_from(EVERY_ID), max_size=2)),
        jobs=draw(st.frozensets(st.sampled_from(pool("Job")), max_size=1)),
        cursors=draw(st.frozensets(st.sampled_from(["off:1", "off:2", "off:3"]), max_size=1)),
        error=draw(ERRORS),
    )
    return FakeKombo(tuple(items), faults)


# --- documents ---------------------------------------------------------------------------------


def _cursor(
    model: Model, upstream: str | None, skip: int, page_size: int, exhausted: bool = False
) -> str:
    position = END if exhausted else Position(upstream, skip)
    digest = ListQuery.of(model, {}).digest()
    return EdgeCursor(position, page_size, digest).encode(CURSOR_KEY, INTEGRATION)


def after_values(model: Model) -> tuple[str | None, ...]:
    return (
        None,
        "garbage",
        _cursor(model, None, 1, 2),
        _cursor(model, "off:2", 0, 2),
        _cursor(model, "off:3", 1, 3),
        _cursor(model, "bogus", 0, 2),
        _cursor(model, None, 0, 2, exhausted=True),
        # Another endpoint's cursor: its digest is not this one's.
        _cursor(CATALOG["Tag"] if model is INTERVIEWS else INTERVIEWS, None, 1, 2),
        EdgeCursor(Position(None, 1), 2, "other-digest").encode(CURSOR_KEY, INTEGRATION),
    )


AFTER_VALUES = {model.name: after_values(model) for model in MODELS}
FIRST_VALUES = (1, 2, 3, 5, 1, 2, 3, 0, 251, None)
BY_PLURAL = {model.plural: model for model in MODELS}
BY_SINGULAR = {model.singular: model for model in MODELS}
MODEL_NAMES = frozenset(model.name for model in MODELS)


def is_connection(parent: Any, name: str) -> bool:
    """A nested connection (``Job.interviews``), not a list of inline records
    (``Application.interviews``)."""
    named = get_named_type(parent.fields[name].type)
    return parent.name in MODEL_NAMES and named.name.endswith("Connection")


def lookup_ids(model: Model) -> tuple[str, ...]:
    """Ids a lookup of ``model`` is given: bare and global, known and unknown, and invalid ones."""
    ids = pool(model.name)
    other = CATALOG["Tag"] if model.name != "Tag" else INTERVIEWS
    return (
        *ids,
        *(global_id(model.name, i) for i in ids),
        global_id(model.name, "unknown"),
        global_id(other.name, pool(other.name)[0]),
        "unknown",
        "",
        "gid://kombo/Nothing/1",
    )


NODE_IDS = (
    *tuple(global_id(m.name, pool(m.name)[i]) for m in MODELS for i in (0, 3)),
    *pool("Interview")[:2],
    "unknown",
    "",
    "gid://kombo/Nothing/1",
)


def filters_of(model: Model) -> list[str]:
    """Filter literals of ``model``'s connection: ids (bare and global), lists matching nothing,
    booleans, and a job filter where the endpoint has one."""
    ids = pool(model.name)
    found = [
        f"{{ids: {json.dumps([ids[1], ids[3]])}}}",
        f"{{ids: {json.dumps([global_id(model.name, ids[0])])}, includeDeleted: true}}",
        "{ids: []}",
        '{ids: ["a,b"]}',
    ]
    if any(p.name == "job_ids" for p in model.params):
        jobs = pool("Job")
        found += [
            f"{{jobIds: {json.dumps([jobs[1]])}}}",
            f"{{jobIds: {json.dumps([jobs[1], jobs[3]])}, includeDeleted: true}}",
            "{jobIds: []}",
        ]
    return found


@dataclass
class DocumentWriter:
    """Writes one random valid operation over ``schema`` with ``draw``."""

    draw: st.DrawFn
    schema: GraphQLSchema
    max_depth: int = 9
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    reusable: dict[str, list[str]] = field(default_factory=dict)
    nested_connections: int = 1
    fragment_budget: int = 5
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def document(self) -> tuple[str, dict[str, Any]]:
        query = self.schema.query_type
        assert query is not None
        roots = self.draw(
            st.lists(
                st.sampled_from([*BY_PLURAL, *BY_SINGULAR, "node", "nodes", "__typename"]),
                min_size=1,
                max_size=3,
            )
        )
        selections = [self.root_field(query, name) for name in roots]
        definitions = ", ".join(f"${name}: {type_}" for name, (type_, _) in self.variables.items())
        header = f"query Differential({definitions})" if definitions else "query Differential"
        text = "\n".join([header + " { " + " ".join(selections) + " }", *self.fragments])
        values = {name: value for name, (_, value) in self.variables.items()}
        return text, values

    def alias(self) -> str:
        return f"a{next(self._counter)}"

    def variable(self, type_: str, value: Any) -> str:
        name = f"v{next(self._counter)}"
        self.variables[name] = (type_, value)
        return "$" + name

    def condition(self) -> str:
        """Usually none; else ``@include``/``@skip`` with a literal or a shared variable."""
        choice = self.draw(st.integers(0, 9))
        if choice < 6:
            return ""
        directive = self.draw(st.sampled_from(["include", "skip"]))
        if choice < 8:
            return f" @{directive}(if: {self.draw(st.sampled_from(['true', 'false']))})"
        name = self.draw(st.sampled_from(["c0", "c1"]))
        if name not in self.variables:
            self.variables[name] = ("Boolean!", self.draw(st.booleans()))
        return f" @{directive}(if: ${name})"

    def root_field(self, query: GraphQLObjectType, name: str) -> str:
        alias = f"{self.alias()}: " if name != "__typename" or self.draw(st.booleans()) else ""
        if name == "__typename":
            return f"{alias}__typename{self.condition()}"
        field_type = get_named_type(query.fields[name].type)
        args = self.root_arguments(name)
        return f"{alias}{name}{args}{self.condition()} {self.selection(field_type, 1)}"

    def root_arguments(self, name: str) -> str:
        if name in BY_PLURAL:
            return self.connection_arguments(BY_PLURAL[name], with_filter=True)
        if name in BY_SINGULAR or name == "node":
            ids = lookup_ids(BY_SINGULAR[name]) if name in BY_SINGULAR else NODE_IDS
            value = self.draw(st.sampled_from(ids))
            if self.draw(st.booleans()):
                return f"(id: {self.variable('ID!', value)})"
            return f"(id: {json.dumps(value)})"
        ids = self.draw(st.lists(st.sampled_from(NODE_IDS), max_size=4))
        return f"(ids: {json.dumps(ids)})"

    def connection_arguments(self, model: Model, with_filter: bool) -> str:
        args = []
        if self.draw(st.booleans()):
            first = self.draw(st.sampled_from(FIRST_VALUES))
            if self.draw(st.booleans()):
                args.append(f"first: {self.variable('Int', first)}")
            else:
                args.append(f"first: {json.dumps(first)}")
        if self.draw(st.integers(0, 3)) == 0:
            after = self.draw(st.sampled_from(AFTER_VALUES[model.name]))
            args.append(f"after: {self.variable('String', after)}")
        if with_filter and self.draw(st.integers(0, 3)) == 0:
            filters = self.draw(st.sampled_from(filters_of(model)))
            args.append(f"filter: {filters}")
        return f"({', '.join(args)})" if args else ""

    def selection(self, type_: Any, depth: int, prefix: str = "") -> str:
        """``{ … }`` for an object, interface or union type. ``prefix``: a union member's, on
        the aliases of its fields (members' fields of one name may differ in type)."""
        if isinstance(type_, GraphQLUnionType):
            return self.union_selection(type_, depth)
        names = list(type_.fields)
        if self.draw(st.integers(0, 4)) == 0:
            chosen = names
        else:
            chosen = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=5))
        nested = [n for n in names if is_connection(type_, n)]
        if nested and self.nested_connections and self.draw(st.booleans()):
            chosen.append(self.draw(st.sampled_from(nested)))
        # Inline records (partial, completed through the loaders) and references, often.
        records = [n for n in names if get_named_type(type_.fields[n].type).name in MODEL_NAMES]
        if records and self.draw(st.integers(0, 2)) == 0:
            chosen.append(self.draw(st.sampled_from(records)))
        items = [self.field(type_, name, depth, prefix) for name in chosen]
        if self.draw(st.integers(0, 3)) == 0:
            alias = f"{self.alias()}: " if self.draw(st.booleans()) else ""
            items.append(f"{alias}__typename{self.condition()}")
        for _ in range(self.draw(st.integers(0, 2))):
            if self.fragment_budget <= 0 or depth >= self.max_depth:
                break
            self.fragment_budget -= 1
            items.append(self.fragment(type_, depth, prefix))
        return "{ " + " ".join(self.draw(st.permutations(items))) + " }"

    def union_selection(self, type_: GraphQLUnionType, depth: int) -> str:
        """``__typename`` and inline fragments on some of the union's members."""
        members = self.draw(st.lists(st.sampled_from(type_.types), max_size=3, unique=True))
        items = ["__typename"] + [
            f"... on {member.name}{self.condition()} "
            f"{self.selection(member, depth, prefix=f'{member.name}_')}"
            for member in members
        ]
        return "{ " + " ".join(self.draw(st.permutations(items))) + " }"

    def fragment(self, type_: Any, depth: int, prefix: str = "") -> str:
        """An inline fragment or a named fragment's spread, valid where ``type_`` is."""
        conditions = [type_.name]
        if isinstance(type_, GraphQLObjectType):
            conditions += [interface.name for interface in type_.interfaces]
        elif isinstance(type_, GraphQLInterfaceType):
            conditions += [t.name for t in self.schema.get_possible_types(type_)]
        condition_name = self.draw(st.sampled_from(conditions))
        condition_type = self.schema.get_type(condition_name)
        kind = self.draw(st.sampled_from(["inline", "untyped", "named", "reuse"]))
        if kind == "reuse" and self.reusable.get(condition_name):
            name = self.draw(st.sampled_from(self.reusable[condition_name]))
            return f"...{name}{self.condition()}"
        if kind == "untyped":
            return f"...{self.condition()} {self.selection(type_, depth, prefix)}"
        # Fields of one name on two object types may differ in type (String vs String!), and
        # fragments on several types meet under an interface or union: each object type's
        # fields get aliases of their own.
        own = f"{condition_name}_" if isinstance(condition_type, GraphQLObjectType) else ""
        body = self.selection(condition_type, depth, own)
        if kind == "inline":
            return f"... on {condition_name}{self.condition()} {body}"
        name = f"F{next(self._counter)}"
        self.fragments.append(f"fragment {name} on {condition_name} {body}")
        self.reusable.setdefault(condition_name, []).append(name)
        return f"...{name}{self.condition()}"

    def field(self, parent: Any, name: str, depth: int, prefix: str = "") -> str:
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        alias = f"{self.alias()}: " if self.draw(st.integers(0, 3)) == 0 else ""
        if prefix:
            alias = f"{prefix}{name}: "
        if is_connection(parent, name):
            if self.nested_connections <= 0 or depth >= self.max_depth - 3:
                return f"{alias}id"
            self.nested_connections -= 1
            # Fields with arguments always get their own alias: no merge conflicts.
            args = self.connection_arguments(BY_PLURAL[name], with_filter=self.draw(st.booleans()))
            return (
                f"{self.alias()}: {name}{args}{self.condition()} {self.selection(named, depth + 1)}"
            )
        if is_leaf_type(named):
            return f"{alias}{name}{self.condition()}"
        if depth >= self.max_depth:
            return f"{alias}{name}{self.condition()} {{ __typename }}"
        return f"{alias}{name}{self.condition()} {self.selection(named, depth + 1)}"


FAST = executable_schema(fast_path=True)
SLOW = executable_schema(fast_path=False)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    return DocumentWriter(draw, FAST._schema).document()


@pytest.fixture(scope="module", autouse=True)
def quiet_error_log() -> Iterator[None]:
    """Masked errors are logged with their traceback; thousands of them are only noise here."""
    logger = logging.getLogger("gateway.errors")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def assert_same_response(
    document: str, variables: dict[str, Any], upstream: Callable[[], FakeKombo]
) -> str:
    assert validate(FAST._schema, parse(document)) == [], document
    fast = execute(FAST, document, variables, upstream())
    slow = execute(SLOW, document, variables, upstream())
    assert fast == slow
    return fast


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(document=documents(), upstream=upstreams())
def test_fast_path_answers_exactly_as_graphql_core(
    document: tuple[str, dict[str, Any]], upstream: FakeKombo
) -> None:
    text, variables = document
    note(text)
    note(json.dumps(variables))
    response = assert_same_response(text, variables, lambda: replace(upstream, calls=[]))
    note(response)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(upstream=upstreams(), first=st.integers(1, 8))
def test_every_field_of_a_page_answers_exactly_as_graphql_core(
    upstream: FakeKombo, first: int
) -> None:
    """The all-fields page of the benchmark, over arbitrary (and sometimes wrong) payloads."""
    document = ALL_FIELDS.replace("$first", str(first))
    assert_same_response(document, {}, lambda: replace(upstream, calls=[]))


def test_a_foreign_dict_in_a_record_is_refused_as_without_the_fast_path() -> None:
    """A plain dict that is no page's record (a resolver's wrong value, here an interview's
    application) is refused by graphql-core's type check on both paths: the fast path does not
    read it as Kombo's JSON, which would fail with an upstream error instead (found by the page
    test above, now and then)."""
    interview = parse_record(
        INTERVIEWS, {"id": "interview-0", "changed_at": "2000-01-01T00:00:00.000Z", "users": []}
    )
    interview["application"] = {"id": "x"}
    response = assert_same_response(
        ALL_FIELDS.replace("$first", "1"), {}, lambda: FakeKombo((interview,))
    )
    assert "Expected value of type 'Application'" in response


ALL_FIELDS = (
    """
query Page {
  interviews(first: $first) {
    edges { cursor node { ...everything } }
    nodes { id __typename }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
  byId: nodes(ids: ["iv-0", "iv-3", "unknown"]) { __typename ... on Interview { ...everything } }
}
"""
    + "fragment everything on Interview {"
    + INTERVIEW_ALL_FIELDS
    + "\n}\n"
)


def every_field(type_: Any, depth: int = 0, prefix: str = "") -> str:
    """Every field of ``type_`` down to three levels (nested connections left out), every member
    of a union (its fields aliased: members' fields of one name may differ in type)."""
    if isinstance(type_, GraphQLUnionType):
        members = " ".join(
            f"... on {m.name} {every_field(m, depth, f'm{i}_')}" for i, m in enumerate(type_.types)
        )
        return "{ __typename " + members + " }"
    items = ["__typename"]
    for name, definition in type_.fields.items():
        named = get_named_type(definition.type)
        alias = f"{prefix}{name}: " if prefix else ""
        if is_leaf_type(named):
            items.append(alias + name)
        elif is_connection(type_, name):
            continue
        elif depth < 3:
            items.append(f"{alias}{name} {every_field(named, depth + 1)}")
    return "{ " + " ".join(items) + " }"


def every_field_page(model: Model, first: int) -> str:
    type_ = FAST._schema.get_type(model.name)
    fields = every_field(type_)
    known = json.dumps([global_id(model.name, i) for i in pool(model.name)[:2]] + ["unknown"])
    return f"""query Page {{
  {model.plural}(first: {first}) {{
    edges {{ cursor node {fields} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
  byId: nodes(ids: {known}) {{ __typename ... on {model.name} {fields} }}
}}"""


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(data=st.data(), model=st.sampled_from(MODELS), first=st.integers(1, 5))
def test_every_field_of_every_model_answers_exactly_as_graphql_core(
    data: st.DataObject, model: Model, first: int
) -> None:
    """Every field of every type (inline records completed through the loaders, unions, enums,
    nulls in non-null fields) over records built from varied JSON of every model."""
    upstream = data.draw(upstreams())
    document = every_field_page(model, first)
    note(document)
    response = assert_same_response(document, {}, lambda: replace(upstream, calls=[]))
    note(response)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_every_model_type_is_written_by_the_document_writer(model: Model) -> None:
    """The writer reaches every model: its connection and its lookup are roots it draws."""
    assert model.plural in BY_PLURAL and model.singular in BY_SINGULAR
    assert FAST._schema.query_type is not None
    assert {model.plural, model.singular} <= set(FAST._schema.query_type.fields)

"""The fast path answers exactly as graphql-core does: the same bytes, errors included.

Hypothesis writes documents over the real schema (random subsets of fields at every level,
repeated fields, aliases, named and inline fragments with type conditions, ``__typename``,
``@include``/``@skip`` with literals and variables, nested ``Job.interviews``, id lookups with
known, unknown and invalid ids, bad ``first`` and cursors) and upstream data (interviews with
nulls everywhere nullable, unicode, ``remoteData`` JSON, datetimes in several offsets, and now and
then a value of the wrong type, to force coercions, refusals and null bubbling). A fake Kombo
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
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
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
    InterviewQuery,
    KomboAPIError,
    KomboTimeout,
    KomboUnavailable,
)
from gateway.kombo import models as m
from gateway.schema.cursors import END, EdgeCursor, Position
from tests.support.fake_kombo import CURSOR_KEY, INTEGRATION, FakeKombo, Faults, execute

JOB_IDS = ("job-1", "job-2", "jöb-3")


# --- payloads ----------------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
OPTIONAL_TEXT = st.none() | TEXT
ZONES = (
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=5, minutes=45)),
)
DATETIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(ZONES)
).flatmap(
    lambda d: st.sampled_from(
        [d, d.replace(microsecond=0), d.replace(microsecond=d.microsecond // 1000 * 1000)]
    )
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)


def sometimes_wrong(value: st.SearchStrategy[Any], *wrong: Any) -> st.SearchStrategy[Any]:
    """``value``, or rarely one of ``wrong``: a value graphql-core must coerce, refuse or
    null-bubble (the fast path must give it back to graphql-core)."""
    if not wrong:
        return value
    return st.integers(0, 79).flatmap(lambda roll: st.sampled_from(wrong) if roll == 0 else value)


WRONG_TEXT = (5, True, 1.5, [], b"bytes")
WRONG_ID = (None, 7, ())


@st.composite
def users(draw: st.DrawFn, index: int) -> m.User:
    return m.User(
        id=draw(sometimes_wrong(st.just(f"user-{index}") | TEXT, *WRONG_ID)),
        remote_id=draw(sometimes_wrong(OPTIONAL_TEXT, *WRONG_TEXT)),
        first_name=draw(OPTIONAL_TEXT),
        last_name=draw(OPTIONAL_TEXT),
        email=draw(sometimes_wrong(OPTIONAL_TEXT, *WRONG_TEXT)),
    )


@st.composite
def applications(draw: st.DrawFn) -> m.Application:
    candidate = draw(
        st.none()
        | st.builds(
            m.Candidate,
            id=sometimes_wrong(TEXT.map(lambda t: "cand-" + t), *WRONG_ID),
            remote_id=sometimes_wrong(TEXT, None, 3),
            first_name=OPTIONAL_TEXT,
            last_name=OPTIONAL_TEXT,
            email_addresses=sometimes_wrong(
                st.lists(
                    st.builds(
                        m.EmailAddress,
                        email_address=sometimes_wrong(OPTIONAL_TEXT, *WRONG_TEXT),
                        type=st.none() | st.sampled_from(["WORK", "PRIVATE", "ÜBER"]),
                    ),
                    max_size=2,
                ).map(tuple),
                None,
                (None,),
                "not a list",
            ),
        )
    )
    job = draw(
        st.none()
        | st.builds(
            m.Job,
            id=sometimes_wrong(st.sampled_from(JOB_IDS), *WRONG_ID),
            remote_id=sometimes_wrong(TEXT, None),
            name=OPTIONAL_TEXT,
        )
    )
    return m.Application(
        id=draw(sometimes_wrong(TEXT.map(lambda t: "app-" + t), *WRONG_ID)),
        remote_id=draw(OPTIONAL_TEXT),
        outcome=draw(
            sometimes_wrong(st.none() | st.sampled_from(m.ApplicationOutcome), "HIRED", 3)
        ),
        rejection_reason_name=draw(OPTIONAL_TEXT),
        candidate=candidate,
        job=job,
    )


@st.composite
def interviews(draw: st.DrawFn, index: int) -> Any:
    location = draw(
        st.none()
        | st.builds(
            m.Location,
            city=OPTIONAL_TEXT,
            country=sometimes_wrong(OPTIONAL_TEXT, *WRONG_TEXT),
            raw=OPTIONAL_TEXT,
            state=OPTIONAL_TEXT,
            street_1=OPTIONAL_TEXT,
            street_2=OPTIONAL_TEXT,
            zip_code=sometimes_wrong(OPTIONAL_TEXT, 10115),
        )
    )
    interview = m.Interview(
        id=f"iv-{index}",
        remote_id=draw(sometimes_wrong(OPTIONAL_TEXT, *WRONG_TEXT)),
        title=draw(sometimes_wrong(OPTIONAL_TEXT, *WRONG_TEXT)),
        starting_at=draw(sometimes_wrong(st.none() | DATETIMES, "2020-01-01")),
        ending_at=draw(st.none() | DATETIMES),
        location=draw(sometimes_wrong(st.just(location), "Berlin")),
        video_conferencing_url=draw(OPTIONAL_TEXT),
        application_id=draw(sometimes_wrong(OPTIONAL_TEXT, 12)),
        stage_id=draw(OPTIONAL_TEXT),
        canceled=draw(sometimes_wrong(st.none() | st.booleans(), "yes", 1, 0.0)),
        remote_created_at=draw(st.none() | DATETIMES),
        remote_updated_at=draw(st.none() | DATETIMES),
        remote_data=draw(
            sometimes_wrong(st.none() | st.dictionaries(TEXT, JSON_VALUES, max_size=3), "raw", 5)
        ),
        changed_at=draw(sometimes_wrong(DATETIMES, None)),
        remote_deleted_at=draw(st.none() | DATETIMES),
        users=draw(
            sometimes_wrong(
                st.lists(st.integers(0, 99).flatmap(users), max_size=3).map(tuple),
                None,
                (None,),
                "abc",
            )
        ),
        application=draw(st.none() | applications()),
    )
    # Rarely not an interview at all: the type check refuses it.
    return draw(sometimes_wrong(st.just(interview), {"id": f"iv-{index}"}))


@st.composite
def upstreams(draw: st.DrawFn) -> FakeKombo:
    count = draw(st.integers(0, 7))
    items = tuple(draw(interviews(i)) for i in range(count))
    error = draw(
        st.sampled_from(
            [
                KomboAPIError(
                    status=403,
                    code="INTEGRATION.MODEL_NOT_AVAILABLE",
                    title="Model not available",
                    message="Interviews are not available for this integration.",
                    log_url="https://app.kombo.dev/logs/1",
                ),
                KomboAPIError(status=500, code=None, title=None, message="Oops", log_url=None),
                KomboUnavailable("Kombo could not be reached"),
                KomboTimeout("Kombo did not answer in time"),
            ]
        )
    )
    faults = Faults(
        ids=draw(st.frozensets(st.sampled_from([f"iv-{i}" for i in range(9)]), max_size=2)),
        jobs=draw(st.frozensets(st.sampled_from(JOB_IDS), max_size=1)),
        cursors=draw(st.frozensets(st.sampled_from(["off:1", "off:2", "off:3"]), max_size=1)),
        error=error,
    )
    return FakeKombo(items, faults)


# --- documents ---------------------------------------------------------------------------------


def _cursor(upstream: str | None, skip: int, page_size: int, exhausted: bool = False) -> str:
    position = END if exhausted else Position(upstream, skip)
    return EdgeCursor(position, page_size, InterviewQuery().digest()).encode(
        CURSOR_KEY, INTEGRATION
    )


AFTER_VALUES = (
    None,
    "garbage",
    _cursor(None, 1, 2),
    _cursor("off:2", 0, 2),
    _cursor("off:3", 1, 3),
    _cursor("bogus", 0, 2),
    _cursor(None, 0, 2, exhausted=True),
    EdgeCursor(Position(None, 1), 2, "other-digest").encode(CURSOR_KEY, INTEGRATION),
)
FIRST_VALUES = (1, 2, 3, 5, 1, 2, 3, 0, 251, None)
LOOKUP_IDS = ("iv-0", "iv-1", "iv-2", "iv-5", "iv-0", "iv-1", "iv-2", "iv-3", "unknown", "")


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
                st.sampled_from(["interviews", "interview", "node", "nodes", "__typename"]),
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
        if name == "interviews":
            return self.connection_arguments(with_filter=True)
        if name in ("interview", "node"):
            value = self.draw(st.sampled_from(LOOKUP_IDS))
            if self.draw(st.booleans()):
                return f"(id: {self.variable('ID!', value)})"
            return f"(id: {json.dumps(value)})"
        ids = self.draw(st.lists(st.sampled_from(LOOKUP_IDS), max_size=4))
        return f"(ids: {json.dumps(ids)})"

    def connection_arguments(self, with_filter: bool) -> str:
        args = []
        if self.draw(st.booleans()):
            first = self.draw(st.sampled_from(FIRST_VALUES))
            if self.draw(st.booleans()):
                args.append(f"first: {self.variable('Int', first)}")
            else:
                args.append(f"first: {json.dumps(first)}")
        if self.draw(st.integers(0, 3)) == 0:
            after = self.draw(st.sampled_from(AFTER_VALUES))
            args.append(f"after: {self.variable('String', after)}")
        if with_filter and self.draw(st.integers(0, 3)) == 0:
            filters = self.draw(
                st.sampled_from(
                    [
                        '{jobIds: ["job-1"]}',
                        '{jobIds: ["job-1", "jöb-3"], includeDeleted: true}',
                        "{jobIds: []}",
                        '{ids: ["iv-1", "iv-3"]}',
                        '{ids: ["a,b"]}',
                    ]
                )
            )
            args.append(f"filter: {filters}")
        return f"({', '.join(args)})" if args else ""

    def selection(self, type_: Any, depth: int) -> str:
        """``{ … }`` for an object or interface type."""
        names = list(type_.fields)
        if self.draw(st.integers(0, 4)) == 0:
            chosen = names
        else:
            chosen = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=5))
        if type_.name == "Job" and self.nested_connections and self.draw(st.booleans()):
            chosen.append("interviews")
        if type_.name == "Interview" and self.draw(st.integers(0, 2)) == 0:
            chosen.append("application")
        if type_.name == "Application" and self.draw(st.booleans()):
            chosen.append("job")
        items = [self.field(type_, name, depth) for name in chosen]
        if self.draw(st.integers(0, 3)) == 0:
            alias = f"{self.alias()}: " if self.draw(st.booleans()) else ""
            items.append(f"{alias}__typename{self.condition()}")
        for _ in range(self.draw(st.integers(0, 2))):
            if self.fragment_budget <= 0 or depth >= self.max_depth:
                break
            self.fragment_budget -= 1
            items.append(self.fragment(type_, depth))
        return "{ " + " ".join(self.draw(st.permutations(items))) + " }"

    def fragment(self, type_: Any, depth: int) -> str:
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
            return f"...{self.condition()} {self.selection(type_, depth)}"
        body = self.selection(condition_type, depth)
        if kind == "inline":
            return f"... on {condition_name}{self.condition()} {body}"
        name = f"F{next(self._counter)}"
        self.fragments.append(f"fragment {name} on {condition_name} {body}")
        self.reusable.setdefault(condition_name, []).append(name)
        return f"...{name}{self.condition()}"

    def field(self, parent: Any, name: str, depth: int) -> str:
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        alias = f"{self.alias()}: " if self.draw(st.integers(0, 3)) == 0 else ""
        if parent.name == "Job" and name == "interviews":
            if self.nested_connections <= 0 or depth >= self.max_depth - 3:
                return f"{alias}id"
            self.nested_connections -= 1
            # Fields with arguments always get their own alias: no merge conflicts.
            args = self.connection_arguments(with_filter=self.draw(st.booleans()))
            return (
                f"{self.alias()}: interviews{args}{self.condition()} "
                f"{self.selection(named, depth + 1)}"
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
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
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


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upstream=upstreams(), first=st.integers(1, 8))
def test_every_field_of_a_page_answers_exactly_as_graphql_core(
    upstream: FakeKombo, first: int
) -> None:
    """The all-fields page of the benchmark, over arbitrary (and sometimes wrong) payloads."""
    document = ALL_FIELDS.replace("$first", str(first))
    assert_same_response(document, {}, lambda: replace(upstream, calls=[]))


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

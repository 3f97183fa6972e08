"""Every root connection of the graph, and Job's nested ones, over real HTTP (the sandbox and the
gateway as separate processes), against ground truth from the sandbox's records
(:mod:`tests.support.graph_truth`): complete and ordered walks at several page sizes, resuming
after any edge, every filter alone and ANDed, the exact upstream query parameters, bad input
refused before any upstream call, nested connections narrowed to their job, and integration
scoping. Parametrized over the catalog: a model added there is covered here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pytest

from gateway.kombo.catalog import CATALOG, Model
from gateway.sandbox import ALL_INTEGRATIONS, UNSUPPORTED_FILTERS, records_for, shared_ids_for
from tests.support.clients import Gateway, Sandbox
from tests.support.graph_truth import (
    camel,
    enum_fields,
    expected,
    gid,
    has_model,
    id_fields,
    kombo_ids,
    linked_job_ids,
    list_fields,
    normalized,
    records,
    samples,
    shifted,
    upstream_next,
    upstream_params,
    visible,
)
from tests.support.servers import DEFAULT_INTEGRATION

ACME = DEFAULT_INTEGRATION
OTHER = "greenhouse:globex"
UNSUPPORTING = "workday:initech"
MODELS = list(CATALOG)
SMALL = 40
"""Models with fewer visible records than this get walks with ``first: 1`` and resumes from
every edge; larger ones a sample (the suite stays fast)."""

NESTED = [m for m in MODELS if any(p.name == "job_ids" and p.model == "Job" for p in m.params)]
"""The models whose connections nest under Job (CONTRACT 1.2): interviews, applications,
candidates."""

EMPTY_PAGE_INFO = {
    "hasNextPage": False,
    "hasPreviousPage": False,
    "startCursor": None,
    "endCursor": None,
}


def name_of(value: Any) -> str:
    return value.name if isinstance(value, Model) else str(value)


# --- documents and pages ---------------------------------------------------------------------

CONNECTION = """
    edges { cursor node { id komboId } }
    nodes { id komboId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
"""


def root_document(model: Model) -> str:
    return f"""
query Page($first: Int, $after: String, $filter: {model.name}Filter) {{
  {model.plural}(first: $first, after: $after, filter: $filter) {{ {CONNECTION} }}
}}"""


def headers_for(integration: str | None) -> dict[str, str]:
    return {"X-Integration-Id": integration} if integration else {}


def page(
    gateway: Gateway,
    model: Model,
    first: int | None,
    after: str | None = None,
    flt: dict[str, Any] | None = None,
    integration: str | None = None,
) -> dict[str, Any]:
    variables = {"first": first, "after": after, "filter": flt}
    data = gateway.query(root_document(model), variables, headers=headers_for(integration))
    return dict(data[model.plural])


def checked(model: Model, connection: dict[str, Any], first: int) -> list[str]:
    """The page's Kombo ids, once its invariants hold: at most ``first`` edges, ``nodes`` equal
    to the edges' nodes, global ids of the right type, one distinct cursor per edge, and
    ``pageInfo`` naming the first and last of them."""
    edges = connection["edges"]
    info = connection["pageInfo"]
    assert len(edges) <= first
    ids = [e["node"]["komboId"] for e in edges]
    assert [e["node"]["id"] for e in edges] == [gid(model.name, k) for k in ids]
    assert connection["nodes"] == [e["node"] for e in edges]
    assert info["hasPreviousPage"] is False
    cursors = [e["cursor"] for e in edges]
    assert len(set(cursors)) == len(cursors), "every edge has its own cursor"
    assert info["startCursor"] == (cursors[0] if cursors else None)
    assert info["endCursor"] == (cursors[-1] if cursors else None)
    return ids


def walk(
    gateway: Gateway,
    model: Model,
    firsts: Iterable[int],
    flt: dict[str, Any] | None = None,
    integration: str | None = None,
    after: str | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Page to the end with ``after: pageInfo.endCursor``, ``first`` taken in turn from
    ``firsts`` (cycled): every Kombo id seen, and the pages."""
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    for first in itertools.cycle(firsts):
        connection = page(gateway, model, first, after, flt, integration)
        pages.append(connection)
        seen += checked(model, connection, first)
        info = connection["pageInfo"]
        if not info["hasNextPage"]:
            return seen, pages
        assert connection["edges"], "a page before the last one makes progress"
        assert len(pages) < 1000, "the walk does not end"
        after = info["endCursor"]
    raise AssertionError("unreachable")


def assert_upstream_walk(
    sandbox: Sandbox,
    model: Model,
    flt: dict[str, Any] | None,
    page_size: int,
    integration: str = ACME,
    requests: list[dict[str, Any]] | None = None,
) -> int:
    """The sandbox's log holds one walk of ``model``'s endpoint and nothing else: the first page
    with exactly the filter's parameters and ``page_size``, each next one with the upstream's
    ``next`` cursor of the one before, ending on the upstream's last page. Returns the count."""
    requests = sandbox.requests() if requests is None else requests
    assert requests, "the walk asked the upstream"
    cursor = None
    for request in requests:
        assert request["method"] == "GET"
        assert request["path"] == "/v1" + model.path
        assert request["integration_id"] == integration
        assert normalized(request["params"]) == upstream_params(model, flt, page_size, cursor)
        cursor = upstream_next(sandbox.url, request)
    assert cursor is None, "the walk stopped before the upstream's last page"
    return len(requests)


def listed(
    gateway: Gateway,
    model: Model,
    flt: dict[str, Any] | None,
    integration: str | None = None,
) -> list[str]:
    """Every Kombo id ``<plural>(first: 250, filter: flt)`` lists, across pages."""
    return walk(gateway, model, [250], flt, integration)[0]


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), body
    (error,) = body["errors"]
    return dict(error)


# --- 1. complete walks -----------------------------------------------------------------------

WALKS = [
    (model, first)
    for model in MODELS
    for first in (1, 7, 100, 250)
    if first > 1 or len(visible(ACME, model.name)) < SMALL
]


@pytest.mark.parametrize(("model", "first"), WALKS, ids=[f"{m.name}-{f}" for m, f in WALKS])
def test_a_walk_with_constant_first_yields_every_record_once_one_request_per_page(
    gateway: Gateway, sandbox: Sandbox, model: Model, first: int
) -> None:
    truth = kombo_ids(visible(ACME, model.name))
    seen, pages = walk(gateway, model, [first])
    assert seen == truth
    assert len(pages) == max(1, -(-len(truth) // first))
    assert pages[-1]["pageInfo"]["hasNextPage"] is False
    assert assert_upstream_walk(sandbox, model, None, first) == len(pages)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_first_defaults_to_100(gateway: Gateway, sandbox: Sandbox, model: Model) -> None:
    document = f"{{ {model.plural} {{ {CONNECTION} }} }}"
    connection = gateway.query(document)[model.plural]
    truth = kombo_ids(visible(ACME, model.name))
    assert checked(model, connection, 100) == truth[:100]
    assert connection["pageInfo"]["hasNextPage"] is (len(truth) > 100)
    (request,) = sandbox.requests()
    assert normalized(request["params"]) == upstream_params(model, None, 100)


FIRSTS = [[3, 50, 1, 250, 7, 100, 2], [100, 3, 50, 1, 250, 7, 2]]


@pytest.mark.parametrize("firsts", FIRSTS, ids=["small-first", "large-first"])
@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_walk_with_first_changing_between_pages_yields_every_record_once(
    gateway: Gateway, model: Model, firsts: list[int]
) -> None:
    seen, pages = walk(gateway, model, firsts)
    assert seen == kombo_ids(visible(ACME, model.name))
    assert pages[-1]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_walk_with_deleted_records_included_yields_them_in_place(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    flt = {"includeDeleted": True}
    seen, pages = walk(gateway, model, [100], flt)
    assert seen == kombo_ids(records(ACME, model.name))
    assert assert_upstream_walk(sandbox, model, flt, 100) == len(pages)


# --- 2. resuming after any edge --------------------------------------------------------------


def resume_points(count: int) -> list[int]:
    """Every edge of a small result; for a large one, the first and last pages' edges, page
    boundaries (pages of 10) and a spread in between."""
    if count < SMALL:
        return list(range(count))
    picked = {0, 1, 8, 9, 10, 11, count // 2, count - 12, count - 11, count - 10, count - 2}
    picked |= set(range(0, count, 23))
    picked.add(count - 1)
    return sorted(picked)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_resuming_after_any_edge_continues_with_no_gap_or_duplicate(
    gateway: Gateway, model: Model
) -> None:
    truth = kombo_ids(visible(ACME, model.name))
    seen, pages = walk(gateway, model, [10])
    assert seen == truth
    edges = [e for p in pages for e in p["edges"]]
    for n, index in enumerate(resume_points(len(edges))):
        first = (1, 4, 13, 250)[n % 4]
        rest = truth[index + 1 :]
        connection = page(gateway, model, first, edges[index]["cursor"])
        got = checked(model, connection, first)
        assert got == rest[: len(got)], (index, first)
        has_next = connection["pageInfo"]["hasNextPage"]
        assert has_next == (len(got) < len(rest)), (index, first)
        if first <= 10:  # within two upstream pages: always a full page
            assert len(got) == min(first, len(rest)), (index, first)
        elif has_next:  # a short page still resumes where it ended
            assert got, "a page before the last one makes progress"
            more, _ = walk(gateway, model, [first], after=connection["pageInfo"]["endCursor"])
            assert got + more == rest, (index, first)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_resuming_after_the_last_edge_is_empty_without_an_upstream_request(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    last = page(gateway, model, 250, None, {"includeDeleted": True})
    if last["pageInfo"]["hasNextPage"]:
        last = page(gateway, model, 250, last["pageInfo"]["endCursor"], {"includeDeleted": True})
    assert last["edges"][-1]["node"]["komboId"] == records(ACME, model.name)[-1].payload["id"]
    sandbox.clear()
    after_end = page(gateway, model, 5, last["pageInfo"]["endCursor"], {"includeDeleted": True})
    assert after_end["edges"] == []
    assert after_end["pageInfo"] == EMPTY_PAGE_INFO
    assert sandbox.requests() == []


# --- 3. filters ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_each_filter_alone_matches_truth_and_is_sent_as_the_spec_names_it(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    matched: dict[str, int] = {}
    for flt in samples(ACME, model):
        sandbox.clear()
        truth = expected(ACME, model.name, flt)
        assert listed(gateway, model, flt) == truth, flt
        assert_upstream_walk(sandbox, model, flt, 250)
        field = next(iter(flt))
        matched[field] = max(matched.get(field, 0), len(truth))
    # Every filter field was tried, and matched something at least once.
    tried = {camel(p.name) for p in model.params if p.kind != "boolean"} - {"updatedAfter"}
    assert set(matched) == tried
    assert all(matched.values()), matched


def pairs_that_narrow(model: Model) -> list[dict[str, Any]]:
    """Two single-field samples of different fields, ANDed, whose result is non-empty and
    smaller than each alone: at most three of them."""
    singles = [f for f in samples(ACME, model) if "includeDeleted" not in f]
    found: list[dict[str, Any]] = []
    for a, b in itertools.combinations(singles, 2):
        if a.keys() & b.keys():
            continue
        both = {**a, **b}
        got = expected(ACME, model.name, both)
        alone = min(len(expected(ACME, model.name, a)), len(expected(ACME, model.name, b)))
        if 0 < len(got) < alone:
            found.append(both)
        if len(found) == 3:
            break
    return found


def combinations_of(model: Model) -> list[dict[str, Any]]:
    everything = records(ACME, model.name)
    live = visible(ACME, model.name)
    instants = sorted(r.updated_at for r in everything)
    combos = [
        {
            "ids": [gid(model.name, r.payload["id"]) for r in live[:8]],
            "remoteIds": [r.payload["remote_id"] for r in live[4:12] if r.payload["remote_id"]],
        },
        {
            "ids": [r.payload["id"] for r in everything[:14]],
            "updatedAfter": shifted(instants[len(instants) // 3], offset_minutes=60),
            "includeDeleted": True,
        },
    ]
    return combos + pairs_that_narrow(model)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_filters_combine_with_and(gateway: Gateway, sandbox: Sandbox, model: Model) -> None:
    for flt in combinations_of(model):
        sandbox.clear()
        truth = expected(ACME, model.name, flt)
        assert truth, f"a combination that matches something: {flt}"
        assert listed(gateway, model, flt) == truth, flt
        assert_upstream_walk(sandbox, model, flt, 250)


ENUMS = [(model, field, values) for model in MODELS for field, values in enum_fields(model)]
ENUM_IDS = [f"{m.name}.{f}" for m, f, _ in ENUMS]


@pytest.mark.parametrize(("model", "field", "values"), ENUMS, ids=ENUM_IDS)
def test_an_enum_filter_written_in_the_document_is_sent_comma_joined(
    gateway: Gateway, sandbox: Sandbox, model: Model, field: str, values: tuple[str, ...]
) -> None:
    for chosen in ([values[0]], list(values[-2:])):
        sandbox.clear()
        literal = f"{{ {field}: [{', '.join(chosen)}] }}"
        document = f"{{ {model.plural}(first: 250, filter: {literal}) {{ {CONNECTION} }} }}"
        connection = gateway.query(document)[model.plural]
        got = checked(model, connection, 250)
        assert got == expected(ACME, model.name, {field: chosen})
        assert got, f"{field}: {chosen} matches some records"
        assert_upstream_walk(sandbox, model, {field: chosen}, 250)


IDS = [(model, field, target) for model in MODELS for field, target in id_fields(model)]
IDS_IDS = [f"{m.name}.{f}" for m, f, _ in IDS]


def linked_ids(model: Model, field: str) -> list[str]:
    """Kombo ids that ``field`` of ``model``'s filter can take and that match some records."""
    live = [r.payload for r in visible(ACME, model.name)]
    if field == "ids":
        found = [p["id"] for p in live]
    elif field == "jobIds":
        found = [j for p in live for j in sorted(linked_job_ids(model.name, p))]
    else:
        found = [p["current_stage_id"] for p in live if p.get("current_stage_id")]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize(("model", "field", "target"), IDS, ids=IDS_IDS)
def test_an_id_filter_takes_global_ids_and_bare_ids_alike(
    gateway: Gateway, sandbox: Sandbox, model: Model, field: str, target: str
) -> None:
    ids = linked_ids(model, field)[2:5]
    truth = expected(ACME, model.name, {field: ids})
    assert truth
    given = {
        "bare": ids,
        "global": [gid(target, i) for i in ids],
        "mixed": [gid(target, ids[0]), ids[1], gid(target, ids[2])],
    }
    for form, values in given.items():
        sandbox.clear()
        assert listed(gateway, model, {field: values}) == truth, form
        # Upstream always gets Kombo's bare ids.
        assert_upstream_walk(sandbox, model, {field: ids}, 250)


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_an_empty_list_matches_nothing_without_an_upstream_request(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    fields = list_fields(model)
    assert fields
    # A value each list field takes: any string, or the enum's first value.
    some = {field: ["x"] for field in fields} | {f: [v[0]] for f, v in enum_fields(model)}
    for field in fields:
        for flt in (
            {field: []},
            {field: [], "includeDeleted": True, "updatedAfter": "2020-01-01T00:00:00Z"},
            {**some, field: []},
        ):
            connection = page(gateway, model, 10, None, flt)
            assert connection["edges"] == [] and connection["nodes"] == [], flt
            assert connection["pageInfo"] == EMPTY_PAGE_INFO, flt
    assert sandbox.requests() == []


def updated_after_cases(model: Model) -> list[tuple[str, str, str, bool]]:
    """(label, updatedAfter, a record's Kombo id, whether that record is listed): around the
    ``updated_at`` of a record changed through nested data (later than its own ``changed_at``),
    where the model has one, and of the median record."""
    live = visible(ACME, model.name)
    nested = [r for r in live if r.updated_at != r.payload["changed_at"]]
    median = sorted(live, key=lambda r: r.updated_at)[len(live) // 2]
    cases: list[tuple[str, str, str, bool]] = []
    for label, record in [*(("nested", r) for r in nested[:1]), ("median", median)]:
        t, kombo_id = record.updated_at, record.payload["id"]
        cases += [
            (f"{label} -1ms", shifted(t, ms=-1), kombo_id, True),
            (f"{label} -0.5ms at +02:00", shifted(t, ms=-0.5, offset_minutes=120), kombo_id, True),
            (f"{label} exactly", t, kombo_id, False),
            (f"{label} exactly at -05:30", shifted(t, offset_minutes=-330), kombo_id, False),
            (f"{label} +0.5ms", shifted(t, ms=0.5), kombo_id, False),
            (f"{label} +1ms at +14:00", shifted(t, ms=1, offset_minutes=840), kombo_id, False),
        ]
        if label == "nested":
            # After the record's own change, before its nested data's: listed all the same.
            cases.append(("nested at its changed_at", record.payload["changed_at"], kombo_id, True))
    return cases


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_updated_after_lists_what_changed_strictly_after_by_the_endpoints_rule(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    for n, (label, value, kombo_id, listed_itself) in enumerate(updated_after_cases(model)):
        alone: dict[str, Any] = {"updatedAfter": value}
        # Deleted records too, every other case: changed after the instant, they are listed.
        for flt in [alone, {**alone, "includeDeleted": True}][: 1 + n % 2]:
            sandbox.clear()
            got = listed(gateway, model, flt)
            assert got == expected(ACME, model.name, flt), (label, flt)
            assert (kombo_id in got) == listed_itself, (label, flt)
            assert got or not listed_itself
            assert_upstream_walk(sandbox, model, flt, 250)


def test_every_model_with_nested_data_has_records_changed_only_through_it() -> None:
    # The updated_after cases above need such records to tell the endpoints' rules apart.
    nested = [
        m.name
        for m in MODELS
        if any(r.updated_at != r.payload["changed_at"] for r in visible(ACME, m.name))
    ]
    assert set(nested) >= {"Interview", "Application", "Candidate", "Job", "User"}


UNSUPPORTED = [
    (model, camel(p.name))
    for model in MODELS
    if has_model(UNSUPPORTING, model)
    for p in model.params
    if p.name in UNSUPPORTED_FILTERS[UNSUPPORTING]
]


def unsupported_value(model: Model, field: str) -> Any:
    live = [r.payload for r in visible(UNSUPPORTING, model.name)]
    if field == "remoteIds":
        return [next(p["remote_id"] for p in live if p["remote_id"])]
    if field == "email":
        return next(e["email_address"] for p in live for e in p["email_addresses"])
    return "e"


@pytest.mark.parametrize(
    ("model", "field"), UNSUPPORTED, ids=[f"{m.name}.{f}" for m, f in UNSUPPORTED]
)
def test_a_filter_the_integration_cannot_apply_empties_the_result_unless_ignored(
    gateway: Gateway, sandbox: Sandbox, model: Model, field: str
) -> None:
    value = unsupported_value(model, field)
    assert listed(gateway, model, {field: value}, UNSUPPORTING) == []
    ignored = {field: value, "ignoreUnsupportedFilters": True}
    sandbox.clear()
    got = listed(gateway, model, ignored, UNSUPPORTING)
    assert got == expected(UNSUPPORTING, model.name, ignored)
    assert got == kombo_ids(visible(UNSUPPORTING, model.name))
    assert_upstream_walk(sandbox, model, ignored, 250, UNSUPPORTING)


# --- 4. bad input: refused before any upstream request ----------------------------------------


@pytest.mark.parametrize(("model", "field", "values"), ENUMS, ids=ENUM_IDS)
def test_an_unknown_enum_value_is_bad_user_input_without_an_upstream_request(
    gateway: Gateway, sandbox: Sandbox, model: Model, field: str, values: tuple[str, ...]
) -> None:
    for wrong in ("NOPE", values[0].lower()):
        # As a variable: the variable's coercion names the filter field.
        response = gateway.post(root_document(model), {"first": 5, "filter": {field: [wrong]}})
        assert response.status_code == 400
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert field in error["message"] and wrong in error["message"]
        # Written in the document: a validation error, at the value.
        document = f"{{ {model.plural}(filter: {{ {field}: [{wrong}] }}) {{ nodes {{ id }} }} }}"
        response = gateway.post(document)
        assert response.status_code == 400
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert wrong in error["message"]
        assert error["locations"][0]["column"] == document.index(wrong) + 1
    assert sandbox.requests() == []


def another_type(model_name: str) -> str:
    names = [m.name for m in MODELS]
    return names[(names.index(model_name) + 1) % len(names)]


@pytest.mark.parametrize(("model", "field", "target"), IDS, ids=IDS_IDS)
def test_a_global_id_of_another_type_in_an_id_filter_is_bad_user_input(
    gateway: Gateway, sandbox: Sandbox, model: Model, field: str, target: str
) -> None:
    good = linked_ids(model, field)[0]
    wrong_type = another_type(target)
    # An id that records of both types hold, where the sandbox has one: the type decides.
    shared = [i for i, types in shared_ids_for(ACME).items() if target in types]
    candidates = [gid(wrong_type, good), "gid://kombo/Nope/" + good, gid(target, "")]
    for kombo_id in shared[:1]:
        other = sorted(shared_ids_for(ACME)[kombo_id] - {target})[0]
        candidates.append(gid(other, kombo_id))
    for wrong in candidates:
        for values in ([wrong], [gid(target, good), wrong]):
            flt = {field: values}
            response = gateway.post(root_document(model), {"first": 5, "filter": flt})
            error = error_of(response)
            assert error["extensions"]["code"] == "BAD_USER_INPUT", (wrong, error)
            assert f"filter.{field}" in error["message"], error
            assert response.json()["data"] is None
    assert sandbox.requests() == []


@pytest.fixture(scope="module")
def cursors_of_every_connection(gateway: Gateway) -> dict[str, str]:
    """Model name → the second edge's cursor of its unfiltered connection."""
    document = (
        "{ " + " ".join(f"{m.plural}(first: 3) {{ edges {{ cursor }} }}" for m in MODELS) + " }"
    )
    data = gateway.query(document)
    return {m.name: data[m.plural]["edges"][1]["cursor"] for m in MODELS}


def assert_refused_cursor(
    gateway: Gateway,
    sandbox: Sandbox,
    model: Model,
    after: str,
    flt: dict[str, Any] | None = None,
    integration: str | None = None,
) -> None:
    sandbox.clear()
    response = gateway.post(
        root_document(model),
        {"first": 5, "after": after, "filter": flt},
        headers=headers_for(integration),
    )
    error = error_of(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"].startswith("after:"), error
    assert response.json()["data"] is None
    assert sandbox.requests() == []


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_cursor_of_another_connection_is_bad_user_input(
    gateway: Gateway,
    sandbox: Sandbox,
    model: Model,
    cursors_of_every_connection: dict[str, str],
) -> None:
    for other, cursor in cursors_of_every_connection.items():
        if other != model.name:
            assert_refused_cursor(gateway, sandbox, model, cursor)
    # Its own is taken.
    own = page(gateway, model, 2, cursors_of_every_connection[model.name])
    assert checked(model, own, 2) == kombo_ids(visible(ACME, model.name))[2:4]


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_cursor_of_other_filters_is_bad_user_input(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    live = visible(ACME, model.name)
    some_ids = [r.payload["id"] for r in live[:6]]
    filtered = {"ids": some_ids}
    cursor = page(gateway, model, 2, None, filtered)["edges"][0]["cursor"]
    plain = page(gateway, model, 2)["edges"][0]["cursor"]
    assert_refused_cursor(gateway, sandbox, model, cursor)
    assert_refused_cursor(gateway, sandbox, model, cursor, {"ids": some_ids[:5]})
    assert_refused_cursor(gateway, sandbox, model, cursor, {**filtered, "includeDeleted": True})
    assert_refused_cursor(gateway, sandbox, model, plain, filtered)
    # The same filter, written with global ids: the same query upstream, so the cursor is taken.
    as_global = {"ids": [gid(model.name, i) for i in some_ids]}
    resumed = page(gateway, model, 3, cursor, as_global)
    assert checked(model, resumed, 3) == some_ids[1:4]


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_a_cursor_of_another_integration_is_bad_user_input(
    gateway: Gateway, sandbox: Sandbox, model: Model, cursors_of_every_connection: dict[str, str]
) -> None:
    assert_refused_cursor(
        gateway, sandbox, model, cursors_of_every_connection[model.name], None, OTHER
    )


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_first_outside_1_to_250_is_bad_user_input_without_an_upstream_request(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    for first in (0, -1, 251, 100_000, None):
        response = gateway.post(root_document(model), {"first": first})
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (first, error)
        assert "first" in error["message"], error
        assert error["path"] == [model.plural]
    assert sandbox.requests() == []


# --- 5. Job's nested connections --------------------------------------------------------------


def nested_document(children: list[Model]) -> str:
    nested = " ".join(
        f"{c.plural}(first: $n, filter: ${c.plural}) {{ {CONNECTION} }}" for c in children
    )
    filters = "".join(f", ${c.plural}: {c.name}Filter" for c in children)
    return f"""
query Jobs($first: Int, $after: String, $jobs: JobFilter, $n: Int{filters}) {{
  jobs(first: $first, after: $after, filter: $jobs) {{
    edges {{ cursor node {{ id komboId {nested} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""


def request_key(request: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return request["path"], tuple(sorted(normalized(request["params"]).items()))


@pytest.mark.parametrize(
    ("integration", "jobs_filter"),
    [(ACME, None), (OTHER, {"includeDeleted": True})],
    ids=["live-jobs", "deleted-jobs-too"],
)
def test_each_jobs_nested_connections_equal_truth_for_that_job(
    gateway: Gateway, sandbox: Sandbox, integration: str, jobs_filter: dict[str, Any] | None
) -> None:
    jobs_model = CATALOG["Job"]
    document = nested_document(NESTED)
    flts: dict[str, dict[str, Any] | None] = {c.plural: None for c in NESTED}
    flts["applications"] = {"outcomes": ["PENDING", "HIRED"]}
    seen: list[str] = []
    after = None
    while True:
        sandbox.clear()
        variables = {"first": 10, "after": after, "jobs": jobs_filter, "n": 100, **flts}
        data = gateway.query(document, variables, headers=headers_for(integration))["jobs"]
        jobs = [e["node"] for e in data["edges"]]
        seen += [j["komboId"] for j in jobs]
        wanted: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        for job in jobs:
            assert job["id"] == gid("Job", job["komboId"])
            for child in NESTED:
                narrowed = {**(flts[child.plural] or {}), "jobIds": [job["komboId"]]}
                connection = job[child.plural]
                got = checked(child, connection, 100)
                assert got == expected(integration, child.name, narrowed), (job, child.name)
                assert connection["pageInfo"]["hasNextPage"] is False
                params = upstream_params(child, narrowed, 100)
                wanted.append(("/v1" + child.path, tuple(sorted(params.items()))))
        # One request for the page of jobs, and one per nested connection of each job on it.
        requests = sandbox.requests()
        assert all(r["integration_id"] == integration for r in requests)
        (jobs_request,) = [r for r in requests if r["path"] == "/v1" + jobs_model.path]
        jobs_params = normalized(jobs_request["params"])
        assert (jobs_params.pop("cursor", None) is None) == (after is None)
        assert jobs_params == upstream_params(jobs_model, jobs_filter, 10)
        nested_requests = [request_key(r) for r in requests if r is not jobs_request]
        assert sorted(nested_requests) == sorted(wanted)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == expected(integration, "Job", jobs_filter)


def nested_page_document(child: Model) -> str:
    return f"""
query Nested($job: ID!, $first: Int, $after: String, $filter: {child.name}Filter) {{
  job(id: $job) {{
    {child.plural}(first: $first, after: $after, filter: $filter) {{ {CONNECTION} }}
  }}
}}"""


def nested_page(
    gateway: Gateway,
    child: Model,
    job: str,
    first: int,
    after: str | None = None,
    flt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    variables = {"job": job, "first": first, "after": after, "filter": flt}
    data = gateway.query(nested_page_document(child), variables)
    return dict(data["job"][child.plural])


def busiest_jobs(child: Model) -> list[str]:
    """Live jobs, the one with the most ``child`` records first."""
    jobs = kombo_ids(visible(ACME, "Job"))
    return sorted(jobs, key=lambda j: -len(expected(ACME, child.name, {"jobIds": [j]})))


@pytest.mark.parametrize("child", NESTED, ids=name_of)
def test_paging_inside_a_nested_connection_with_its_cursors(
    gateway: Gateway, sandbox: Sandbox, child: Model
) -> None:
    job, other_job = busiest_jobs(child)[:2]
    truth = expected(ACME, child.name, {"jobIds": [job]})
    assert len(truth) >= 4
    narrowed = {"jobIds": [job]}
    # Walk it in pages of 2: one upstream request per page, following the upstream's cursors.
    edges: list[dict[str, Any]] = []
    after = None
    while True:
        connection = nested_page(gateway, child, gid("Job", job), 2, after)
        checked(child, connection, 2)
        edges += connection["edges"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert [e["node"]["komboId"] for e in edges] == truth
    walk_requests = [r for r in sandbox.requests() if r["path"] == "/v1" + child.path]
    assert assert_upstream_walk(sandbox, child, narrowed, 2, ACME, walk_requests) == -(
        -len(truth) // 2
    )
    # Resume after every edge, with another first.
    for index, edge in enumerate(edges):
        connection = nested_page(gateway, child, job, 3, edge["cursor"])
        assert checked(child, connection, 3) == truth[index + 1 : index + 4], index
    # A nested cursor is bound to its job: refused by another job's connection and by the root
    # connection without that job's filter.
    cursor = edges[0]["cursor"]
    sandbox.clear()
    variables = {"job": other_job, "first": 2, "after": cursor, "filter": None}
    response = gateway.post(nested_page_document(child), variables)
    error = error_of(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("after:")
    assert [r["path"] for r in sandbox.requests()] == ["/v1/ats/jobs"], "only the job's lookup"
    assert_refused_cursor(gateway, sandbox, child, cursor)


@pytest.mark.parametrize("child", NESTED, ids=name_of)
def test_a_nested_connections_own_job_filter_narrows_within_its_job(
    gateway: Gateway, sandbox: Sandbox, child: Model
) -> None:
    job, other_job = busiest_jobs(child)[:2]
    truth = expected(ACME, child.name, {"jobIds": [job]})
    # Naming this job and another: still only this job's records, this job alone sent upstream.
    sandbox.clear()
    both = {"jobIds": [gid("Job", other_job), job]}
    connection = nested_page(gateway, child, job, 100, None, both)
    assert checked(child, connection, 100) == truth
    (request,) = [r for r in sandbox.requests() if r["path"] == "/v1" + child.path]
    assert normalized(request["params"]) == upstream_params(child, {"jobIds": [job]}, 100)
    # Naming only another job: nothing, and no request for it.
    sandbox.clear()
    connection = nested_page(gateway, child, job, 100, None, {"jobIds": [other_job]})
    assert connection["edges"] == [] and connection["pageInfo"] == EMPTY_PAGE_INFO
    assert [r["path"] for r in sandbox.requests()] == ["/v1/ats/jobs"], "only the job's lookup"


INLINE_JOB = f"""
query Inline($first: Int) {{
  interviews(first: $first) {{
    nodes {{
      komboId
      application {{
        job {{
          komboId
          interviews(first: 100) {{ {CONNECTION} }}
          candidates(first: 100) {{ {CONNECTION} }}
        }}
      }}
    }}
  }}
}}"""


def test_nested_connections_of_a_job_inlined_in_another_record_are_narrowed_to_it(
    gateway: Gateway,
) -> None:
    data = gateway.query(INLINE_JOB, {"first": 12})["interviews"]["nodes"]
    jobs = [n["application"]["job"] for n in data if (n["application"] or {}).get("job")]
    assert len(jobs) >= 10
    for job in jobs:
        for child in (CATALOG["Interview"], CATALOG["Candidate"]):
            got = checked(child, job[child.plural], 100)
            assert got == expected(ACME, child.name, {"jobIds": [job["komboId"]]}), job["komboId"]


@pytest.mark.parametrize("child", NESTED, ids=name_of)
def test_first_outside_1_to_250_in_a_nested_connection_is_bad_user_input(
    gateway: Gateway, sandbox: Sandbox, child: Model
) -> None:
    job = kombo_ids(visible(ACME, "Job"))[1]
    for first in (0, 251):
        sandbox.clear()
        response = gateway.post(nested_page_document(child), {"job": job, "first": first})
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "first" in error["message"]
        assert error["path"] == ["job", child.plural]
        assert all(r["path"] != "/v1" + child.path for r in sandbox.requests())


# --- 6. integration scoping ------------------------------------------------------------------

SCOPES = [(model, integration) for model in MODELS for integration in ALL_INTEGRATIONS]


@pytest.mark.parametrize(("model", "integration"), SCOPES, ids=[f"{m.name}-{i}" for m, i in SCOPES])
def test_each_integration_sees_only_its_own_records(
    gateway: Gateway, sandbox: Sandbox, model: Model, integration: str
) -> None:
    if not has_model(integration, model):
        response = gateway.post(
            root_document(model), {"first": 5}, headers=headers_for(integration)
        )
        assert error_of(response)["extensions"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"
        return
    flt = {"includeDeleted": True}
    got = listed(gateway, model, flt, integration)
    assert got == expected(integration, model.name, flt)
    assert_upstream_walk(sandbox, model, flt, 250, integration)
    others = {
        r.payload["id"]
        for other in ALL_INTEGRATIONS
        if other != integration and has_model(other, model)
        for r in records_for(other, model.name)
    } - {r.payload["id"] for r in records(integration, model.name)}
    assert others, "the other integrations hold records of their own"
    assert not set(got) & others

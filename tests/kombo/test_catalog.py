"""Spec coverage: the catalog says what Kombo's OpenAPI document says, for all ten endpoints.

The spec is walked here independently (PyYAML and a few functions of this file, not the catalog's
reader): every response field with its nullability and presence, every enum's values, every query
parameter and its kind, every rule of ``gateway/kombo/catalog/rules.py``; then the GraphQL schema
built from the catalog is checked against the same walk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLSchema, get_named_type

from gateway.kombo.catalog import (
    CATALOG,
    EnumShape,
    ListShape,
    Model,
    ObjectShape,
    UnionShape,
    rules,
)
from gateway.schema import build_schema

SPEC_FILE = Path(__file__).parents[2] / "gateway/kombo/spec/kombo-ats-read.openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text("utf-8"))
SCHEMAS = SPEC["components"]["schemas"]

ENDPOINTS = {
    "/ats/interviews": "Interview",
    "/ats/applications": "Application",
    "/ats/candidates": "Candidate",
    "/ats/jobs": "Job",
    "/ats/users": "User",
    "/ats/offers": "Offer",
    "/ats/tags": "Tag",
    "/ats/rejection-reasons": "RejectionReason",
    "/ats/application-stages": "ApplicationStage",
    "/ats/roles": "Role",
}
PAGING = {"cursor", "page_size"}
DEPRECATED_PARAMS = {"outcome", "status"}


def resolve(schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def types_of(schema: Any) -> list[str]:
    t = resolve(schema).get("type")
    return [] if t is None else (list(t) if isinstance(t, list) else [t])


def alternatives(schema: Any) -> list[Any]:
    schema = resolve(schema)
    return [resolve(a) for a in schema.get("anyOf") or schema.get("oneOf") or ()]


def spec_nullable(schema: Any) -> bool:
    """Null is allowed: ``type`` holds "null", an alternative is null, or nothing constrains the
    value at all (``raw_question: {description: ...}`` takes any JSON, null included)."""
    schema = resolve(schema)
    unconstrained = not types_of(schema) and not alternatives(schema) and "enum" not in schema
    return (
        unconstrained
        or "null" in types_of(schema)
        or any(types_of(a) == ["null"] for a in alternatives(schema))
    )


def spec_known_values(schema: Any) -> tuple[str, ...] | None:
    """A closed enum's values, or an open one's (``anyOf`` an enum and any string)."""
    closed = spec_enum(schema)
    if closed is not None:
        return closed
    found = tuple(v for a in alternatives(schema) for v in a.get("enum", ()) if v is not None)
    return found or None


def spec_enum(schema: Any) -> tuple[str, ...] | None:
    schema = resolve(schema)
    if "enum" in schema and "string" in types_of(schema):
        return tuple(v for v in schema["enum"] if v is not None)
    return None


def results_schema(path: str) -> Any:
    get = SPEC["paths"][path]["get"]
    body = resolve(get["responses"]["200"]["content"]["application/json"]["schema"])
    return resolve(body["properties"]["data"]["properties"]["results"]["items"])


def objects_in(schema: Any) -> list[Any]:
    """The object schemas a property holds: itself, its items, its non-null alternatives."""
    schema = resolve(schema)
    if "array" in types_of(schema):
        return objects_in(schema["items"])
    if alternatives(schema):
        return [o for a in alternatives(schema) for o in objects_in(a)]
    if "properties" in schema:
        return [schema]
    return []


def property_names(schema: Any) -> Iterator[str]:
    for name, prop in resolve(schema).get("properties", {}).items():
        yield name
        for inner in objects_in(prop):
            yield from property_names(inner)


SPEC_PROPERTIES = {name for path in ENDPOINTS for name in property_names(results_schema(path))}


def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_to_pascal(name: str) -> str:
    camel = snake_to_camel(name)
    return camel[:1].upper() + camel[1:]


def label(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def test_the_catalog_has_the_ten_endpoints() -> None:
    assert {m.path: m.name for m in CATALOG} == ENDPOINTS
    assert set(ENDPOINTS) <= set(SPEC["paths"])


# --- fields -------------------------------------------------------------------------------------


def inner_object(shape: Any) -> ObjectShape | UnionShape | None:
    while isinstance(shape, ListShape):
        shape = shape.item
    return shape if isinstance(shape, ObjectShape | UnionShape) else None


def check_object(schema: Any, shape: ObjectShape, where: str, problems: list[str]) -> None:
    """Each property of ``schema`` is a field of ``shape`` as the spec says, recursively."""
    schema = resolve(schema)
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        here = f"{where}.{name}"
        try:
            f = shape.field(name)
        except KeyError:
            problems.append(f"{here}: not in the catalog")
            continue
        if f.nullable != spec_nullable(prop):
            problems.append(f"{here}: nullable {f.nullable}, the spec {spec_nullable(prop)}")
        if f.required != (name in required):
            problems.append(f"{here}: required {f.required}, the spec {name in required}")
        values = spec_enum(prop if "array" not in types_of(prop) else resolve(prop)["items"])
        enum = f.shape.item if isinstance(f.shape, ListShape) else f.shape
        if values is not None and (not isinstance(enum, EnumShape) or enum.values != values):
            problems.append(f"{here}: enum {getattr(enum, 'values', enum)}, the spec {values}")
        known = spec_known_values(prop)
        if values is None and known is not None and f.known_values != known:
            problems.append(f"{here}: known values {f.known_values}, the spec {known}")
        inner = inner_object(f.shape)
        spec_objects = objects_in(prop)
        if isinstance(inner, ObjectShape) and len(spec_objects) == 1:
            check_object(spec_objects[0], inner, here, problems)
        elif isinstance(inner, UnionShape):
            if len(inner.members) != len(spec_objects):
                problems.append(
                    f"{here}: {len(inner.members)} members, the spec {len(spec_objects)}"
                )
            for member, member_schema in zip(inner.members, spec_objects, strict=False):
                check_object(member_schema, member, f"{here}<{member.name}>", problems)
        elif spec_objects and inner is None:
            problems.append(f"{here}: an object in the spec, no object in the catalog")


@pytest.mark.parametrize("path", list(ENDPOINTS), ids=label)
def test_every_response_field_is_in_the_catalog_as_the_spec_says(path: str) -> None:
    model = CATALOG.by_path(path)
    problems: list[str] = []
    check_object(results_schema(path), model.shape, model.name, problems)
    assert problems == []
    # And nothing else, but for fields only inline records carry.
    spec_fields = set(resolve(results_schema(path))["properties"])
    extra = {f.name for f in model.shape.fields if not f.inline_only} - spec_fields
    assert extra == set()


def test_enums_are_checked_somewhere() -> None:
    """The walk above meets enums (it is not vacuous)."""
    found = [
        name
        for path in ENDPOINTS
        for name, prop in resolve(results_schema(path))["properties"].items()
        if spec_enum(prop)
    ]
    assert len(found) >= 5


# --- parameters ---------------------------------------------------------------------------------


def spec_params(path: str) -> list[dict[str, Any]]:
    return [
        p
        for p in SPEC["paths"][path]["get"]["parameters"]
        if p.get("in") == "query" and p["name"] not in PAGING
    ]


def expected_kind(param: dict[str, Any]) -> str:
    schema = resolve(param["schema"])
    description = param.get("description") or ""
    name = param["name"]
    if schema.get("enum") == ["true", "false"] or "boolean" in types_of(schema):
        return "boolean"
    if schema.get("format") == "date-time":
        return "datetime"
    if "comma-separated" in description:
        if name == "ids" or (name.endswith("_ids") and "remote" not in name):
            return "ids"
        if re.search(r"comma-separated list of `[A-Z_]+`", description):
            return "enums"
        return "strings"
    return "string"


@pytest.mark.parametrize("path", list(ENDPOINTS), ids=label)
def test_every_query_parameter_is_a_param_of_the_right_kind(path: str) -> None:
    model = CATALOG.by_path(path)
    expected = {}
    for param in spec_params(path):
        if param["name"] in DEPRECATED_PARAMS:
            assert "Deprecated" in (param.get("description") or "") or param.get("deprecated")
            continue
        expected[param["name"]] = expected_kind(param)
    assert {p.name: p.kind for p in model.params} == expected


@pytest.mark.parametrize("path", list(ENDPOINTS), ids=label)
def test_enum_params_take_the_values_of_their_field(path: str) -> None:
    model = CATALOG.by_path(path)
    for param in model.params:
        if param.kind != "enums":
            continue
        raw = next(p for p in spec_params(path) if p["name"] == param.name)
        listed = re.findall(r"`([A-Z_]+)`", raw["description"].split("\n")[0])
        assert param.enum is not None
        assert set(listed) <= set(param.enum.values), param.name
        field = resolve(results_schema(path))["properties"][rules.ENUM_PARAMS[param.name]]
        assert param.enum.values == spec_known_values(field), param.name


# --- rules --------------------------------------------------------------------------------------


def test_each_rule_names_what_the_spec_has() -> None:
    names = {m.name for m in CATALOG}
    assert {path for _, path in rules.MODELS} == set(ENDPOINTS)
    for field, model in rules.INLINE_RECORDS.items():
        assert field in SPEC_PROPERTIES, field
        assert model in names, model
    for field, model in rules.ID_REFERENCES.items():
        assert field in SPEC_PROPERTIES, field
        assert model in names, model
    every_param = {p["name"] for path in ENDPOINTS for p in spec_params(path)}
    for param, model in rules.ID_PARAMS.items():
        assert param in every_param, param
        assert model is None or model in names, model
    for param, field in rules.ENUM_PARAMS.items():
        endpoints = [path for path in ENDPOINTS if param in {p["name"] for p in spec_params(path)}]
        assert endpoints, param
        for path in endpoints:
            assert field in resolve(results_schema(path))["properties"], (param, field)
    for field in rules.NESTED_NAMES:
        assert field in SPEC_PROPERTIES, field
    for model, field in rules.INLINE_FIELD_OF.items():
        assert model in names and f"{field}_id" in SPEC_PROPERTIES


def inline_records(shape: Any, seen: set[int] | None = None) -> Iterator[ObjectShape]:
    seen = set() if seen is None else seen
    inner = inner_object(shape)
    if inner is None or id(inner) in seen:
        return
    seen.add(id(inner))
    members = inner.members if isinstance(inner, UnionShape) else (inner,)
    for member in members:
        if member.model is not None:
            yield member
        for f in member.fields:
            yield from inline_records(f.shape, seen)


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
def test_inline_records_fields_are_their_models_or_marked_inline_only(model: Model) -> None:
    found = 0
    for f in model.shape.fields:
        for inline in inline_records(f.shape):
            found += 1
            target = CATALOG[inline.model or ""]
            own = set(resolve(results_schema(target.path))["properties"])
            for inline_field in inline.fields:
                model_field = target.shape.field(inline_field.name)
                assert inline_field.name in own or model_field.inline_only, (
                    f"{model.name}.{f.name}.{inline_field.name}"
                )
    if model.name in {"Interview", "Application", "Candidate", "Job", "Offer"}:
        assert found > 0


# --- the GraphQL schema -------------------------------------------------------------------------

GRAPHQL: GraphQLSchema = build_schema()._schema


def graphql_field(type_name: str, field: str) -> Any:
    type_ = GRAPHQL.get_type(type_name)
    assert type_ is not None, type_name
    fields = type_.fields  # type: ignore[attr-defined]
    assert field in fields, f"{type_name}.{field}"
    return fields[field]


@pytest.mark.parametrize("path", list(ENDPOINTS), ids=label)
def test_every_spec_field_is_on_its_graphql_type_with_the_specs_nullability(path: str) -> None:
    model = ENDPOINTS[path]
    schema = resolve(results_schema(path))
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        # Kombo's id is `komboId`; `id` is the global id (both non-null).
        graphql_name = "komboId" if name == "id" else snake_to_camel(name)
        definition = graphql_field(model, graphql_name)
        non_null = isinstance(definition.type, GraphQLNonNull)
        if spec_nullable(prop):
            assert not non_null, f"{model}.{graphql_name}"
        elif name in required:
            assert non_null, f"{model}.{graphql_name}"
    assert isinstance(graphql_field(model, "id").type, GraphQLNonNull)


@pytest.mark.parametrize("path", list(ENDPOINTS), ids=label)
def test_every_param_is_on_the_filter_camel_cased(path: str) -> None:
    model = ENDPOINTS[path]
    filter_type = GRAPHQL.get_type(f"{model}Filter")
    assert filter_type is not None
    expected = {
        snake_to_camel(p["name"]) for p in spec_params(path) if p["name"] not in DEPRECATED_PARAMS
    }
    assert set(filter_type.fields) == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", list(ENDPOINTS), ids=label)
def test_closed_enums_are_named_type_and_field(path: str) -> None:
    model = ENDPOINTS[path]
    for name, prop in resolve(results_schema(path))["properties"].items():
        values = spec_enum(prop)
        if values is None:
            continue
        named = get_named_type(graphql_field(model, snake_to_camel(name)).type)
        assert isinstance(named, GraphQLEnumType)
        assert named.name == model + snake_to_pascal(name)
        assert tuple(v.value for v in named.values.values()) == values

"""Kombo's OpenAPI document read into the catalog: ten :class:`Model` values.

The walk is mechanical: every property of an endpoint's result schema becomes a :class:`Field`
with the spec's type, nullability, presence and description; :mod:`gateway.kombo.catalog.rules`
adds what the spec says only in prose (which inline objects are which model's records, which ids
refer to which model, the values of comma-separated enum parameters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

from gateway.kombo.catalog import rules
from gateway.kombo.catalog.shapes import (
    EnumShape,
    Field,
    ListShape,
    Model,
    NestedChange,
    ObjectShape,
    Param,
    Reference,
    Scalar,
    Shape,
    UnionShape,
)

SPEC_FILE = "kombo-ats-read.openapi.yaml"
DEPRECATED = "(⚠️ Deprecated"

Json = Mapping[str, Any]


def load_spec() -> Json:
    """The OpenAPI document shipped in ``gateway/kombo/spec`` (a verbatim copy of Kombo's)."""
    text = resources.files("gateway.kombo").joinpath("spec", SPEC_FILE).read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: Json = yaml.load(text, Loader=loader)
    return spec


def pascal(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:].lower() for part in re.split(r"[_\-\s]+", snake))


def camel(snake: str) -> str:
    p = pascal(snake)
    return p[:1].lower() + p[1:]


def upper_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith(("ss", "us")) else name


def _types(schema: Json) -> list[str]:
    t = schema.get("type")
    if t is None:
        return []
    return list(t) if isinstance(t, list) else [t]


def _deprecated(description: str | None) -> bool:
    return bool(description) and DEPRECATED in (description or "")


class _Reader:
    """One pass over the spec; remembers named objects and enums to share them by name."""

    def __init__(self, spec: Json) -> None:
        self.spec = spec
        self.schemas: Json = spec["components"]["schemas"]
        self.enums: dict[tuple[str, tuple[str, ...]], EnumShape] = {}
        self.objects: dict[str, ObjectShape] = {}
        self.inline: dict[str, list[ObjectShape]] = {}

    def resolve(self, schema: Json) -> Json:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    # -- values ---------------------------------------------------------------------------

    def enum(
        self, owner: str, field: str, values: tuple[str, ...], description: str | None
    ) -> EnumShape:
        """Enums are shared by (field name, values): an inline offer's ``status`` is
        ``OfferStatus``."""
        key = (field, values)
        known = self.enums.get(key)
        if known is None:
            known = EnumShape(owner + pascal(field), values, description)
            self.enums[key] = known
        return known

    def value(self, owner: str, name: str, schema: Json) -> tuple[Shape, bool, tuple[str, ...]]:
        """(shape, nullable, an open enum's known values) of one property's schema."""
        schema = self.resolve(schema)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            return self.alternatives(owner, name, schema, [self.resolve(a) for a in alternatives])
        types = _types(schema)
        nullable = "null" in types
        types = [t for t in types if t != "null"]
        kind = types[0] if len(types) == 1 else None
        if "enum" in schema and kind == "string":
            values = tuple(v for v in schema["enum"] if v is not None)
            return self.enum(owner, name, values, schema.get("description")), nullable, ()
        if "const" in schema:
            return Scalar("String"), nullable, ()
        if kind == "string":
            if schema.get("format") == "date-time":
                return Scalar("DateTime"), nullable, ()
            if name == "id" or (name.endswith("_id") and name != "remote_id"):
                return Scalar("ID"), nullable, ()
            return Scalar("String"), nullable, ()
        if kind == "integer":
            return Scalar("Int"), nullable, ()
        if kind == "number":
            return Scalar("Float"), nullable, ()
        if kind == "boolean":
            return Scalar("Boolean"), nullable, ()
        if kind == "array":
            items = self.resolve(schema["items"])
            if "object" in _types(items) and "properties" in items:
                return ListShape(self.object(owner, name, items)), nullable, ()
            if items.get("anyOf") or items.get("oneOf"):
                item, _, _ = self.value(owner, name, items)
            else:
                item, _, _ = self.value(owner, _singular(name), items)
            return ListShape(item), nullable, ()
        if kind == "object" and "properties" in schema:
            return self.object(owner, name, schema), nullable, ()
        return Scalar("JSON"), nullable or not types, ()

    def alternatives(
        self, owner: str, name: str, schema: Json, alternatives: list[Json]
    ) -> tuple[Shape, bool, tuple[str, ...]]:
        nullable = any(_types(a) == ["null"] for a in alternatives)
        rest = [a for a in alternatives if _types(a) != ["null"]]
        if all(_types(a) == ["string"] for a in rest):
            known = tuple(v for a in rest for v in a.get("enum", ()))
            return Scalar("String"), nullable, known
        objects = [a for a in rest if "object" in _types(a) and "properties" in a]
        if len(objects) == len(rest) == 1:
            return self.object(owner, name, objects[0]), nullable, ()
        if len(objects) == len(rest) > 1:
            return self.union(owner, name, schema, objects), nullable, ()
        return Scalar("JSON"), True, ()

    def union(self, owner: str, name: str, schema: Json, members: list[Json]) -> UnionShape:
        union_name = rules.NESTED_NAMES.get(name, owner + pascal(name))
        shapes = []
        for member in members:
            path, const = _discriminator(member)
            member_name = pascal(const) + union_name
            shape = self.object(owner, name, member, type_name=member_name)
            shapes.append(
                ObjectShape(
                    shape.name, shape.fields, shape.description, discriminator=(path, const)
                )
            )
            self.objects[member_name] = shapes[-1]
        return UnionShape(union_name, tuple(shapes), schema.get("description"))

    # -- objects --------------------------------------------------------------------------

    def object(
        self, owner: str, name: str, schema: Json, *, type_name: str | None = None
    ) -> ObjectShape:
        schema = self.resolve(schema)
        model = rules.INLINE_RECORDS.get(name) if type_name is None else None
        if model is not None:
            shape = self.fields_of(model, schema, model=model)
            self.inline.setdefault(model, []).append(shape)
            return shape
        if type_name is None:
            type_name = rules.NESTED_NAMES.get(name, owner + pascal(_singular(name)))
            type_name = type_name.replace("{owner}", owner)
        shape = self.fields_of(type_name, schema, description=schema.get("description"))
        known = self.objects.get(type_name)
        if known is None:
            self.objects[type_name] = shape
            return shape
        if known.field_names != shape.field_names:
            raise ValueError(
                f"two shapes named {type_name}: {known.field_names ^ shape.field_names}"
            )
        return known

    def fields_of(
        self,
        type_name: str,
        schema: Json,
        *,
        model: str | None = None,
        description: str | None = None,
    ) -> ObjectShape:
        required = set(schema.get("required", ()))
        fields = []
        for prop, prop_schema in schema["properties"].items():
            shape, nullable, known = self.value(type_name, prop, prop_schema)
            text = self.resolve(prop_schema).get("description") or prop_schema.get("description")
            fields.append(
                Field(
                    prop,
                    shape,
                    nullable=nullable,
                    required=prop in required,
                    description=text,
                    known_values=known,
                    deprecated=_deprecated(text),
                )
            )
        id_from = None
        if model is not None and "id" not in schema["properties"]:
            id_from = f"{rules.INLINE_FIELD_OF.get(model, camel(model))}_id"
        return ObjectShape(type_name, tuple(fields), description, model=model, id_from=id_from)

    # -- endpoints ------------------------------------------------------------------------

    def prime_enums(self, name: str, path: str) -> None:
        """Name the models' own enums first (``OfferStatus``), so inline copies share them."""
        for prop, schema in self._items(path)["properties"].items():
            schema = self.resolve(schema)
            if "enum" in schema and "string" in _types(schema):
                values = tuple(v for v in schema["enum"] if v is not None)
                self.enum(name, prop, values, schema.get("description"))

    def _items(self, path: str) -> Json:
        get = self.spec["paths"][path]["get"]
        body = self.resolve(get["responses"]["200"]["content"]["application/json"]["schema"])
        return self.resolve(body["properties"]["data"]["properties"]["results"]["items"])

    def model(self, name: str, path: str) -> Model:
        get = self.spec["paths"][path]["get"]
        items = self._items(path)
        shape = self.fields_of(name, items, model=name, description=items.get("description"))
        params = tuple(p for p in (self.param(name, shape, raw) for raw in get["parameters"]) if p)
        nested: tuple[NestedChange, ...] = ()
        for raw in get["parameters"]:
            if raw.get("name") == "updated_after":
                nested = _nested_changes(raw.get("description") or "")
        return Model(
            name=name,
            path=path,
            plural=camel(path.rsplit("/", 1)[-1]),
            singular=name[:1].lower() + name[1:],
            node_type=upper_snake(name),
            shape=shape,
            params=params,
            description=_first_paragraph(get.get("description")),
            nested_changes=nested,
        )

    def param(self, model: str, shape: ObjectShape, raw: Json) -> Param | None:
        if raw.get("in") != "query" or raw["name"] in ("cursor", "page_size"):
            return None
        name = raw["name"]
        description = raw.get("description")
        schema = self.resolve(raw["schema"])
        if _deprecated(description) or raw.get("deprecated"):
            return None
        if schema.get("enum") == ["true", "false"]:
            return Param(name, "boolean", description, default=schema.get("default") == "true")
        if schema.get("format") == "date-time":
            return Param(name, "datetime", description)
        if name in rules.ID_PARAMS:
            return Param(name, "ids", description, model=rules.ID_PARAMS[name] or model)
        if name in rules.ENUM_PARAMS:
            values = tuple(re.findall(r"`([A-Z_]+)`", (description or "").split("\n")[0]))
            field = shape.field(rules.ENUM_PARAMS[name])
            enum = (
                field.shape
                if isinstance(field.shape, EnumShape)
                else self.enum(model, field.name, values, field.description)
            )
            return Param(name, "enums", description, enum=enum)
        if "comma-separated" in (description or ""):
            return Param(name, "strings", description)
        return Param(name, "string", description)


def _discriminator(member: Json) -> tuple[str, str]:
    """The field path holding a ``const`` in a union member: ``type`` or ``question.type``."""
    for prop, schema in member["properties"].items():
        if "const" in schema:
            return prop, schema["const"]
        for inner, inner_schema in schema.get("properties", {}).items():
            if "const" in inner_schema:
                return f"{prop}.{inner}", inner_schema["const"]
    raise ValueError(f"a union member without a constant: {sorted(member['properties'])}")


def _first_paragraph(text: str | None) -> str | None:
    return text.split("\n\n", 1)[0].strip() if text else None


def _nested_changes(description: str) -> tuple[NestedChange, ...]:
    # "n/a" in the Added/Removed column: a single record (an interview's `application`).
    rows = re.findall(
        r"^\| `([^`]+)` \| (✓|✗|n/a)[^|]*\| (✓|✗|n/a)[^|]*\|$", description, re.MULTILINE
    )
    return tuple(NestedChange(path, a == "✓", b == "✓") for path, a, b in rows)


def _with_extras(model: Model, inline: list[ObjectShape]) -> Model:
    """The model's GraphQL fields: its own, plus fields only inline records carry (nullable)."""
    own = model.shape.field_names
    extras: dict[str, Field] = {}
    for shape in inline:
        for f in shape.fields:
            if f.name not in own and f.name not in extras:
                extras[f.name] = Field(
                    f.name,
                    f.shape,
                    nullable=True,
                    required=False,
                    description=f.description,
                    known_values=f.known_values,
                    deprecated=f.deprecated,
                    inline_only=True,
                )
    references = tuple(
        Reference(f.name, f.name[: -len("_id")], rules.ID_REFERENCES[f.name])
        for f in model.shape.fields
        if f.name in rules.ID_REFERENCES and f.name[: -len("_id")] not in own
    )
    shape = model.shape
    full = ObjectShape(
        shape.name, shape.fields + tuple(extras.values()), shape.description, model=model.name
    )
    return Model(
        name=model.name,
        path=model.path,
        plural=model.plural,
        singular=model.singular,
        node_type=model.node_type,
        shape=full,
        params=model.params,
        description=model.description,
        nested_changes=model.nested_changes,
        references=references,
    )


def read_models(spec: Json) -> tuple[Model, ...]:
    """The ten models of :data:`rules.MODELS`, read from ``spec``."""
    reader = _Reader(spec)
    for name, path in rules.MODELS:
        reader.prime_enums(name, path)
    models = [reader.model(name, path) for name, path in rules.MODELS]
    return tuple(_with_extras(m, reader.inline.get(m.name, [])) for m in models)

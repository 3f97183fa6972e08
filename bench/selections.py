"""GraphQL selections of "all fields" of a model, derived from the catalog.

"All fields" means everything Kombo's endpoint returns for one record, nothing the gateway has to
fetch besides: every scalar, enum and nested object field of the model's record, each inline
record (a job's ``stages``, an application's ``candidate``) with exactly the fields the endpoint
inlines, and each union (screening question formats and answers) as ``__typename`` plus one inline
fragment per member. Model records get ``id`` (the global id) and ``komboId`` (Kombo's id, which
the bench compares with REST's). Left out: references (``Interview.stage`` from ``stageId``) and
nested connections (``Job.interviews``), which are other upstream calls; fields only inline records
carry (a stage's ``index``) are left out of the top-level record, whose endpoint lacks them.

:func:`completion_fields` gives the opposite: for each inline record of a model, one field the
inline record lacks, so that selecting it makes the gateway complete those records.

Names follow the schema's rule (CONTRACT 1.2): fields camelCased with :func:`camel`, nested and
member types named as the catalog names them. Leaf fields of one name but different types in two
union members (``displayType``: ``TextScreeningQuestionFormatDisplayType`` vs
``NumberScreeningQuestionFormatDisplayType``) would be a GraphQL merge conflict, so those get an
alias named after their member (``textDisplayType: displayType``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.kombo.catalog import (
    CATALOG,
    EnumShape,
    Field,
    ListShape,
    Model,
    ObjectShape,
    Scalar,
    Shape,
    UnionShape,
    camel,
)

__all__ = ["InlineRecord", "all_fields", "all_fields_page", "completion_fields", "inline_records"]

_INDENT = "  "
_WIDTH = 100


def _unlisted(shape: Shape) -> Shape:
    while isinstance(shape, ListShape):
        shape = shape.item
    return shape


def _leaf_type(field: Field) -> object:
    """What a leaf field's GraphQL type depends on (None for object fields): for merge conflicts."""
    depth, shape = 0, field.shape
    while isinstance(shape, ListShape):
        depth, shape = depth + 1, shape.item
    if isinstance(shape, Scalar):
        return (depth, shape.kind, field.nullable)
    if isinstance(shape, EnumShape):
        return (depth, shape.name, field.nullable)
    return None


def _object(shape: ObjectShape, depth: int, top: bool = False) -> list[str]:
    """The lines selecting every field of ``shape``: leaves packed, objects on their own lines."""
    fields = [
        f
        for f in shape.fields
        if not (f.name == "id" and shape.model is not None) and not (top and f.inline_only)
    ]
    return _pack(["id komboId"] if shape.model is not None else [], fields, depth, {})


def _pack(words: list[str], fields: list[Field], depth: int, aliases: dict[str, str]) -> list[str]:
    """Leaf fields (after ``words``) joined on lines of at most :data:`_WIDTH` characters; object
    and union fields on lines of their own, in field order."""
    pad = _INDENT * depth
    lines: list[str] = []
    line = " ".join(words)
    for field in fields:
        selected = _field(field, depth, aliases.get(field.name, ""))
        if len(selected) > 1 or "{" in selected[0]:
            lines += [pad + line] if line else []
            lines += selected
            line = ""
        elif not line:
            line = selected[0].strip()
        elif len(pad) + len(line) + 1 + len(selected[0].strip()) <= _WIDTH:
            line += " " + selected[0].strip()
        else:
            lines.append(pad + line)
            line = selected[0].strip()
    return [*lines, pad + line] if line else lines


def _field(field: Field, depth: int, alias: str = "") -> list[str]:
    pad = _INDENT * depth
    name = f"{alias}: {camel(field.name)}" if alias else camel(field.name)
    inner = _unlisted(field.shape)
    if isinstance(inner, ObjectShape):
        body = _object(inner, depth + 1)
        one_line = f"{pad}{name} {{ {body[0].strip()} }}"
        if len(body) == 1 and len(one_line) <= _WIDTH:
            return [one_line]  # ``location { city country … }``: a leaf-like line, packed too
        return [f"{pad}{name} {{", *body, f"{pad}}}"]
    if isinstance(inner, UnionShape):
        return [f"{pad}{name} {{", *_union(inner, depth + 1), f"{pad}}}"]
    return [f"{pad}{name}"]


def _union(union: UnionShape, depth: int) -> list[str]:
    pad = _INDENT * depth
    leaf_types: dict[str, set[object]] = {}
    for member in union.members:
        for f in member.fields:
            leaf_types.setdefault(f.name, set()).add(_leaf_type(f))
    lines = [f"{pad}__typename"]
    for member in union.members:
        prefix = member.name.removesuffix(union.name)
        prefix = prefix[:1].lower() + prefix[1:]
        aliases = {
            f.name: prefix + camel(f.name)[:1].upper() + camel(f.name)[1:]
            for f in member.fields
            if len(leaf_types[f.name]) > 1 and _leaf_type(f) is not None
        }
        lines.append(f"{pad}... on {member.name} {{")
        lines += _pack([], list(member.fields), depth + 1, aliases)
        lines.append(f"{pad}}}")
    return lines


def all_fields(model: Model, depth: int = 0) -> str:
    """Every field of one record of ``model`` as its endpoint returns it (the module's doc)."""
    return "\n".join(_object(model.shape, depth, top=True))


def all_fields_page(model: Model, name: str = "AllFields") -> str:
    """A query for one page of ``model`` with :func:`all_fields`, edge cursors and page info:
    variables ``$first``, ``$after`` and ``$filter`` (the model's filter input)."""
    return (
        f"query {name}($first: Int, $after: String, $filter: {model.name}Filter) {{\n"
        f"  {model.plural}(first: $first, after: $after, filter: $filter) {{\n"
        f"    edges {{\n      cursor\n      node {{\n{all_fields(model, 4)}\n      }}\n    }}\n"
        "    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n"
        "  }\n}"
    )


@dataclass(frozen=True)
class InlineRecord:
    """An inline record of a model's endpoint: where it is, whose record, one field it lacks."""

    path: tuple[str, ...]
    """Kombo field names from the model's record down to it (``("application", "candidate")``)."""
    model: str
    lacking: str | None
    """A field of ``model``'s own endpoint that the inline record does not carry (None: it
    carries them all); selecting it makes the gateway complete the record."""


def _lacking(inline: ObjectShape, model: Model) -> str | None:
    """The first leaf field of ``model``'s records that ``inline`` lacks (object fields and lists
    of records would pull in more records; a leaf is the plainest thing to complete)."""
    carried = inline.field_names
    for field in model.shape.fields:
        if field.inline_only or field.name in carried or field.name == "id":
            continue
        if _leaf_type(field) is not None:
            return field.name
    return None


def inline_records(model: Model) -> list[InlineRecord]:
    """Every inline record in ``model``'s records, nested ones included, in field order."""
    found: list[InlineRecord] = []

    def walk(shape: ObjectShape, path: tuple[str, ...]) -> None:
        for field in shape.fields:
            inner = _unlisted(field.shape)
            if not isinstance(inner, ObjectShape):
                continue
            here = (*path, field.name)
            if inner.model is not None:
                found.append(InlineRecord(here, inner.model, _lacking(inner, CATALOG[inner.model])))
            walk(inner, here)

    walk(model.shape, ())
    return found


def completion_fields(model: Model) -> str:
    """A selection of ``model`` that completes each of its first-level inline records: their
    ``komboId`` and the field :attr:`InlineRecord.lacking` names. Empty when it has none."""
    first_level = [r for r in inline_records(model) if len(r.path) == 1]
    return "\n".join(
        f"{camel(r.path[0])} {{ komboId {camel(r.lacking)} }}"
        for r in first_level
        if r.lacking is not None
    )

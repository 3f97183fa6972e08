"""Checks a JSON value against a catalog shape, independently of the sandbox's own code: what
"shaped like the spec" means for a record."""

from __future__ import annotations

import re
from typing import Any

from gateway.kombo.catalog import EnumShape, ListShape, ObjectShape, Scalar, Shape, UnionShape

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_SCALARS: dict[str, tuple[type, ...]] = {
    "String": (str,),
    "ID": (str,),
    "Int": (int,),
    "Float": (int, float),
    "Boolean": (bool,),
}


def _member(shape: UnionShape, value: dict[str, Any]) -> ObjectShape | None:
    for member in shape.members:
        assert member.discriminator is not None
        path, const = member.discriminator
        current: Any = value
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if current == const:
            return member
    return None


def shape_errors(shape: Shape, value: Any, where: str, *, top_level: bool = False) -> list[str]:
    """Where ``value`` breaks ``shape`` (empty: it fits). ``top_level``: a model's own endpoint,
    where inline-only fields must be absent."""
    if isinstance(shape, Scalar):
        if shape.kind == "JSON":
            return []
        if shape.kind == "DateTime":
            ok = isinstance(value, str) and TIMESTAMP.fullmatch(value) is not None
            return [] if ok else [f"{where}: {value!r} is no timestamp"]
        if shape.kind != "Boolean" and isinstance(value, bool):
            return [f"{where}: {value!r} is a boolean, not {shape.kind}"]
        return (
            []
            if isinstance(value, _SCALARS[shape.kind])
            else [f"{where}: {value!r} not {shape.kind}"]
        )
    if isinstance(shape, EnumShape):
        return [] if value in shape.values else [f"{where}: {value!r} not in {shape.name}"]
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is no list"]
        errors = []
        for n, item in enumerate(value):
            errors += shape_errors(shape.item, item, f"{where}[{n}]")
        return errors
    if isinstance(shape, UnionShape):
        member = _member(shape, value) if isinstance(value, dict) else None
        if member is None:
            return [f"{where}: no member of {shape.name} fits {value!r}"]
        return shape_errors(member, value, where)
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is no object"]
    errors = []
    known = {f.name for f in shape.fields}
    errors += [f"{where}.{k}: not in the spec" for k in value.keys() - known]
    for f in shape.fields:
        here = f"{where}.{f.name}"
        if top_level and f.inline_only:
            if f.name in value:
                errors.append(f"{here}: inline-only, present at the top level")
            continue
        if f.name not in value:
            if f.required:
                errors.append(f"{here}: required, absent")
            continue
        item = value[f.name]
        if item is None:
            if not f.nullable:
                errors.append(f"{here}: null, not nullable")
            continue
        errors += shape_errors(f.shape, item, here)
    return errors

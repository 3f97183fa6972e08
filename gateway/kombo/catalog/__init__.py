"""The one description of Kombo's ten ATS read models, read from Kombo's own OpenAPI document.

Everything model-specific in the gateway is derived from :data:`CATALOG`: the GraphQL types and
filters, the query parameters sent, the parsing of answers, the loaders, the cost estimate and the
sandbox. The spec ships in ``gateway/kombo/spec`` (a verbatim copy; README "Upstream spec").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from gateway.kombo.catalog.reading import camel, load_spec, pascal, read_models
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

__all__ = [
    "CATALOG",
    "Catalog",
    "EnumShape",
    "Field",
    "ListShape",
    "Model",
    "NestedChange",
    "ObjectShape",
    "Param",
    "Reference",
    "Scalar",
    "Shape",
    "UnionShape",
    "camel",
    "catalog",
    "pascal",
]


@dataclass(frozen=True, eq=False)
class Catalog:
    models: tuple[Model, ...]

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __getitem__(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def by_path(self, path: str) -> Model:
        for m in self.models:
            if m.path == path:
                return m
        raise KeyError(path)


@cache
def catalog() -> Catalog:
    """The catalog, read from the spec once per process (~0.1 s)."""
    return Catalog(read_models(load_spec()))


CATALOG = catalog()

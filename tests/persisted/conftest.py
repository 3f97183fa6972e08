from __future__ import annotations

import pytest
from graphql import GraphQLSchema

from gateway.schema import build_schema


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema

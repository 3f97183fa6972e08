"""GraphQL Mesh as a target: the npm project in ``bench/mesh``, set up at run time (issue 12).

Mesh (``@graphql-mesh/cli`` with its OpenAPI handler, pinned by ``bench/mesh/package-lock.json``,
installed by ``make mesh-deps``) is what a team would run instead of the gateway: a GraphQL
schema generated from Kombo's OpenAPI document, each query field one REST call. The harness
writes, into a temp dir:

- a copy of ``gateway/kombo/spec/kombo-ats-read.openapi.yaml`` rewritten to OpenAPI 3.0: Kombo's
  document is 3.1, where a nullable value is ``type: [string, "null"]``; Mesh 0.103's handler
  types such fields non-null, so the first ``null`` in a record answers "Cannot return null for
  non-nullable field" and the page comes back ``null``: no data (issue 12). So every such
  ``type`` becomes ``type: string, nullable: true`` (and ``openapi: 3.0.3``, without the 3.1-only
  ``webhooks``), and the ``'false'`` defaults of Kombo's ``'true'``/``'false'`` query parameters
  are dropped (Mesh would send them as ``FALSE``), and the ``minimum`` of the numbers that is
  the lowest double (Mesh would type them ``BigInt`` and fail on ``37.5``; :func:`openapi_30`);
- ``.meshrc.yaml``: that document as the one source, its endpoint the sandbox upstream the other
  targets use, with ``Authorization: Bearer <key>``; ``X-Integration-Id`` is a header parameter
  of every operation in the document, so Mesh makes it an argument (``X_Integration_Id``) and
  sends it as the header.

Then ``mesh build`` and ``mesh start`` (production mode: ``NODE_ENV=production``, one forked
worker per core, Mesh's default) on a free loopback port. The documents the target sends are
generated from Mesh's own schema (introspected): every field of the page's records, as with (e)
and (f) for the gateway.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import yaml
from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
)

from bench.errors import HarnessError
from bench.procfs import process_tree
from bench.scenarios import LIST_VIEW, Answer, HttpRequest, Scenario, Target, _json
from bench.servers import ROOT, Server, _wait_until_ready, free_port

__all__ = [
    "MESH_DIR",
    "MESH_OPERATIONS",
    "MeshTarget",
    "introspect",
    "mesh_bin",
    "mesh_config",
    "mesh_serves",
    "openapi_30",
    "page_document",
    "run_mesh",
    "write_mesh_project",
]

MESH_DIR = ROOT / "bench" / "mesh"
"""The npm project (package.json + package-lock.json); ``make mesh-deps`` installs it."""

SPEC = ROOT / "gateway" / "kombo" / "spec" / "kombo-ats-read.openapi.yaml"

MESH_OPERATIONS: Mapping[str, str] = {
    "Interview": "GetAtsInterviews",
    "Job": "GetAtsJobs",
    "Application": "GetAtsApplications",
}
"""Catalog model → Mesh's query field (the OpenAPI operationId) of its ``GET /ats/…`` page."""

MAX_DEPTH = 8
"""Nesting limit of generated selections (Mesh's OpenAPI types have no cycles without links)."""


def mesh_bin(mesh_dir: Path = MESH_DIR) -> Path | None:
    """The installed ``mesh`` command, or None when ``bench/mesh`` has not been installed."""
    path = mesh_dir / "node_modules" / ".bin" / "mesh"
    return path if path.exists() and shutil.which("node") else None


def openapi_30(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI 3.1 document with 3.0's nullable form: ``type: [x, "null"]`` →
    ``type: x, nullable: true`` everywhere, ``openapi: 3.0.3``, no ``webhooks``.

    Also without the ``default: 'false'`` of the ``'true'``/``'false'`` string enums
    (``include_deleted``, ``ignore_unsupported_filters``): Mesh sends such a default as its
    GraphQL enum name, ``FALSE``, which Kombo (and the sandbox) reject with a 400. Without the
    default Mesh leaves the parameter out, as the other targets do, and Kombo applies the same
    default. And without the ``minimum: -1.7976931348623157e+308`` (the lowest double: no bound)
    of Kombo's numbers (``salary_amount``, ``weekly_hours``…): with a bound beyond 32 bits Mesh
    types the field ``BigInt``, which answers an error for every fractional value such as
    ``37.5``; without it, ``Float``."""
    out = copy.deepcopy(dict(spec))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if isinstance(kind, list):
                others = [t for t in kind if t != "null"]
                if len(others) != 1:
                    raise ValueError(f"cannot express type {kind!r} in OpenAPI 3.0")
                node["type"] = others[0]
                if "null" in kind:
                    node["nullable"] = True
            if node.get("enum") == ["true", "false"]:
                node.pop("default", None)
            if node.get("type") == "number" and node.get("minimum") == -sys.float_info.max:
                del node["minimum"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    out["openapi"] = "3.0.3"
    out.pop("webhooks", None)
    return out


def mesh_config(spec_file: str, upstream: str, api_key: str, port: int) -> dict[str, Any]:
    """``.meshrc.yaml``: the OpenAPI handler over ``upstream`` (``…/v1``), served on loopback."""
    return {
        "sources": [
            {
                "name": "Kombo",
                "handler": {
                    "openapi": {
                        "source": spec_file,
                        "endpoint": upstream,
                        "operationHeaders": {"Authorization": f"Bearer {api_key}"},
                    }
                },
            }
        ],
        "serve": {"hostname": "127.0.0.1", "port": port, "playground": False},
    }


def write_mesh_project(directory: Path, upstream: str, api_key: str, port: int) -> Path:
    """Write the rewritten spec and ``.meshrc.yaml`` into ``directory``; the config's path."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = openapi_30(yaml.safe_load(SPEC.read_text()))
    (directory / "kombo-ats-read.openapi.yaml").write_text(
        yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    )
    config = directory / ".meshrc.yaml"
    config.write_text(
        yaml.safe_dump(
            mesh_config("./kombo-ats-read.openapi.yaml", upstream, api_key, port), sort_keys=False
        )
    )
    return config


def _stop_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the cluster's primary, then SIGKILL whatever of its tree is left after 10 s."""
    members = process_tree(process.pid)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in members[1:]:  # workers the primary did not take down with it
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def run_mesh(
    upstream: str, api_key: str, directory: Path, log: Path, timeout: float = 120
) -> Iterator[Server]:
    """Build and start Mesh over ``upstream``; yield it once ``/healthcheck`` answers 200."""
    command = mesh_bin()
    if command is None:
        raise HarnessError(f"GraphQL Mesh is not installed in {MESH_DIR} (make mesh-deps)")
    port = free_port()
    write_mesh_project(directory, upstream, api_key, port)
    modules = directory / "node_modules"  # the built artifacts import Mesh's packages
    if not modules.exists():
        modules.symlink_to(MESH_DIR / "node_modules", target_is_directory=True)
    env = {**os.environ, "NODE_ENV": "production", "PORT": str(port)}
    env.pop("FORK", None)  # Mesh's default in production: one worker per core
    with log.open("wb") as out:
        built = subprocess.run(
            [str(command), "build"], cwd=directory, env=env, stdout=out,
            stderr=subprocess.STDOUT, timeout=timeout, check=False,
        )  # fmt: skip
    if built.returncode != 0:
        raise HarnessError(f"mesh build failed; see {log}")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(command), "start"], cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server("GraphQL Mesh", process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_ready(server, "/healthcheck", timeout)
        yield server
    finally:
        _stop_tree(process)


# --- the documents ------------------------------------------------------------------------------


def _selection(kind: Any, depth: int) -> str:
    named = get_named_type(kind)
    if is_leaf_type(named):
        return ""
    if depth > MAX_DEPTH:
        raise ValueError(f"selection deeper than {MAX_DEPTH} at {named}")
    if isinstance(named, GraphQLUnionType):
        # Members may type a field alike-named differently: alias each member's fields.
        parts = ["__typename"]
        for member in named.types:
            fields = _fields(member, depth + 1, alias=member.name)
            parts.append(f"... on {member.name} {{ {fields} }}")
        return "{ " + " ".join(parts) + " }"
    if isinstance(named, GraphQLObjectType):
        return "{ " + _fields(named, depth + 1) + " }"
    raise ValueError(f"cannot select {named}")


def _fields(kind: GraphQLObjectType, depth: int, alias: str | None = None) -> str:
    parts = []
    for name, f in kind.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in f.args.values()):
            continue
        head = f"{alias}_{name}: {name}" if alias else name
        parts.append(f"{head} {_selection(f.type, depth)}".strip())
    return " ".join(parts)


def page_document(schema: GraphQLSchema, operation: str) -> str:
    """A query of one page through Mesh's ``operation`` field, every field of its success."""
    query = schema.query_type
    assert query is not None
    field = query.fields[operation]
    variables, arguments = [], []
    for name in ("page_size", "updated_after", "cursor", "X_Integration_Id"):
        if name in field.args:
            variables.append(f"${name}: {field.args[name].type}")
            arguments.append(f"{name}: ${name}")
    response = get_named_type(field.type)
    if isinstance(response, GraphQLUnionType):  # success | error, by status code
        success = next(t for t in response.types if t.name.endswith("PositiveResponse"))
        body = f"{{ ... on {success.name} {{ {_fields(success, 1)} }} }}"
    else:
        body = _selection(field.type, 0)
    return f"query Page({', '.join(variables)}) {{ {operation}({', '.join(arguments)}) {body} }}"


def introspect(client: httpx.Client) -> GraphQLSchema:
    """Mesh's schema, from its introspection."""
    response = client.post("/graphql", json={"query": get_introspection_query()})
    body = _json("mesh", response)
    if body.get("errors"):
        raise HarnessError(f"mesh introspection failed: {str(body)[:2000]}")
    return build_client_schema(body["data"])


class MeshTarget(Target):
    """GraphQL Mesh: a POST of its generated page query, with distinct ``updated_after``."""

    name = "mesh"

    def __init__(self, schema: GraphQLSchema) -> None:
        self._documents = {
            model: page_document(schema, operation)
            for model, operation in MESH_OPERATIONS.items()
            if operation in (schema.query_type.fields if schema.query_type else {})
        }

    def serves(self, scenario: Scenario) -> bool:
        return mesh_serves(scenario) and scenario.model in self._documents

    def request(self, scenario: Scenario, cursor: str | None) -> HttpRequest:
        variables: dict[str, Any] = {
            "page_size": scenario.page_size,
            "updated_after": scenario.updated_after.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "X_Integration_Id": scenario.integration,
        }
        if cursor is not None:
            variables["cursor"] = cursor
        body = {"query": self._documents[scenario.model], "variables": variables}
        return HttpRequest(
            "POST",
            "/graphql",
            {"Content-Type": "application/json", "Accept": "application/json"},
            json.dumps(body, separators=(",", ":")).encode(),
        )

    def read(self, scenario: Scenario, response: httpx.Response) -> Answer:
        body = _json(self.name, response)
        if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
            raise HarnessError(f"mesh answered with errors: {str(body)[:2000]}")
        page = body["data"][MESH_OPERATIONS[scenario.model]]
        if not isinstance(page, dict) or not isinstance(page.get("data"), dict):
            raise HarnessError(f"mesh answered without a page: {str(body)[:2000]}")
        return Answer([item["id"] for item in page["data"]["results"]], page["data"]["next"])


def mesh_serves(scenario: Scenario) -> bool:
    """Pages of interviews, jobs and applications, all fields: (a), (d), (e), (f). Mesh's
    documents select every field, so the list view (b) would not compare alike, and Mesh has
    no lookup of 100 ids by global id (c)."""
    return (
        not scenario.is_lookup
        and scenario.model in MESH_OPERATIONS
        and scenario.document != LIST_VIEW
    )

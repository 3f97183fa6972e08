"""Tenancy and browsers, on the app in-process over the sandbox process (README "Security").

- ``GATEWAY_AUTH=jwt`` with HS256, RS256 and ES256 gateways: the JWT matrix (valid, expired, wrong
  signature, ``alg: none``, HS256 keyed with the public key, wrong ``aud``/``iss``, missing claims,
  a header naming another integration, no token, malformed), and with a token for integration A
  no query reads integration B.
- CORS preflights, the configurable body limit and the accepted content types.

The sandbox's request log proves what reached Kombo, so the app reads the sandbox process. What
needs the gateway's own process (its log file, ``serve`` refusing to start, listening on every
interface) is in ``tests/e2e/test_tenancy.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.sandbox.data import INTEGRATIONS, interviews_for
from tests.support.clients import Gateway, Sandbox
from tests.support.in_process import in_process_gateway, upstream_env
from tests.support.secret_scanning import API_KEY
from tests.support.tenancy_tokens import (
    AUDIENCE,
    CLAIM,
    ISSUER,
    Issuer,
    hs256_keyed_with,
    make_issuer,
    unsigned_token,
    with_claims_swapped,
)
from tests.support.truth import gid, gids, visible

A, B = INTEGRATIONS[0], INTEGRATIONS[1]
A_IDS = {i.payload["id"] for i in interviews_for(A)}
B_INTERVIEWS = interviews_for(B)
B_IDS = [i.payload["id"] for i in B_INTERVIEWS]
APP_ORIGIN = "https://app.example.com"
DEV_ORIGIN = "http://localhost:5173"
FRONTEND_HEADERS = "content-type, authorization, x-integration-id, x-request-id"
BODY_LIMIT = 4096

LIST = "query($first: Int, $after: String) { interviews(first: $first, after: $after) { edges { cursor node { id } } pageInfo { endCursor } } }"  # noqa: E501
TYPENAME = "{ __typename }"


class JwtGateway(Gateway):
    """A JWT gateway and the issuer it trusts."""

    def __init__(self, url: str, issuer: Issuer, http: httpx.Client | None = None) -> None:
        secrets = (API_KEY, *issuer.gateway_env.values())
        super().__init__(url, secrets=tuple(s for s in secrets if "PUBLIC KEY" not in s), http=http)
        self.issuer = issuer

    def as_(self, integration: str | None = A, **overrides: Any) -> dict[str, str]:
        """Headers for a request bearing a valid token for ``integration``."""
        return bearer(self.issuer.token(integration, **overrides))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _now() -> int:
    return int(time.time())


def _job(payload: dict[str, Any]) -> str | None:
    application = payload.get("application") or {}
    return (application.get("job") or {}).get("id")


@pytest.fixture(scope="module", params=["HS256", "RS256", "ES256"])
def jwt_gateway(request: pytest.FixtureRequest, sandbox_url: str) -> Iterator[JwtGateway]:
    """A gateway trusting one issuer; KOMBO_INTEGRATION_ID is set, to prove it is never used."""
    issuer = make_issuer(request.param)
    env = upstream_env(
        sandbox_url,
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        GATEWAY_CORS_ORIGINS=f"{APP_ORIGIN},{DEV_ORIGIN}",
        **issuer.gateway_env,
    )
    with in_process_gateway(env) as gateway:
        yield JwtGateway(gateway.url, issuer, http=gateway.http)


def refusal(
    gateway: Gateway, headers: dict[str, str], status: int, code: str, sandbox: Sandbox
) -> str:
    """POST a query with ``headers``; check it is refused before execution and never reached
    Kombo; return the error message."""
    response = gateway.post(LIST, {"first": 3}, headers=headers)
    body = response.json()
    assert response.status_code == status, body
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    for value in headers.values():
        token = value.removeprefix("Bearer ")
        assert len(token) < 20 or token not in response.text, "the response echoes the token"
    assert sandbox.requests() == []
    return str(error["message"])


# --- the JWT matrix ------------------------------------------------------------------------------


def test_a_valid_token_reads_its_integration(jwt_gateway: JwtGateway, sandbox: Sandbox) -> None:
    data = jwt_gateway.query(LIST, {"first": 5}, headers=jwt_gateway.as_(A))
    assert [e["node"]["id"] for e in data["interviews"]["edges"]] == gids(visible(A))[:5]
    data = jwt_gateway.query(LIST, {"first": 5}, headers=jwt_gateway.as_(B))
    assert [e["node"]["id"] for e in data["interviews"]["edges"]] == gids(visible(B))[:5]
    assert [r["integration_id"] for r in sandbox.requests()] == [A, B]
    assert all(r["authorization_ok"] for r in sandbox.requests())


def test_a_token_expired_within_the_leeway_is_still_accepted(jwt_gateway: JwtGateway) -> None:
    assert jwt_gateway.query(TYPENAME, headers=jwt_gateway.as_(A, exp=_now() - 5))


def test_a_header_repeating_the_tokens_integration_is_fine(jwt_gateway: JwtGateway) -> None:
    headers = {**jwt_gateway.as_(A), "X-Integration-Id": A}
    assert jwt_gateway.query(LIST, {"first": 1}, headers=headers)["interviews"]["edges"]


def test_a_header_naming_another_integration_is_forbidden(
    jwt_gateway: JwtGateway, sandbox: Sandbox
) -> None:
    headers = {**jwt_gateway.as_(A), "X-Integration-Id": B}
    message = refusal(jwt_gateway, headers, 403, "FORBIDDEN", sandbox)
    assert "X-Integration-Id" in message


def test_only_the_configured_claim_names_the_integration(
    jwt_gateway: JwtGateway, sandbox: Sandbox
) -> None:
    # An integration under any other claim name (or in a header) is not an integration.
    headers = {**jwt_gateway.as_(None, integration_id=A, tenant=A), "X-Integration-Id": A}
    message = refusal(jwt_gateway, headers, 401, "UNAUTHENTICATED", sandbox)
    assert f"no '{CLAIM}' claim" in message


def _forged(gateway: JwtGateway, case: str) -> dict[str, str]:
    """Headers for each way a request can fail authentication."""
    issuer = gateway.issuer
    claims = issuer.claims(A)
    if case == "no token":
        return {}
    if case == "empty bearer":
        return {"Authorization": "Bearer"}
    if case == "basic scheme":
        return {"Authorization": "Basic dXNlcjpwYXNz"}
    if case == "malformed":
        return bearer("not-a-jwt")
    if case == "malformed segments":
        return bearer("eyJhbGciOiJIUzI1NiJ9.%%%.abc")
    if case == "expired":
        return gateway.as_(A, exp=_now() - 120, iat=_now() - 600)
    if case == "not yet valid":
        return gateway.as_(A, nbf=_now() + 600)
    if case == "wrong signature":
        return bearer(issuer.impostor().token(A))
    if case == "tampered payload":
        return bearer(with_claims_swapped(issuer.token(A), issuer.claims(B)))
    if case.startswith("alg "):
        return bearer(unsigned_token(claims, alg=case.removeprefix("alg ")))
    if case == "another algorithm":
        other = make_issuer("RS256" if issuer.algorithm == "HS256" else "HS256")
        return bearer(other.token(A))
    if case == "wrong aud":
        return gateway.as_(A, aud="another-service")
    if case == "wrong iss":
        return gateway.as_(A, iss="https://evil.example/")
    if case.startswith("missing "):
        return gateway.as_(A, **{case.removeprefix("missing "): None})
    if case == "integration not a string":
        return gateway.as_(123)  # type: ignore[arg-type]
    if case == "integration malformed":
        return gateway.as_("../../admin?x=")
    raise AssertionError(case)


MATRIX = [
    ("no token", "Authentication required"),
    ("empty bearer", "'Bearer <JWT>'"),
    ("basic scheme", "'Bearer <JWT>'"),
    ("malformed", "malformed"),
    ("malformed segments", "malformed"),
    ("expired", "expired"),
    ("not yet valid", "not valid yet"),
    ("wrong signature", "signature"),
    ("tampered payload", "signature"),
    ("alg none", "algorithm"),
    ("alg None", "algorithm"),
    ("alg NONE", "algorithm"),
    ("another algorithm", "algorithm"),
    ("wrong aud", "audience"),
    ("wrong iss", "issuer"),
    ("missing exp", "no 'exp' claim"),
    ("missing aud", "no 'aud' claim"),
    ("missing iss", "no 'iss' claim"),
    (f"missing {CLAIM}", f"no '{CLAIM}' claim"),
    ("integration not a string", f"'{CLAIM}' claim is not a string"),
    ("integration malformed", "not a valid Kombo integration id"),
]


@pytest.mark.parametrize(("case", "says"), MATRIX, ids=[case for case, _ in MATRIX])
def test_every_bad_or_missing_token_is_401_unauthenticated_before_any_upstream_call(
    jwt_gateway: JwtGateway, sandbox: Sandbox, case: str, says: str
) -> None:
    message = refusal(jwt_gateway, _forged(jwt_gateway, case), 401, "UNAUTHENTICATED", sandbox)
    assert says in message


@pytest.mark.parametrize("jwt_gateway", ["RS256", "ES256"], indirect=True)
def test_hs256_signed_with_the_public_key_is_refused(
    jwt_gateway: JwtGateway, sandbox: Sandbox
) -> None:
    # The classic key-confusion attack: only gateways configured with a public key have one.
    public_pem = jwt_gateway.issuer.public_pem
    assert public_pem is not None
    token = hs256_keyed_with(public_pem.encode(), jwt_gateway.issuer.claims(A))
    message = refusal(jwt_gateway, bearer(token), 401, "UNAUTHENTICATED", sandbox)
    assert "algorithm" in message


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_refusals_are_401_with_a_graphql_body_whatever_the_accepted_media_type(
    jwt_gateway: JwtGateway, accept: str
) -> None:
    response = jwt_gateway.http.post(
        "/graphql", json={"query": TYPENAME}, headers={"Accept": accept}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(accept)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    get = jwt_gateway.http.get("/graphql", params={"query": TYPENAME}, headers={"Accept": accept})
    assert get.status_code == 401


def test_the_graphiql_page_and_health_routes_stay_public(jwt_gateway: JwtGateway) -> None:
    page = jwt_gateway.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert jwt_gateway.http.get("/healthz").status_code == 200
    assert jwt_gateway.http.get("/readyz").status_code == 200


def test_introspection_needs_a_token_too(jwt_gateway: JwtGateway) -> None:
    query = "{ __schema { queryType { name } } }"
    assert jwt_gateway.post(query).status_code == 401
    assert jwt_gateway.query(query, headers=jwt_gateway.as_(A))["__schema"]


# --- with a token for A, nothing of B -----------------------------------------------------------


def test_a_token_for_a_never_reads_b(jwt_gateway: JwtGateway, sandbox: Sandbox) -> None:
    as_a = jwt_gateway.as_(A)
    assert not A_IDS & set(B_IDS)

    # Lists: every interview seen is A's, whatever the filter asks.
    listed = jwt_gateway.query(
        "query($f: InterviewFilter) { interviews(first: 250, filter: $f) { nodes { id } } }",
        {"f": {"ids": [gid(i) for i in B_IDS[:25]] + B_IDS[25:50], "includeDeleted": True}},
        headers=as_a,
    )
    assert listed["interviews"]["nodes"] == []
    job_ids = sorted({job for i in B_INTERVIEWS if (job := _job(i.payload)) is not None})
    by_job = jwt_gateway.query(
        "query($f: InterviewFilter) { interviews(first: 250, filter: $f) { nodes { komboId } } }",
        {"f": {"jobIds": job_ids[:20]}},
        headers=as_a,
    )
    assert {n["komboId"] for n in by_job["interviews"]["nodes"]} <= A_IDS

    # Id lookups of B's interviews, by every route: null.
    lookups = jwt_gateway.query(
        """query($a: ID!, $b: ID!, $ids: [ID!]!) {
             interview(id: $a) { id }
             node(id: $b) { id }
             nodes(ids: $ids) { id }
           }""",
        {
            "a": B_IDS[0],
            "b": gid(B_IDS[1]),
            "ids": [gid(i) if n % 2 else i for n, i in enumerate(B_IDS)],
        },
        headers=as_a,
    )
    assert lookups["interview"] is None
    assert lookups["node"] is None
    assert lookups["nodes"] == [None] * len(B_IDS)

    # Every upstream call made for A's token named A.
    assert {r["integration_id"] for r in sandbox.requests()} == {A}


def test_cursors_issued_under_b_are_refused_under_a(jwt_gateway: JwtGateway) -> None:
    page = jwt_gateway.query(LIST, {"first": 5}, headers=jwt_gateway.as_(B))["interviews"]
    cursors = [e["cursor"] for e in page["edges"]] + [page["pageInfo"]["endCursor"]]
    for cursor in cursors[:2] + cursors[-1:]:
        errors = jwt_gateway.errors(LIST, {"first": 5, "after": cursor}, headers=jwt_gateway.as_(A))
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    # ...and still resume under B.
    resumed = jwt_gateway.query(
        LIST, {"first": 5, "after": cursors[-1]}, headers=jwt_gateway.as_(B)
    )
    assert [e["node"]["id"] for e in resumed["interviews"]["edges"]] == gids(visible(B))[5:10]


# --- browsers: CORS -------------------------------------------------------------------------------


def preflight(gateway: Gateway, origin: str, headers: str = FRONTEND_HEADERS) -> httpx.Response:
    return gateway.http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize("origin", [APP_ORIGIN, DEV_ORIGIN])
def test_a_preflight_from_an_allowed_origin_is_answered_with_the_frontends_headers(
    jwt_gateway: JwtGateway, origin: str
) -> None:
    response = preflight(jwt_gateway, origin)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"content-type", "authorization", "x-integration-id", "x-request-id"} <= allowed
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    ("origin", "headers"),
    [
        ("https://evil.example", FRONTEND_HEADERS),
        ("https://app.example.com.evil.example", FRONTEND_HEADERS),
        ("http://app.example.com", FRONTEND_HEADERS),  # another scheme is another origin
        (APP_ORIGIN, "content-type, x-admin-override"),
    ],
)
def test_a_preflight_from_another_origin_or_with_other_headers_is_refused(
    jwt_gateway: JwtGateway, origin: str, headers: str
) -> None:
    response = preflight(jwt_gateway, origin, headers)
    # A browser sends the real request only after a 2xx preflight.
    assert response.status_code == 400
    if origin != APP_ORIGIN:
        assert "access-control-allow-origin" not in response.headers
    assert "x-admin-override" not in response.headers.get("access-control-allow-headers", "")


def test_responses_to_an_allowed_origin_are_readable_by_it_even_a_401(
    jwt_gateway: JwtGateway,
) -> None:
    ok = jwt_gateway.post(TYPENAME, headers={**jwt_gateway.as_(A), "Origin": APP_ORIGIN})
    refused = jwt_gateway.post(TYPENAME, headers={"Origin": APP_ORIGIN})
    for response in (ok, refused):
        assert response.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "access-control-allow-credentials" not in response.headers
    assert refused.status_code == 401
    other = jwt_gateway.post(
        TYPENAME, headers={**jwt_gateway.as_(A), "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


# --- browsers: body limit and content types -------------------------------------------------------


@pytest.fixture(scope="module")
def limited_gateway(sandbox_url: str) -> Iterator[Gateway]:
    """No auth, a 4 KiB body limit, and CORS open to any origin (no credentials)."""
    env = upstream_env(
        sandbox_url,
        KOMBO_INTEGRATION_ID=A,
        GATEWAY_MAX_BODY_BYTES=str(BODY_LIMIT),
        GATEWAY_CORS_ORIGINS="*",
    )
    with in_process_gateway(env, secrets=(API_KEY,)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def gateway(sandbox_url: str) -> Iterator[Gateway]:
    """The session gateway's configuration (defaults, no CORS origins), in-process."""
    with in_process_gateway(upstream_env(sandbox_url), secrets=(API_KEY,)) as gateway:
        yield gateway


def padded(size: int) -> bytes:
    """A valid JSON GraphQL request of exactly ``size`` bytes (padded with insignificant blanks)."""
    body = json.dumps({"query": TYPENAME}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.mark.parametrize(
    ("size", "status"), [(BODY_LIMIT - 1, 200), (BODY_LIMIT, 200), (BODY_LIMIT + 1, 413)]
)
def test_the_configured_body_limit_holds_to_the_byte(
    limited_gateway: Gateway, size: int, status: int
) -> None:
    body = padded(size)
    assert len(body) == size
    response = limited_gateway.http.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == status, response.text
    if status == 413:
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert str(BODY_LIMIT) in error["message"]
    else:
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(("size", "status"), [(BODY_LIMIT, 200), (BODY_LIMIT + 1, 413)])
def test_a_chunked_body_without_a_length_is_counted_too(
    limited_gateway: Gateway, size: int, status: int
) -> None:
    body = padded(size)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = limited_gateway.http.post(
        "/graphql",
        content=chunks(),
        headers={"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == status


def test_the_default_body_limit_is_one_mebibyte(gateway: Gateway) -> None:
    def post(size: int) -> int:
        return gateway.http.post(
            "/graphql",
            content=padded(size),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        ).status_code

    assert post(1_048_576) == 200
    assert post(1_048_577) == 413


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", json.dumps({"query": TYPENAME}), 200),
        ("application/json; charset=utf-8", json.dumps({"query": TYPENAME}), 200),
        ("application/graphql", TYPENAME, 200),
        ("text/plain", json.dumps({"query": TYPENAME}), 415),
        ("application/x-www-form-urlencoded", "query=%7B__typename%7D", 415),
        ("multipart/form-data; boundary=x", "--x--", 415),
        ("application/xml", "<query/>", 415),
    ],
)
def test_only_json_and_graphql_bodies_are_accepted(
    limited_gateway: Gateway, content_type: str, body: str, status: int
) -> None:
    response = limited_gateway.http.post(
        "/graphql",
        content=body,
        headers={"Content-Type": content_type, "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == status, response.text


def test_a_wildcard_origin_is_answered_with_a_wildcard_and_never_with_credentials(
    limited_gateway: Gateway,
) -> None:
    response = preflight(limited_gateway, "https://anywhere.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    simple = limited_gateway.post(TYPENAME, headers={"Origin": "https://anywhere.example"})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in simple.headers


def test_without_cors_origins_no_cross_origin_reader_is_allowed(gateway: Gateway) -> None:
    response = preflight(gateway, APP_ORIGIN)
    assert "access-control-allow-origin" not in response.headers
    simple = gateway.post(TYPENAME, headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in simple.headers

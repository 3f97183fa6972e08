"""Clients of the tests' running servers: the gateway as a frontend uses it, and the sandbox
upstream's test controls (its request log and fault queue)."""

from __future__ import annotations

from typing import Any

import httpx


class Sandbox:
    """The sandbox upstream's test controls: its request log and fault queue."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api_url = url + "/v1"
        self._http = httpx.Client(base_url=url, timeout=10)

    def clear(self) -> None:
        self._http.delete("/__sandbox/requests").raise_for_status()
        self._http.delete("/__sandbox/faults").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        response = self._http.get("/__sandbox/requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def fault(self, **spec: Any) -> None:
        self._http.post("/__sandbox/faults", json=spec).raise_for_status()


class Gateway:
    """A client of a running gateway, as a frontend would use it."""

    def __init__(
        self, url: str, secrets: tuple[str, ...] = (), http: httpx.Client | None = None
    ) -> None:
        self.url = url
        self.http = http if http is not None else httpx.Client(base_url=url, timeout=30)
        self.secrets = secrets

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        headers = {"Accept": "application/graphql-response+json", **kwargs.pop("headers", {})}
        response = self.http.post("/graphql", json=body, headers=headers, **kwargs)
        # Every response of the suite is checked: none may ever carry the API key.
        for secret in self.secrets:
            assert secret not in response.text, "a response contains the Kombo API key"
        return response

    def query(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The response body of a request expected to succeed with no errors."""
        response = self.post(query, variables, **kwargs)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return dict(body["data"])

    def errors(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """The errors of a request expected to fail (at least partly)."""
        body = self.post(query, variables, **kwargs).json()
        assert body.get("errors"), body
        return list(body["errors"])

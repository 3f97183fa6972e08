"""The Kombo REST client: one pooled ``httpx.AsyncClient``, typed pages, typed errors."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from gateway.kombo.errors import (
    KomboAPIError,
    KomboConnectionError,
    KomboMalformedResponse,
    KomboTimeout,
    KomboUnavailable,
)
from gateway.kombo.models import InterviewPage, parse_interview_page
from gateway.kombo.query import InterviewQuery, page_params

log = logging.getLogger(__name__)

INTERVIEWS_PATH = "/ats/interviews"


@dataclass(frozen=True)
class KomboConfig:
    """How to reach Kombo. ``transport`` replaces the network (the in-process sandbox, tests)."""

    api_key: str = field(repr=False)
    base_url: str
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 5.0
    total_timeout: float = 20.0
    """Deadline of one whole call: httpx's timeouts are per phase, a trickling body evades them."""
    max_connections: int = 100
    transport: httpx.AsyncBaseTransport | None = None


class KomboClient:
    """Calls Kombo's ATS API. Create with :meth:`open`, close with :meth:`aclose`."""

    def __init__(self, http: httpx.AsyncClient, total_timeout: float = 20.0) -> None:
        self._http = http
        self._total_timeout = total_timeout

    @classmethod
    def open(cls, config: KomboConfig) -> KomboClient:
        """A client with its own connection pool; the app's lifespan owns and closes it."""
        http = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {config.api_key}",
                "Accept": "application/json",
                "User-Agent": "kombo-gateway/0.1",
            },
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.write_timeout,
                pool=config.pool_timeout,
            ),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_connections,
            ),
            transport=config.transport,
            follow_redirects=False,
        )
        return cls(http, total_timeout=config.total_timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_interviews(
        self,
        integration_id: str,
        query: InterviewQuery,
        *,
        page_size: int,
        cursor: str | None = None,
    ) -> InterviewPage:
        """One page of ``GET /ats/interviews`` for one integration."""
        params = page_params(query, page_size, cursor)
        body = await self._get_json(INTERVIEWS_PATH, integration_id, params)
        return parse_interview_page(body)

    async def _get_json(self, path: str, integration_id: str, params: dict[str, str]) -> Any:
        try:
            async with asyncio.timeout(self._total_timeout):
                response = await self._http.get(
                    path, params=params, headers={"X-Integration-Id": integration_id}
                )
        except TimeoutError as exc:
            raise KomboTimeout(f"Kombo did not answer within {self._total_timeout:g}s") from exc
        except httpx.TimeoutException as exc:
            raise KomboTimeout(f"Kombo did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise KomboConnectionError(
                f"Kombo could not be reached ({type(exc).__name__})"
            ) from exc
        return _decode(response)


def _decode(response: httpx.Response) -> Any:
    """The JSON body of a success, or the matching :class:`KomboError` for anything else."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
        decoded = False
    else:
        decoded = True

    if response.is_success:
        if not decoded:
            raise KomboMalformedResponse(
                f"Kombo answered HTTP {response.status_code} with a body that is not JSON"
            )
        return body

    error = _error_body(body) if decoded else None
    if error is not None:
        raise error_from_body(response.status_code, error)
    if response.status_code >= 500:
        raise KomboUnavailable(f"Kombo answered HTTP {response.status_code} without an error body")
    raise KomboAPIError(
        status=response.status_code,
        code=None,
        title=None,
        message=f"Kombo answered HTTP {response.status_code} without an error body",
        log_url=None,
    )


def _error_body(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict) or body.get("status") != "error":
        return None
    error = body.get("error")
    return error if isinstance(error, dict) else None


def error_from_body(status: int, error: dict[str, Any]) -> KomboAPIError:
    """Kombo's ``error`` object as a :class:`KomboAPIError`, tolerating missing or odd fields."""

    def text(key: str) -> str | None:
        value = error.get(key)
        return value if isinstance(value, str) and value else None

    return KomboAPIError(
        status=status,
        code=text("code"),
        title=text("title"),
        message=text("message") or text("title") or f"Kombo answered HTTP {status}",
        log_url=text("log_url"),
    )

"""Kombo's ATS REST API: a client, its config, its errors, its records. No GraphQL."""

from gateway.kombo.cache import PageCache, PageCacheConfig, PageCacheSettings
from gateway.kombo.client import KomboClient, KomboConfig, Timeouts, TimeoutSettings
from gateway.kombo.deadline import Deadline
from gateway.kombo.errors import (
    KomboAPIError,
    KomboConnectionError,
    KomboDeadlineExceeded,
    KomboError,
    KomboMalformedResponse,
    KomboRetriesExhausted,
    KomboServerError,
    KomboTimeout,
    KomboUnavailable,
)
from gateway.kombo.query import MAX_PAGE_SIZE, ListQuery
from gateway.kombo.records import RECORDS, Page, Record
from gateway.kombo.retry import RetryPolicy, RetrySettings

__all__ = [
    "MAX_PAGE_SIZE",
    "RECORDS",
    "Deadline",
    "KomboAPIError",
    "KomboClient",
    "KomboConfig",
    "KomboConnectionError",
    "KomboDeadlineExceeded",
    "KomboError",
    "KomboMalformedResponse",
    "KomboRetriesExhausted",
    "KomboServerError",
    "KomboTimeout",
    "KomboUnavailable",
    "ListQuery",
    "Page",
    "PageCache",
    "PageCacheConfig",
    "PageCacheSettings",
    "Record",
    "RetryPolicy",
    "RetrySettings",
    "TimeoutSettings",
    "Timeouts",
]

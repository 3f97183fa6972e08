"""Kombo's ATS REST API: a client, its config, its errors, its typed payloads. No GraphQL."""

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
from gateway.kombo.models import Interview, InterviewPage
from gateway.kombo.query import MAX_PAGE_SIZE, InterviewQuery
from gateway.kombo.retry import RetryPolicy, RetrySettings

__all__ = [
    "MAX_PAGE_SIZE",
    "Deadline",
    "Interview",
    "InterviewPage",
    "InterviewQuery",
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
    "PageCache",
    "PageCacheConfig",
    "PageCacheSettings",
    "RetryPolicy",
    "RetrySettings",
    "TimeoutSettings",
    "Timeouts",
]

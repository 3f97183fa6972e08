"""Kombo's ATS REST API: a client, its config, its errors, its typed payloads. No GraphQL."""

from gateway.kombo.client import KomboClient, KomboConfig
from gateway.kombo.errors import (
    KomboAPIError,
    KomboConnectionError,
    KomboError,
    KomboMalformedResponse,
    KomboTimeout,
    KomboUnavailable,
)
from gateway.kombo.models import Interview, InterviewPage
from gateway.kombo.query import MAX_PAGE_SIZE, InterviewQuery

__all__ = [
    "MAX_PAGE_SIZE",
    "Interview",
    "InterviewPage",
    "InterviewQuery",
    "KomboAPIError",
    "KomboClient",
    "KomboConfig",
    "KomboConnectionError",
    "KomboError",
    "KomboMalformedResponse",
    "KomboTimeout",
    "KomboUnavailable",
]

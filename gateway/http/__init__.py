"""GraphQL over HTTP (README "Routes"): the endpoint, its parameters, media types and answers,
and the connection layer uvicorn runs it on.

- :mod:`gateway.http.endpoint`: the `/graphql` endpoint, in the order it decides things;
- :mod:`gateway.http.params`: a request's parameters, checked for type;
- :mod:`gateway.http.negotiation`: `Accept` and `Content-Type`;
- :mod:`gateway.http.responses`: status codes and serialization;
- :mod:`gateway.http.caching`: `Cache-Control` and `Vary` of every answer;
- :mod:`gateway.http.cors`: browsers' preflights and readable answers (`gateway.app` mounts it);
- :mod:`gateway.http.vary`: `Vary`, each name once;
- :mod:`gateway.http.server_protocol`: connections (bounded heads, read timeouts, a cap).
"""

from gateway.http.endpoint import BUFFERED_BODIES, GraphQLEndpoint
from gateway.http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from gateway.http.params import GraphQLParams
from gateway.http.responses import MAX_MESSAGE_CHARS, cap_message, encode_json, error_body

__all__ = [
    "BUFFERED_BODIES",
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "MAX_MESSAGE_CHARS",
    "GraphQLEndpoint",
    "GraphQLParams",
    "cap_message",
    "encode_json",
    "error_body",
    "negotiate",
]

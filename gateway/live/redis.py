"""The live feed's cluster on Redis (``GATEWAY_REDIS_URL``): a :class:`RedisCoordinator` each.

What lives in Redis, every name ``kombo-gateway:v1:live...`` followed by a digest, never an
integration id in clear (HMAC-SHA256 with a key derived from the Kombo base URL and API key, as
the response cache's keys: replicas of one Kombo account agree on the names, other accounts
sharing the Redis do not collide, and a name does not tell which integration it serves):

- ``kombo-gateway:v1:live:<digest(integration)>``: the integration's pub/sub channel. Hints
  (``{"hint": [models], "trigger": ...}``) and changed records (``{"model", "records"}``) are
  published there; every replica with a subscriber of that integration listens. Messages carry
  no integration id: the channel says it to those who subscribed.
- ``kombo-gateway:v1:live:lease:<digest(integration, model)>``: the refresh lease, a random
  token ``SET NX PX``; the holder extends it (``PEXPIRE`` only while the value is still its
  token, one Lua script) every third of its life and deletes it (same check) when its last
  subscriber leaves. A replica that dies stops extending it: it expires, and another replica
  with subscribers takes it at its next try (at most a lease life and a third later).
- ``kombo-gateway:v1:live:watermark:<digest(integration, model)>``: the ``updated_after`` of
  the next refresh, so that a new holder continues where the last one stopped.
- ``kombo-gateway:v1:live:webhook:<digest(event id)>``: a webhook event id already taken
  (``SET NX EX`` for a day): a duplicate delivery, to any replica, schedules nothing.

Unlike the response cache, Redis is not optional here once configured: during an outage no
refresh runs (no lease can be taken), webhooks are not de-duplicated (a duplicate costs a
rate-limited refresh at most) and the listener reconnects with backoff, warning once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

from gateway.live.coordination import EVENT_ID_SECONDS, OnMessage
from gateway.shared_redis import describe_redis_url, redis_key

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["RedisCoordinator", "live_secret"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
"""Seconds one Redis command may take."""
LISTEN_SECONDS = 1.0
"""How long one wait for a pub/sub message lasts before the listener looks around again."""
_HELLO = redis_key("live", "hello")
"""A channel the listener always subscribes, so that its connection exists before any other."""

_HOLD = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def live_secret(base_url: str, api_key: str) -> bytes:
    """The key of the names' digests, one per Kombo account (as the response cache's)."""
    seed = f"{base_url.rstrip('/')}\0{api_key}".encode()
    return hmac.new(seed, b"kombo-gateway live v1", hashlib.sha256).digest()


class RedisCoordinator:
    """A :class:`~gateway.live.coordination.Coordinator` on one Redis (module doc).

    Created without I/O; :meth:`start` connects (inside the running loop) and starts the
    pub/sub listener. ``client`` replaces the connection pool (tests).
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: Redis | None = None,
    ) -> None:
        self.where = describe_redis_url(url)
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._client = client
        self._on_message: OnMessage | None = None
        self._channels: dict[str, str] = {}  # channel -> integration id
        self._watched: dict[str, int] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._outage = False
        self._closed = False

    # -- names -------------------------------------------------------------------------------

    def _digest(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def channel(self, integration_id: str) -> str:
        """The pub/sub channel of one integration."""
        return redis_key("live", self._digest(integration_id))

    def lease_key(self, key: str) -> str:
        return redis_key("live:lease", self._digest(key))

    def watermark_key(self, key: str) -> str:
        return redis_key("live:watermark", self._digest(key))

    def event_key(self, event_id: str) -> str:
        return redis_key("live:webhook", self._digest(event_id))

    # -- lifecycle ---------------------------------------------------------------------------

    def _redis(self) -> Redis:
        if self._closed:
            raise RuntimeError("the live Redis coordinator is closed")
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(
                self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
            )
        return self._client

    async def start(self, on_message: OnMessage) -> None:
        """Take ``on_message``; the listener connects with the first watched integration (a
        gateway nobody subscribes to holds no pub/sub connection)."""
        self._on_message = on_message
        if self._channels:
            self._listen_soon()

    def _listen_soon(self) -> None:
        if self._listener is None and self._on_message is not None and not self._closed:
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="live redis listener"
            )

    async def aclose(self) -> None:
        self._on_message = None
        self._closed = True
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        for task in list(self._pending):
            task.cancel()
        await self._drop_pubsub()
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception as exc:
                log.debug("closing the live Redis pool at %s: %s", self.where, exc)

    # -- the bus -----------------------------------------------------------------------------

    def watch(self, integration_id: str) -> None:
        count = self._watched.get(integration_id, 0)
        self._watched[integration_id] = count + 1
        if count:
            return
        channel = self.channel(integration_id)
        self._channels[channel] = integration_id
        if self._pubsub is not None:
            self._spawn(self._pubsub.subscribe(channel))
        else:
            self._listen_soon()  # it subscribes every watched channel as it connects

    def unwatch(self, integration_id: str) -> None:
        left = self._watched.get(integration_id, 0) - 1
        if left > 0:
            self._watched[integration_id] = left
            return
        self._watched.pop(integration_id, None)
        channel = self.channel(integration_id)
        self._channels.pop(channel, None)
        if self._pubsub is not None:
            self._spawn(self._pubsub.unsubscribe(channel))

    def _spawn(self, work: Any) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:  # the listener resubscribes everything on reconnect
                log.warning("live Redis (un)subscribe at %s failed: %s", self.where, exc)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def publish(self, integration_id: str, message: bytes) -> None:
        await self._redis().publish(self.channel(integration_id), message)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()
            except Exception as exc:
                log.debug("closing the live pub/sub connection: %s", exc)

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self._pubsub is None:
                    pubsub = self._redis().pubsub()
                    await pubsub.subscribe(_HELLO)
                    sent: set[str] = set()
                    # Until no integration was watched while a SUBSCRIBE was on its way.
                    while missing := set(self._channels) - sent:
                        await pubsub.subscribe(*missing)
                        sent |= missing
                    self._pubsub = pubsub
                    gone = sent - set(self._channels)
                    if gone:
                        self._spawn(pubsub.unsubscribe(*gone))
                    if self._outage:
                        log.info("live changes: Redis at %s answers again", self.where)
                        self._outage = False
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=LISTEN_SECONDS
                )
                backoff = 0.1
                if message is None or message.get("type") != "message":
                    continue
                channel = message["channel"]
                if isinstance(channel, bytes):
                    channel = channel.decode()
                integration_id = self._channels.get(channel)
                if integration_id is not None and self._on_message is not None:
                    data = message["data"]
                    self._on_message(integration_id, data if isinstance(data, bytes) else b"")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._outage:
                    self._outage = True
                    log.warning(
                        "live changes: Redis at %s cannot be reached (%s: %s); none are "
                        "delivered until it answers again",
                        self.where,
                        type(exc).__name__,
                        exc,
                    )
                await self._drop_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    # -- keys --------------------------------------------------------------------------------

    async def claim_event(self, event_id: str) -> bool:
        taken = await self._redis().set(
            self.event_key(event_id), b"1", nx=True, ex=EVENT_ID_SECONDS
        )
        return bool(taken)

    async def hold_lease(self, key: str, token: str, seconds: float) -> bool:
        held = await self._redis().eval(  # type: ignore[misc]
            _HOLD, 1, self.lease_key(key), token, str(max(1, int(seconds * 1000)))
        )
        return bool(held)

    async def release_lease(self, key: str, token: str) -> None:
        await self._redis().eval(_RELEASE, 1, self.lease_key(key), token)  # type: ignore[misc]

    async def watermark(self, key: str) -> str | None:
        value = await self._redis().get(self.watermark_key(key))
        return value.decode() if isinstance(value, bytes) else None

    async def set_watermark(self, key: str, value: str, seconds: float, *, only_new: bool) -> None:
        await self._redis().set(
            self.watermark_key(key), value.encode(), ex=max(1, int(seconds)), nx=only_new
        )

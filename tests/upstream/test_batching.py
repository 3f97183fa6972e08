"""Id lookups of one model made while a request executes go upstream as one call per 250 ids,
however many event-loop turns graphql-core takes to reach them (CONTRACT 1.4)."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.kombo import Page
from gateway.upstream import UpstreamAccess


class CountingKombo:
    """Answers every id lookup with records of those ids; records each call's ids."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def list_records(self, _integration: str, query: Any, **_: Any) -> Page:
        ids = tuple(query.get("ids"))
        self.calls.append(ids)
        await asyncio.sleep(0)
        return Page(path=query.path, results=tuple({"id": i} for i in ids), next=None)


def test_keys_arriving_over_several_turns_are_one_batch() -> None:
    # As graphql-core does with nested lists: some completions are asked for at once, others a
    # few turns later (a one-item list is awaited directly, a longer one gathered). Two turns
    # after the first key, aiodataloader's own dispatch sent 75 + 32 ids for 107 applications.
    kombo = CountingKombo()

    async def run() -> list[Any]:
        access = UpstreamAccess(kombo=kombo, integration_id="acme")  # type: ignore[arg-type]
        loader = access.loader("Application")

        async def load_after(turns: int, key: str) -> Any:
            for _ in range(turns):
                await asyncio.sleep(0)
            return await loader.load(key)

        return await asyncio.gather(*(load_after(n % 6, f"app-{n}") for n in range(300)))

    found = asyncio.run(run())
    assert [record["id"] for record in found] == [f"app-{n}" for n in range(300)]
    assert [len(ids) for ids in kombo.calls] == [250, 50]


def test_a_batch_not_yet_dispatched_when_the_response_is_sent_is_never_sent() -> None:
    kombo = CountingKombo()

    async def run() -> None:
        access = UpstreamAccess(kombo=kombo, integration_id="acme")  # type: ignore[arg-type]
        pending = access.loader("Application").load("app-1")
        access.cancel_pending()  # the answer went out while the key waited for its batch
        for _ in range(100):
            await asyncio.sleep(0)
        assert not pending.done()

    asyncio.run(run())
    assert kombo.calls == []

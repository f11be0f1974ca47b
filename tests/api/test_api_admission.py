"""Fair shares of the compute slots between projects (openee.api.admission.FairShares)."""

from __future__ import annotations

import asyncio

from openee.api.admission import _COMPUTE_PATH, FairShares


def _run(coro):  # each test in a fresh event loop
    return asyncio.run(coro)


def test_one_project_alone_may_use_every_slot() -> None:
    async def scenario() -> list[bool]:
        shares = FairShares(slots=4, per_project=40, wait_s=0.05)
        return [await shares.acquire("a") for _ in range(5)]

    assert _run(scenario()) == [True, True, True, True, False]


def test_a_freed_slot_goes_to_the_project_under_its_share() -> None:
    async def scenario() -> list[str]:
        shares = FairShares(slots=4, per_project=40, wait_s=5)
        for _ in range(4):
            assert await shares.acquire("noisy")
        started: list[str] = []

        async def ask(project: str) -> None:
            if await shares.acquire(project):
                started.append(project)

        waiters = [asyncio.create_task(ask("noisy")) for _ in range(3)]
        await asyncio.sleep(0.01)
        quiet = asyncio.create_task(ask("quiet"))
        await asyncio.sleep(0.01)
        assert started == []  # every slot is taken
        await shares.release("noisy")  # noisy now holds 3 of 4; its share is 2 of 4
        await asyncio.wait_for(quiet, 1)
        await shares.release("noisy")
        await shares.release("noisy")  # noisy holds 1: it may take one more slot
        await asyncio.sleep(0.01)
        for task in waiters:
            task.cancel()
        return started

    assert _run(scenario()) == ["quiet", "noisy"]


def test_the_per_project_cap_holds_whatever_the_slots() -> None:
    async def scenario() -> list[bool]:
        shares = FairShares(slots=100, per_project=3, wait_s=0.05)
        return [await shares.acquire("a") for _ in range(4)]

    assert _run(scenario()) == [True, True, True, False]


def test_compute_paths_are_recognised_and_cheap_ones_are_not() -> None:
    compute = [
        "/v1/projects/p/value:compute",
        "/v1/projects/p/image:computePixels",
        "/v1/projects/p/imageCollection:computeImages",
        "/v1/projects/p/table:computeFeatures",
        "/v1/projects/p/assets/x:getPixels",
        "/v1/projects/p/thumbnails/abc:getPixels",
        "/v1/projects/p/maps/abc/tiles/3/4/5",
    ]
    cheap = [
        "/token",
        "/v1/projects/p/assets/x",
        "/v1/projects/p/algorithms",
        "/v1/projects/p:listAssets",
    ]
    assert all(_COMPUTE_PATH.match(p).group(1) == "p" for p in compute)  # type: ignore[union-attr]
    assert not any(_COMPUTE_PATH.match(p) for p in cheap)

"""Waiting for "something happened": a store change or a new line of container output."""

from __future__ import annotations

import trio

from kubesim.logs import GroundTruth
from kubesim.store import Store


async def wait_for_change(store: Store, ground_truth: GroundTruth, *, seen_rv: int,
                          seen_lines: int) -> None:
    """Return once the store has moved past ``seen_rv`` or output past ``seen_lines``."""
    async with trio.open_nursery() as nursery:

        async def store_changed() -> None:
            await store.wait_beyond(seen_rv)
            nursery.cancel_scope.cancel(reason="store changed")

        async def output_grew() -> None:
            await ground_truth.wait_beyond(seen_lines)
            nursery.cancel_scope.cancel(reason="output grew")

        nursery.start_soon(store_changed)
        nursery.start_soon(output_grew)

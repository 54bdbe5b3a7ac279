"""Fixtures for the simulator's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kubesim.sim import KubeSim
from kubesim.testing import kubesim_sim, slow_autojump_clock

__all__ = ["kubesim_sim", "slow_autojump_clock"]


@pytest.fixture
async def client(kubesim_sim: KubeSim) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client pointed at the in-process simulator."""
    async with httpx.AsyncClient(base_url=kubesim_sim.url, timeout=30) as http:
        yield http


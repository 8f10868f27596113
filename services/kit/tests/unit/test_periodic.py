"""The scheduler loop: a failing pass is logged and the loop goes on; it stops when cancelled."""

from __future__ import annotations

import asyncio
import logging

import pytest
from grms_kit.periodic import every


async def test_a_failing_pass_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []
    third = asyncio.Event()

    async def tick() -> None:
        passes.append(len(passes) + 1)
        if len(passes) == 3:
            third.set()
        if len(passes) == 1:
            raise RuntimeError("database away")

    with caplog.at_level(logging.ERROR, logger="grms_kit.periodic"):
        task = asyncio.create_task(every(0.001, tick, "test scan"))
        await asyncio.wait_for(third.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert passes[:3] == [1, 2, 3]
    [record] = [r for r in caplog.records if r.name == "grms_kit.periodic"]
    assert record.getMessage() == "test scan failed; retrying in 0.0s" and record.exc_info is not None

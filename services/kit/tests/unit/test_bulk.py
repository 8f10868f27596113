"""bulk_work: the collector relaxed for the body only, nested and across threads, and still collecting cycles."""

from __future__ import annotations

import gc
import threading

import pytest
from grms_kit.bulk import BULK_THRESHOLD, bulk_work


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_settings_come_back_after_nested_bulk_work_and_after_an_error() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with bulk_work():
        assert gc.get_threshold()[0] == max(BULK_THRESHOLD, before[0])
        assert gc.get_freeze_count() > 0 and gc.isenabled()
        with bulk_work():
            assert gc.get_threshold()[0] == max(BULK_THRESHOLD, before[0])
        assert gc.get_threshold()[0] == max(BULK_THRESHOLD, before[0])  # the outer job still runs
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), bulk_work():
        raise RuntimeError("the import failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_last_thread_out_restores_the_settings() -> None:
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with bulk_work():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=other)
    with bulk_work():
        worker.start()
        assert inside.wait(5)
    assert gc.get_threshold()[0] == max(BULK_THRESHOLD, before[0])  # the other thread's job is still running
    release.set()
    worker.join(5)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_garbage_cycles_are_still_collected_during_bulk_work() -> None:
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections.append(info["collected"])

    gc.callbacks.append(count)
    try:
        with bulk_work():
            for _ in range(3 * BULK_THRESHOLD):
                _Cycle()
    finally:
        gc.callbacks.remove(count)
    assert len(collections) >= 2 and sum(collections) > BULK_THRESHOLD

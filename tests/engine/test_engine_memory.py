"""The process-wide memory budget (openee.engine.memory)."""

from __future__ import annotations

import threading
import time

import pytest

from openee.engine import memory
from openee.errors import ResourceExhaustedError

MIB = 2**20


def test_a_reservation_waits_for_room_and_gets_it_when_another_ends() -> None:
    ledger = memory.MemoryLedger(100 * MIB, wait_s=5)
    ledger.reserve(70 * MIB)
    got = threading.Event()

    def second() -> None:
        ledger.reserve(50 * MIB)
        got.set()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.2)
    assert not got.is_set()  # 70 + 50 > 100: it waits
    ledger.release(70 * MIB)
    thread.join(5)
    assert got.is_set() and ledger.reserved == 50 * MIB
    assert ledger.high_water == 70 * MIB


def test_no_room_in_time_is_resource_exhausted() -> None:
    ledger = memory.MemoryLedger(100 * MIB, wait_s=0.1)
    ledger.reserve(80 * MIB)
    with pytest.raises(ResourceExhaustedError, match="busy with other large requests"):
        ledger.reserve(30 * MIB)
    assert ledger.reserved == 80 * MIB


def test_a_request_larger_than_the_budget_runs_alone() -> None:
    ledger = memory.MemoryLedger(100 * MIB, wait_s=0.1)
    ledger.reserve(150 * MIB)  # nothing else running: it may go
    with pytest.raises(ResourceExhaustedError):
        ledger.reserve(1 * MIB)


def test_a_request_scope_gives_back_what_it_reserved() -> None:
    ledger = memory.MemoryLedger(100 * MIB, wait_s=0.1)
    with memory.request_scope(ledger):
        memory.reserve(40 * MIB)
        memory.reserve(20 * MIB)
        assert ledger.reserved == 60 * MIB
    assert ledger.reserved == 0
    memory.reserve(10**12)  # outside a request (CLI, tests): nothing to account
    assert ledger.reserved == 0

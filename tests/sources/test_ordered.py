"""``in_order``: items produced in worker threads, consumed in the given order, nothing left running."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from vigil.sources._ordered import in_order


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("vigil-map")]


def _slow_first(item: int, worker: int) -> Iterator[tuple[int, int]]:
    for k in range(3):
        time.sleep(0.05 if item == 0 else 0)  # later items finish first; they still come out in order
        yield item, k


def test_results_come_in_item_order_whatever_finishes_first() -> None:
    got = [list(results) for results in in_order(range(5), _slow_first, workers=3)]
    assert got == [[(i, k) for k in range(3)] for i in range(5)]
    assert not _workers()


def test_each_worker_has_its_own_index() -> None:
    seen: dict[int, set[int]] = {}
    lock = threading.Lock()

    def produce(item: int, worker: int) -> Iterator[int]:
        with lock:
            seen.setdefault(worker, set()).add(threading.get_ident())
        yield item

    assert [next(r) for r in in_order(range(8), produce, workers=2)] == list(range(8))
    assert set(seen) <= {0, 1} and all(len(threads) == 1 for threads in seen.values())


def test_an_error_is_raised_where_the_consumer_reaches_it() -> None:
    def produce(item: int, worker: int) -> Iterator[int]:
        yield item
        if item == 1:
            raise ValueError("bad item 1")
        yield item * 10

    streams = in_order(range(3), produce, workers=2)
    assert list(next(streams)) == [0, 0]
    second = next(streams)
    assert next(second) == 1
    with pytest.raises(ValueError, match="bad item 1"):
        next(second)
    assert list(next(streams)) == [2, 20]  # the other items are unaffected
    streams.close()
    assert not _workers()


def test_an_item_left_unread_frees_its_worker_for_the_next() -> None:
    def endless(item: int, worker: int) -> Iterator[int]:
        n = 0
        while True:
            yield item if item != 0 else n
            n += 1

    streams = in_order(range(3), endless, workers=1)
    assert next(next(streams)) == 0  # item 0 abandoned after one result; its producer must stop
    assert next(next(streams)) == 1
    assert next(next(streams)) == 2
    streams.close()
    assert not _workers()


def test_closing_early_stops_every_producer() -> None:
    started = threading.Event()

    def endless(item: int, worker: int) -> Iterator[int]:
        started.set()
        while True:
            yield item

    streams = in_order(range(10), endless, workers=3)
    next(next(streams))
    assert started.is_set()
    streams.close()
    assert not _workers()

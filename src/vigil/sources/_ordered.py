"""Produce several items' results in worker threads, consume them in the items' order.

Ingest maps files in parallel (parsing and mapping release the GIL inside DuckDB) while one thread
stores them in the order they were given, so duplicates across files resolve exactly as in a serial
run. Each item has its own bounded queue, so memory stays bounded: a worker that is ahead of the
consumer waits with one result ready.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def in_order(items: Sequence[T], produce: Callable[[T, int], Iterator[R]], workers: int,
             depth: int = 1) -> Generator[Iterator[R], None, None]:
    """``produce(item, worker)`` for up to ``workers`` items at once (``worker`` in ``range(workers)``: a
    worker's own resources, e.g. a database cursor), items taken in order; yields each item's results as
    an iterator, items in order. An error in a producer is raised where the consumer reaches it. An item's
    iterator left unfinished stops its producer; closing the whole iteration (``close()``, or leaving a
    ``for`` over it) stops every producer and waits for their threads."""
    stop = threading.Event()
    queues: list[queue.Queue[tuple[str, Any]]] = [queue.Queue(maxsize=depth) for _ in items]
    abandoned = [threading.Event() for _ in items]
    taken = iter(range(len(items)))
    lock = threading.Lock()

    def put(i: int, message: tuple[str, Any]) -> bool:
        while not (stop.is_set() or abandoned[i].is_set()):
            try:
                queues[i].put(message, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work(worker: int) -> None:
        while not stop.is_set():
            with lock:
                i = next(taken, None)
            if i is None:
                return
            try:
                for result in produce(items[i], worker):
                    if not put(i, ("item", result)):
                        break
                else:
                    put(i, ("end", None))
            except BaseException as exc:  # handed to the consumer, never swallowed
                put(i, ("error", exc))

    def results(i: int) -> Generator[R, None, None]:
        try:
            while True:
                kind, value = queues[i].get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            abandoned[i].set()

    threads = [threading.Thread(target=work, args=(w,), name=f"vigil-map-{w}", daemon=True)
               for w in range(max(1, min(workers, len(items))))]
    for t in threads:
        t.start()
    try:
        for i in range(len(items)):
            it = results(i)
            try:
                yield it
            finally:
                it.close()
                abandoned[i].set()  # (an iterator never started runs no finally of its own)
    finally:
        stop.set()
        for t in threads:
            t.join()

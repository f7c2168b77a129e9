"""Progress inside long work, without tying any stage to a user interface.

Stages call :func:`report` (``"epoch 3", 3, 10``) at natural steps — training epochs, scoring
blocks, phases of an entity. Whoever shows progress (the CLI's rich bars, the run log) installs
a reporter with :func:`reporting` for the duration of the work. Nothing is installed by default,
so a call costs one global lookup.

A report carries the *lane* it was made in (:func:`in_lane`: the entity being fitted), so
work done side by side shows as one line per entity, and whether it is a *milestone* (a
training epoch: worth a line in the run's log, not only a moving bar). Reports made in a pool
worker reach the parent's reporter through a local socket (:func:`listening`, :func:`sending`),
those of a Ray task through a Ray queue (:func:`forwarding`, :func:`drain`) — both installed by
:mod:`mstad.runs.executors` — so an entity fitted elsewhere shows its epochs as they happen, not
only when it finishes.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    """``done`` of ``total`` steps of ``what``, in ``lane``; ``milestone`` asks for a log line."""

    what: str
    done: int
    total: int
    lane: str = ""
    milestone: bool = False


Reporter = Callable[[Step], None]
_reporter: Reporter | None = None
_lane = ""


def report(what: str, done: int, total: int, *, milestone: bool = False) -> None:
    """``done`` of ``total`` steps of ``what`` (e.g. ``"discord: window 50"``) are finished."""
    if _reporter is not None:
        _reporter(Step(what, done, total, _lane, milestone))


def current() -> Reporter | None:
    """The reporter installed now (None: nobody is listening)."""
    return _reporter


@contextlib.contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send :func:`report` calls to ``reporter`` inside the ``with`` block."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous


@contextlib.contextmanager
def in_lane(name: str) -> Iterator[None]:
    """Reports inside the ``with`` block belong to ``name`` (e.g. the entity being fitted)."""
    global _lane
    previous, _lane = _lane, name
    try:
        yield
    finally:
        _lane = previous


def forwarding(queue: Any) -> contextlib.AbstractContextManager[None]:
    """Install a reporter that puts every :class:`Step` on ``queue`` (a Ray queue the parent
    drains). Progress is never worth failing the work for: a queue that is gone (the parent
    stopped listening) drops the report."""

    def put(step: Step) -> None:
        with contextlib.suppress(Exception):
            queue.put_nowait(step)

    return reporting(put)


@contextlib.contextmanager
def listening(reporter: Reporter) -> Iterator[tuple[Any, bytes]]:
    """A local socket that hands every :class:`Step` sent to it (:func:`sending`) to
    ``reporter``, for the ``with`` block; yields its (address, key). No helper process: one
    thread accepts connections, one per connection reads them."""
    from multiprocessing.connection import Listener

    key = os.urandom(16)
    listener = Listener(authkey=key)

    def read(connection: Any) -> None:
        with connection, contextlib.suppress(EOFError, OSError):
            while True:
                step = connection.recv()
                with contextlib.suppress(Exception):
                    reporter(step)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection = listener.accept()
                threading.Thread(target=read, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.address, key
    finally:
        listener.close()


@contextlib.contextmanager
def sending(address: Any, key: bytes) -> Iterator[None]:
    """Send every report inside the ``with`` block to a :func:`listening` socket (from a pool
    worker). A parent that stopped listening loses the reports, never the work."""
    from multiprocessing.connection import Client

    try:
        connection = Client(address, authkey=key)
    except (OSError, EOFError, ValueError):
        yield
        return

    def send(step: Step) -> None:
        with contextlib.suppress(Exception):
            connection.send(step)

    try:
        with reporting(send):
            yield
    finally:
        connection.close()


def drain(queue: Any, reporter: Reporter) -> None:
    """Hand every :class:`Step` on ``queue`` to ``reporter`` until a ``None`` arrives (run in a
    thread of the parent while workers report)."""
    while (step := queue.get()) is not None:
        with contextlib.suppress(Exception):
            reporter(step)

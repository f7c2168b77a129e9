"""Progress inside long work, without tying any stage to a user interface.

Stages call :func:`report` (``"epoch", 3, 10``) at natural steps — training epochs, scoring
blocks, phases of an entity. Whoever shows progress (the CLI's rich bar) installs a reporter
with :func:`reporting` for the duration of the work. Nothing is installed by default, so a
call costs one global lookup. Reporters live in the process that installed them: entities
fitted in pool workers report only when they finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Reporter = Callable[[str, int, int], None]
_reporter: Reporter | None = None


def report(what: str, done: int, total: int) -> None:
    """``done`` of ``total`` steps of ``what`` (e.g. ``"discord: window 50"``) are finished."""
    if _reporter is not None:
        _reporter(what, done, total)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send :func:`report` calls to ``reporter`` inside the ``with`` block."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous

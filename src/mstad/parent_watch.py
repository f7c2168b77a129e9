"""Helper processes that exit when the process that started them is gone.

Pool workers (:mod:`mstad.runs.executors`) call :func:`watch_parent` as they start: when their
parent dies — even by SIGKILL, which gives it no chance to stop them — they exit within a second
instead of computing on as orphans. A light module of its own, apart from :mod:`mstad.runs`.
"""

from __future__ import annotations

import os
import threading
import time

_watching: set[int] = set()


def watch_parent(parent: int) -> None:
    """Start (once per ``parent``) a daemon thread that ends this process when ``parent`` is
    gone; nothing when this process *is* ``parent`` (work run in place)."""
    if os.getpid() == parent or parent in _watching:
        return
    _watching.add(parent)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _watch(parent: int, every_s: float = 0.5) -> None:
    """Exit this process once ``parent`` no longer exists (or, for a direct child, once it has
    been re-parented: a killed parent may linger as a zombie)."""
    direct = os.getppid() == parent
    while True:
        time.sleep(every_s)
        if direct and os.getppid() != parent:
            os._exit(1)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # it exists, as another user's process: pid reused, gone
            os._exit(1)

"""Where per-entity work runs: a local process pool (joblib/loky) or a Ray cluster.

Both yield results as they finish, so the caller can persist each one at once (resumable runs)
and advance a progress bar. Local workers watch their parent (:mod:`mstad.parent_watch`): when it
dies (even by SIGKILL, which gives it no chance to stop them) they exit within a second instead
of computing on as orphans. When the parent listens to progress (:mod:`mstad.progress`), workers
send their reports to it as they make them (training epochs, scoring blocks): local ones through
a socket the parent listens on (no helper process), Ray tasks through a Ray queue actor.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from joblib import Parallel, delayed

from mstad import progress
from mstad.errors import ConfigError
from mstad.parent_watch import watch_parent


def resolve_jobs(n_jobs: int, n_tasks: int) -> int:
    cores = os.cpu_count() or 1
    return max(1, min(cores if n_jobs <= 0 else n_jobs, max(n_tasks, 1)))


def map_unordered(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    executor: str = "local",
    n_jobs: int = -1,
    address: str | None = None,
) -> Iterator[Any]:
    """``fn(*task)`` for every task, yielded in completion order."""
    if executor == "ray":
        yield from _ray(fn, tasks, n_jobs, address)
        return
    if executor != "local":
        raise ConfigError(f"executor {executor!r} is unknown; choose local or ray")
    jobs = resolve_jobs(n_jobs, len(tasks))
    if jobs == 1:
        for task in tasks:
            yield fn(*task)
        return
    parent, reporter = os.getpid(), progress.current()
    listening = contextlib.nullcontext() if reporter is None else progress.listening(reporter)
    with listening as channel:
        yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(_in_worker)(fn, parent, channel, *task) for task in tasks
        )


def _in_worker(fn: Callable[..., Any], parent: int, channel: Any, *task: Any) -> Any:
    """Run ``fn(*task)`` in a pool worker, which first starts watching ``parent``; its progress
    reports go to the parent's ``channel`` (address, key; None: nobody listens)."""
    watch_parent(parent)
    if channel is None:
        return fn(*task)
    with progress.sending(*channel):
        return fn(*task)


def _ray(fn, tasks, n_jobs, address) -> Iterator[Any]:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "executor 'ray' needs Ray: pip install 'mstad[ray]' (or pip install ray)"
        ) from exc
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            options["address"] = address
        else:
            options["num_cpus"] = resolve_jobs(n_jobs, len(tasks))
        ray.init(**options)
    reporter = progress.current()
    queue = None
    if reporter is not None:
        from ray.util.queue import Queue

        queue = Queue(actor_options={"num_cpus": 0})  # takes no CPU from the tasks
        drain = threading.Thread(target=progress.drain, args=(queue, reporter), daemon=True)
        drain.start()
    remote = ray.remote(_forwarding)
    pending = [remote.remote(queue, fn, *task) for task in tasks]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if queue is not None:
            queue.put(None)
            drain.join(timeout=5)
            queue.shutdown()


def _forwarding(queue: Any, fn: Callable[..., Any], *task: Any) -> Any:
    """``fn(*task)`` in a Ray task, its progress reports sent to ``queue`` (None: nobody
    listens)."""
    if queue is None:
        return fn(*task)
    with progress.forwarding(queue):
        return fn(*task)

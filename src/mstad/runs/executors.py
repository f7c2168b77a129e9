"""Where per-entity work runs: a local process pool (joblib/loky) or a Ray cluster.

Both yield results as they finish, so the caller can persist each one at once (resumable runs)
and advance a progress bar.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from joblib import Parallel, delayed

from mstad.errors import ConfigError


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
    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(fn)(*task) for task in tasks
    )


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
    remote = ray.remote(fn)
    pending = [remote.remote(*task) for task in tasks]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])

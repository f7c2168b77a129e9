"""The ``mstad`` command for tests, run the way a user's shell runs it but in this process.

``mstad(*args)`` calls the console entry point (:func:`mstad.cli.main`: one-line errors, exit
code 2) with the arguments, working folder, stdin, stdout, stderr and warning filters a fresh
``python -m mstad`` process would have, and returns a :class:`subprocess.CompletedProcess`.
It saves the 4-5 s every fresh process spends importing torch, scikit-learn and pandas (half
the test run's time went there); ``tests/test_cli.py`` keeps real subprocesses for what only a
process shows: the ``python -m mstad`` entry point, ``--debug``'s traceback and the demo.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

#: Python's own warning filters in a fresh process (``python -W`` unset, not a dev build):
#: what a user's terminal would show on stderr.
_FRESH_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def _text_stream(data: bytes = b"") -> io.TextIOWrapper:
    """A text stream over bytes, as a pipe's: not a terminal, with a ``buffer``."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", write_through=True)


@contextlib.contextmanager
def _pipes(input: str | None):
    """sys.stdin, sys.stdout and sys.stderr swapped for pipes; yields (stdout, stderr)."""
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = _text_stream((input or "").encode())
    sys.stdout, sys.stderr = _text_stream(), _text_stream()
    try:
        yield sys.stdout.buffer, sys.stderr.buffer
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdin, sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def _working_folder(cwd: Path | str | None):
    before = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


def mstad(
    *args: object, cwd: Path | str | None = None, input: str | None = None
) -> subprocess.CompletedProcess:
    """Run ``mstad ARGS`` with ``input`` on stdin; stdout, stderr and the exit code come back.
    An exception the entry point does not turn into an exit code propagates (a bug, shown
    with its traceback by pytest)."""
    from mstad.cli import main

    argv = ["mstad", *map(str, args)]
    code: int | str | None = 0
    with (
        _working_folder(cwd),
        _pipes(input) as (out, err),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.resetwarnings()
        for action, category, module in reversed(_FRESH_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)
        saved, sys.argv = sys.argv, argv
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = saved
        shown = "".join(
            warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught
        )
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode() + shown
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit code 1
        stderr, code = f"{stderr}{code}\n", 1
    return subprocess.CompletedProcess(argv, code, stdout, stderr)

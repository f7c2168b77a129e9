"""`mstad dashboard` becomes the Streamlit server: a signal to its pid stops the server, and
no child is left serving on the port."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra (streamlit) is not installed")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found = []
    for task in tasks.iterdir() if tasks.is_dir() else []:
        text = (task / "children").read_text() if (task / "children").is_file() else ""
        found += [int(c) for c in text.split()]
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_dashboard_stops_the_server(zscore_run, sig):
    port = _port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mstad", "dashboard", str(zscore_run), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.5)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"streamlit" in cmdline  # the mstad process *is* the server
        assert not [
            c
            for c in _children(process.pid)
            if b"streamlit" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]
        process.send_signal(sig)
        process.wait(timeout=30)
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing serves on the port any more
    finally:
        process.kill()

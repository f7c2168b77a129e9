"""The run folder as one contract: paths stay inside, writes are atomic, broken parts are
refitted, a running run is shown as running, a killed run resumes to identical metrics."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mstad.data import Dataset
from mstad.errors import MstadError
from mstad.runs import read_json, resume_run, run_experiment
from mstad.runs.rundir import RUNNING, RunFolder, write_json
from mstad.runs.view import RunningError, open_run
from tests.conftest import shifted_entity
from tests.runs.test_runner import tiny_config


@pytest.mark.parametrize("name", ["../A-1", "../../x", "a/b", ".hidden", "..", ""])
def test_entity_paths_cannot_leave_the_run_folder(tmp_path, name):
    folder = RunFolder(tmp_path / "run")
    for make in (folder.series, folder.explain, folder.model, lambda n: folder.part(n, ".json")):
        with pytest.raises(MstadError, match="not a plain file name"):
            make(name)
    assert folder.series("A-1") == tmp_path / "run" / "series" / "A-1.npy"


def test_atomic_writes_leave_the_old_file_when_a_write_fails(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"auroc": 0.9})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        write_json(target, {"auroc": Unserialisable()})
    assert read_json(target) == {"auroc": 0.9}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left


def test_an_output_folder_that_cannot_be_written_fails_before_any_fit(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MstadError, match="cannot create the output folder") as info:
        run_experiment(tiny_config(blocker / "runs"))
    assert "\n" not in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_run_folder_on_resume_fails_before_refitting(tmp_path):
    result = run_experiment(tiny_config(tmp_path))
    (result.path / "metrics.json").unlink()
    os.chmod(result.path, 0o500)
    try:
        with pytest.raises(MstadError, match="cannot write here"):
            resume_run(result.path)
    finally:
        os.chmod(result.path, 0o700)


def test_a_part_cut_short_counts_as_unfinished_and_is_refitted(tmp_path):
    dataset = Dataset("shifts", (shifted_entity(seed=0), shifted_entity(seed=1)))
    config = tiny_config(tmp_path, model="pca")
    first = run_experiment(config, dataset=dataset)
    part = first.path / "parts" / "shift1.json"
    part.write_text(part.read_text()[:25])  # cut mid-write
    (first.path / "parts" / "shift0.npz").write_bytes(b"PK\x03\x04 truncated")
    (first.path / "metrics.json").unlink()
    again = run_experiment(config, run_dir=first.path, dataset=dataset)
    assert again.timing["resumed_entities"] == 0  # both parts were unreadable: both refitted
    assert again.metrics["concat"]["auroc"] == pytest.approx(first.metrics["concat"]["auroc"])
    assert json.loads(part.read_text())["name"] == "shift1"


def test_a_running_run_is_shown_as_running_not_half_written(tmp_path):
    result = run_experiment(tiny_config(tmp_path))
    folder = RunFolder(result.path)
    folder.mark_running(3, 54)  # this (live) process works on it
    with pytest.raises(RunningError, match=r"still running \(3/54 entities done\)") as info:
        open_run(result.path)
    assert (info.value.done, info.value.total) == (3, 54)
    with pytest.raises(MstadError, match="another mstad process .* is working on this run"):
        resume_run(result.path)
    beat = read_json(folder.file(RUNNING))
    write_json(folder.file(RUNNING), {**beat, "pid": 2**22 + 12345})  # a process that is gone
    assert not folder.is_running()
    assert open_run(result.path).entity_names == ["mscred-synthetic"]
    folder.clear_running()


def test_evaluate_keeps_the_data_warnings_line(tmp_path):
    from mstad.runs.evaluate import evaluate_run

    result = run_experiment(tiny_config(tmp_path))
    metrics = read_json(result.path / "metrics.json")
    write_json(result.path / "metrics.json", {**metrics, "warnings": ["2 data warning(s)"]})
    recomputed, _ = evaluate_run(result.path)
    assert recomputed["warnings"] == ["2 data warning(s)"]


KILL_DURING_PART_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    import mstad.runs.finalize as finalize
    from mstad.runs import run_experiment
    from mstad.config import RunConfig

    real, calls = finalize.save_npz, []

    def dying_save_npz(path, **arrays):  # the second entity's part: half a file, then SIGKILL
        calls.append(path)
        if len(calls) == 2:
            with open(str(path.parent / ("." + path.name + ".tmp")), "wb") as handle:
                handle.write(b"PK\\x03\\x04 half")
            os.kill(os.getpid(), signal.SIGKILL)
        real(path, **arrays)

    finalize.save_npz = dying_save_npz
    options = dict(n_sensors=5, n_steps=2400, train_end=1200, n_anomalies=3, n_entities=3)
    run_experiment(RunConfig(dataset="synthetic", dataset_options=options, model="pca",
                             output_dir=sys.argv[1], n_jobs=1))
    """
)


def test_a_run_killed_during_a_part_write_resumes_to_identical_metrics(tmp_path):
    killed = subprocess.run(
        [sys.executable, "-c", KILL_DURING_PART_WRITE, str(tmp_path / "killed")],
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert sorted(p.name for p in (run_dir / "parts").glob("*.json")) == ["synthetic-0.json"]
    with pytest.raises(MstadError, match="half-written run"):
        open_run(run_dir)
    resumed = resume_run(run_dir)
    assert resumed.timing["resumed_entities"] == 1
    config = tiny_config(tmp_path / "whole", model="pca")
    config = config.model_copy(
        update={
            "dataset_options": dict(
                n_sensors=5, n_steps=2400, train_end=1200, n_anomalies=3, n_entities=3
            )
        }
    )
    whole = run_experiment(config)
    for protocol in ("concat", "per_entity_mean"):
        for key in ("auroc", "ap", "vus_pr", "f1"):
            assert resumed.metrics[protocol][key] == pytest.approx(whole.metrics[protocol][key])
    assert all(p.parent.name == "parts" for p in run_dir.rglob(".*.tmp"))  # ignored debris
    shutil.rmtree(tmp_path / "whole")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("listening", [False, True], ids=["quiet", "progress forwarded"])
def test_pool_workers_exit_when_their_parent_is_killed(tmp_path, listening):
    script = textwrap.dedent(
        f"""
        import os, time
        from mstad.progress import reporting
        from mstad.runs.executors import map_unordered

        def slow(k):
            open(os.path.join({str(tmp_path)!r}, f"worker{{k}}.pid"), "w").write(str(os.getpid()))
            time.sleep(120)

        with reporting((lambda step: None) if {listening} else None):
            list(map_unordered(slow, [(0,), (1,)], "local", 2))
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(600):
            pids = [tmp_path / f"worker{k}.pid" for k in (0, 1)]
            if all(p.is_file() and p.read_text() for p in pids):
                break
            parent.poll()
            assert parent.returncode is None
            time.sleep(0.1)
        workers = [int(p.read_text()) for p in pids]
        assert _children(parent.pid, "spawn_main") == []  # progress needs no helper process
        parent.kill()
        parent.wait(10)
        deadline = time.time() + 10
        alive = workers
        while alive and time.time() < deadline:
            time.sleep(0.2)
            alive = [w for w in workers if _alive(w)]
        assert not alive, f"workers {alive} outlived their parent"
    finally:
        parent.kill()


def _children(parent: int, command: str) -> list[int]:
    """Processes whose parent is ``parent`` and whose command line contains ``command``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and command in cmdline:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def test_run_folder_series_written_atomically_have_float32_and_shape(tmp_path):
    result = run_experiment(tiny_config(tmp_path))
    series = np.load(RunFolder(result.path).series("mscred-synthetic"))
    assert series.dtype == np.float32 and series.shape[1] == 6
    assert not list(result.path.rglob(".*.tmp"))


def test_permission_denied_is_one_line_before_any_fit(tmp_path, monkeypatch):
    import mstad.runs.rundir as rundir

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(rundir, "atomic_path", denied)
    with pytest.raises(
        MstadError, match=r"cannot write here \(Permission denied\); choose another"
    ):
        RunFolder(tmp_path / "run").check_writable()


def test_unicode_entity_names_are_plain_file_names(tmp_path):
    assert RunFolder(tmp_path).series("Kessel_Ö-1") == tmp_path / "series" / "Kessel_Ö-1.npy"


def test_the_run_log_says_what_happened(tmp_path):
    result = run_experiment(tiny_config(tmp_path))
    lines = (result.path / "run.log").read_text().splitlines()
    assert "start: zscore" in lines[0] and "1 entities (0 finished before)" in lines[0]
    assert "entity mscred-synthetic done (1/1): fit" in lines[1]
    assert "finished in" in lines[-1] and "concat AUROC" in lines[-1]

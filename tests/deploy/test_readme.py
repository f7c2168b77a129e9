"""The README's Deploy section, run as written: the plant walk-through (each ``mstad`` line
through the entry point, :mod:`tests.cli_run`) and the Python block."""

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from tests.cli_run import mstad

README = Path(__file__).resolve().parents[2] / "README.md"


def block(marker: str) -> str:
    text = README.read_text()
    found = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```\n<!-- /{marker} -->", text, re.S)
    assert found, f"README has no {marker} block"
    return found.group(1)


def test_the_python_block_runs():
    exec(compile(block("deploy-python"), "README deploy-python", "exec"), {})


def test_the_plant_walkthrough_runs_as_written_and_stream_equals_score(tmp_path):
    for line in block("deploy-walkthrough").splitlines():
        command = line.split("#")[0].strip()
        if not command:
            continue
        for part in command.split("&&"):
            words = shlex.split(part)
            stdin = stdout = None
            if "<" in words:
                stdin = (tmp_path / words[words.index("<") + 1]).read_text()
            if ">" in words:
                stdout = tmp_path / words[words.index(">") + 1]
            words = [w for i, w in enumerate(words) if w not in "<>" and words[i - 1] not in "<>"]
            assert words[0] == "mstad"
            done = mstad(*words[1:], cwd=tmp_path, input=stdin)
            if stdout is not None:
                stdout.write_text(done.stdout)
            assert done.returncode == 0, f"{part}: {done.stderr}"
            if words[1] == "score":
                assert "alarms" in done.stdout and "top sensors" in done.stdout
                # times in the plant's own zone, as labels.csv and the schedule write them
                # (the files keep UTC): the labelled fault starts at 06:10:36 local
                assert "(Europe/Berlin)" in done.stdout and "2024-01-13 06:10:36" in done.stdout
    scores = pd.read_csv(tmp_path / "plant/scored/scores.csv")
    streamed = pd.read_csv(tmp_path / "plant/stream.csv")
    assert len(streamed) == len(scores) == 1200
    np.testing.assert_allclose(streamed["score"], scores["score"], atol=1e-6)
    assert (streamed["alarm"] == scores["alarm"].astype(int)).all()
    events = pd.read_csv(tmp_path / "plant/scored/events.csv")
    # the batch's two labelled faults are found with their causes first
    causes = {"temp_01", "press_15", "flow_23"}
    fault = events[(events.start <= 590) & (events.end >= 590)]
    assert len(fault) == 1
    assert {s.split(" (")[0] for s in fault.top_sensors.iloc[0].split("; ")} == causes
    card = (tmp_path / "plant/model/README.md").read_text()
    assert "per-stage statistics" in card and "threshold `pot`" in card

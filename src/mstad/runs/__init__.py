"""Stage 5: run directories on disk and the experiment runner that fills them."""

from mstad.runs.finalize import EntityResult
from mstad.runs.rundir import new_run_dir, read_json, read_scores
from mstad.runs.runner import RunResult, fit_score_entity, resume_run, run_experiment

__all__ = [
    "EntityResult",
    "RunResult",
    "fit_score_entity",
    "new_run_dir",
    "read_json",
    "read_scores",
    "resume_run",
    "run_experiment",
]

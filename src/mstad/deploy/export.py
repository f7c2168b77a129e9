"""``mstad export MODEL --format onnx``: the torch part of a deep detector as an ONNX graph,
checked against torch with onnxruntime on real inputs (the model's training windows).

What the graph computes, and what stays in Python:

* ``mscred`` — ``MSCREDNetwork``: the stack of ``steps`` signature matrices ``[B, steps, S, n,
  n]`` (input ``inputs``) → the forecast (or reconstruction) of the next matrix ``[B, S, n, n]``
  (output ``matrices``). Python keeps: the signature matrices of the windows, the residual to
  the true matrix, the relative score, the mapping of samples to steps and the calibration.
* ``msflow`` (native route) — extractor + feature standardisation + parallel and fusion flows
  + per-position NLL (the mean over its flows): windows ``[B, C, L]`` of the standardised input
  columns (input ``windows``) → NLL per position ``[B, L]`` (output ``nll``). Python keeps:
  column selection, sensor standardisation, windowing, the mapping of windows to steps, online
  fine-tuning (``reference="train+past"``: a graph is the fitted flow, i.e.
  ``reference="train"``) and the calibration.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mstad.atomic import atomic_path
from mstad.deploy.model import DeployedModel
from mstad.errors import MstadError
from mstad.models.msflow.flows import position_scores

#: largest |onnxruntime − torch| accepted on the check inputs
TOLERANCE = 1e-4


@dataclass
class Exported:
    path: Path
    input_name: str
    output_name: str
    max_abs_diff: float
    checked_on: int  # samples


class _FlowScores(torch.nn.Module):
    """MSFlow native: standardised windows ``[B, C, L]`` → NLL per position ``[B, L]``."""

    def __init__(self, detector):
        super().__init__()
        self.extractor = detector.extractor_
        self.flows = torch.nn.ModuleList(detector.flows_)
        self.length = detector.window
        for k, (mean, std) in enumerate(detector.feat_stats_):
            self.register_buffer(f"mean_{k}", torch.from_numpy(np.asarray(mean)))
            self.register_buffer(f"std_{k}", torch.from_numpy(np.asarray(std)))

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        features = []
        for k, f in enumerate(self.extractor.pyramid(windows)):
            shape = (1, -1) + (1,) * (f.dim() - 2)
            mean, std = getattr(self, f"mean_{k}"), getattr(self, f"std_{k}")
            features.append((f - mean.reshape(shape)) / std.reshape(shape))
        maps = [position_scores(flow(features)[0], self.length) for flow in self.flows]
        return torch.stack(maps).mean(0)  # several flows (``flows=K``): their mean NLL


def _graph(model: DeployedModel, train: np.ndarray | None):
    """(module, example input, input name, output name) for the model's detector."""
    detector = model.detector
    if detector.name == "mscred":
        sample = _mscred_inputs(detector, train)
        return detector.network_.eval(), sample, "inputs", "matrices"
    if detector.name == "msflow" and detector.route == "native":
        windows, _ = detector._windows(train)
        sample = torch.from_numpy(np.ascontiguousarray(windows[:16].transpose(0, 2, 1)))
        return _FlowScores(detector).eval(), sample, "windows", "nll"
    raise MstadError(
        f"{model.path}: `{detector.name}`"
        + (" (image route)" if detector.name == "msflow" else "")
        + " has no torch network to export; ONNX export covers mscred and msflow (native route)"
    )


def _mscred_inputs(detector, train: np.ndarray) -> torch.Tensor:
    stacks, _ = detector._samples(train)
    batch = detector._batch(stacks, np.arange(min(8, len(stacks))))
    inputs, _ = detector._split_runs(batch)  # a batch of stacks: runs of one sample each
    return inputs


def export_onnx(model: DeployedModel, out: Path, check_data: np.ndarray) -> Exported:
    """Write ``out`` (ONNX, opset 17, dynamic batch) and compare onnxruntime with torch on
    ``check_data`` (rows of the model's sensors, e.g. its training data)."""
    import onnxruntime

    module, sample, input_name, output_name = _graph(model, check_data)
    with atomic_path(out) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on Python control flow of fixed shapes
        torch.onnx.export(
            module,
            (sample,),
            str(tmp),
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    with torch.no_grad():
        expected = module(sample).cpu().numpy()
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run([output_name], {input_name: sample.cpu().numpy()})[0]
    diff = float(np.max(np.abs(got - expected)))
    if not diff <= TOLERANCE:
        out.unlink(missing_ok=True)
        raise MstadError(
            f"{out}: onnxruntime differs from torch by {diff:.2e} (> {TOLERANCE}); not exported"
        )
    return Exported(out, input_name, output_name, diff, int(sample.shape[0]))

"""examples/evaluate.ipynb runs top to bottom (nbclient), so it cannot rot."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the dev extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the dev extra)")
NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "evaluate.ipynb"


def test_the_evaluation_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MSTAD_NOTEBOOK_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.delenv("MSTAD_RUN", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the score plot and the heatmap
    assert (tmp_path / "runs").is_dir() and len(list((tmp_path / "runs").iterdir())) == 2

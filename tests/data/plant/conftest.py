import pytest
import yaml

from mstad.data.plant import load_prepare_config, make_example_plant

SMALL = {
    "n_train_batches": 2,
    "n_test_batches": 1,
    "stage_seconds": (60, 120, 60),
    "faults_per_batch": 1,
}


@pytest.fixture
def plant(tmp_path):
    """A small example plant: 3 batches (2 train, 1 test) × 3 stages, 30 sensors, 3 files each."""
    return make_example_plant(tmp_path / "plant", **SMALL)


def edit_config(path, **changes):
    """Rewrite the YAML config with ``changes`` and return the loaded config."""
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))
    return load_prepare_config(path)


def european(plant, delimiter=";", decimal=","):
    """Rewrite every raw sensor file as a spreadsheet set to another locale writes it: fields
    split by ``delimiter``, values with ``decimal`` as their decimal mark (timestamps as they
    were)."""
    for path in plant.parent.glob("raw/*/*.csv"):
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        lines = [header.replace(",", delimiter)]
        for row in rows:
            time, *values = row.split(",")
            lines.append(delimiter.join([time, *(v.replace(".", decimal) for v in values)]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

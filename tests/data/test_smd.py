import numpy as np
import pytest

from mstad.data import load_smd


@pytest.mark.realdata
def test_smd_sample_with_root_causes(real_data):
    smd = load_smd(real_data / "smd")
    assert smd.names == ["machine-1-3", "machine-1-7"]
    m13, m17 = smd["machine-1-3"], smd["machine-1-7"]
    assert m13.train.shape == (500, 38) and m17.test.shape == (1000, 38)
    assert int(m13.labels.sum()) == 24 and int(m17.labels.sum()) == 21
    # interpretation '392-416:12,15' is half-open and 1-based in sensors
    (iv,) = m13.intervals
    assert (iv.start, iv.end, iv.causes) == (392, 415, (11, 14))
    assert np.flatnonzero(m13.labels).tolist() == list(range(392, 416))
    (iv7,) = m17.intervals
    assert iv7.causes == (0, 5, 8, 11, 12, 13, 14, 15)
    assert np.flatnonzero(m17.labels).tolist() == list(range(iv7.start, iv7.end + 1))


def test_smd_without_interpretation_files(tmp_path):
    from tests.data.test_bad_input import smd_folder

    root = smd_folder(tmp_path)
    (root / "interpretation_label" / "m-1.txt").unlink()
    entity = load_smd(root)["m-1"]
    assert entity.intervals == () and int(entity.labels.sum()) == 5

"""Reading the recorded BSDS500 results (gmm.companion.bsds)."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.companion import bsds


def test_run_length_codes_round_trip():
    labels = np.array([[1, 1, 2], [2, 2, 3]])
    change = np.flatnonzero(np.diff(labels.ravel())) + 1
    starts = np.concatenate([[0], change])
    runs = np.diff(np.concatenate([starts, [labels.size]]))
    encoded = {"shape": [2, 3], "values": labels.ravel()[starts].tolist(), "runs": runs.tolist()}
    np.testing.assert_array_equal(bsds.decode_label_map(encoded), labels)
    with pytest.raises(ValueError, match="do not cover"):
        bsds.decode_label_map({**encoded, "runs": [1, 1, 1]})


def test_table_rows_put_measured_rows_first_best_pri_first():
    results = {"table": [{"method": "a", "pri": 0.7, "vi": 2.5, "segments": 4.0, "seconds": 0.1},
                         {"method": "b", "pri": 0.75, "vi": 2.1, "segments": 8.0, "seconds": 2.0}],
               "quoted": [{"method": "gPb (quoted)", "pri": 0.83, "vi": 1.69}]}
    rows = bsds.table_rows(results)
    assert [r["method"] for r in rows] == ["b", "a", "gPb (quoted)"]
    assert [r["quoted"] for r in rows] == [False, False, True] and rows[2]["seconds"] is None


def test_human_boundaries_average_the_annotators():
    a = np.zeros((4, 4), int)
    a[:, 2:] = 1
    b = np.zeros((4, 4), int)
    fraction = bsds.human_boundaries([a, b])
    assert fraction.max() == 0.5 and fraction.min() == 0.0  # one of two annotators draws the edge
    with pytest.raises(ValueError, match="at least one"):
        bsds.human_boundaries([])

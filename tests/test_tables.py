"""The per-segment table (gmm.tables)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from gmm.render import PALETTE
from gmm.tables import COLUMNS, region_rows, segment_rows, table_csv_bytes

def hex_colour(rgb) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


LABELS = np.array([[0, 0, 1], [-1, 2, 1]])
IMAGE = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)


def test_rows_by_hand():
    rows = segment_rows(LABELS, IMAGE, 4, names=["a", "b", "c", "d"])
    assert [r["label"] for r in rows] == [0, 1, 2, 3, "none"]
    assert [r["name"] for r in rows] == ["a", "b", "c", "d", "none"]
    assert [r["pixels"] for r in rows] == [2, 2, 1, 0, 1]
    assert sum(r["share"] for r in rows) == pytest.approx(1)
    # Label 0 holds pixels (0,0) = (0,1,2) and (0,1) = (3,4,5): mean (1.5, 2.5, 3.5).
    assert (rows[0]["mean_r"], rows[0]["mean_g"], rows[0]["mean_b"]) == (1.5, 2.5, 3.5)
    assert [rows[1][k] for k in ("min_row", "min_col", "max_row", "max_col")] == [0, 2, 2, 3]  # max exclusive
    assert rows[3]["mean_r"] is None and rows[3]["min_row"] is None  # holds no pixel
    assert rows[0]["colour"] == hex_colour(PALETTE[0]) and rows[4]["colour"] is None


def test_csv_round_trip_and_stable_bytes():
    data = table_csv_bytes(segment_rows(LABELS, IMAGE, 3))
    assert data == table_csv_bytes(segment_rows(LABELS, IMAGE, 3))
    rows = list(csv.DictReader(data.decode().splitlines()))
    assert tuple(rows[0]) == COLUMNS
    assert rows[0]["mean_r"] == "1.5" and rows[2]["mean_r"] == "12" and rows[3]["label"] == "none"
    assert rows[3]["mean_r"] == "" and rows[0]["share"] == "0.333333"


def test_grey_image_means_are_grey():
    rows = segment_rows(np.array([[0, 1]]), np.array([[10, 20]], dtype=np.uint8), 2)
    assert (rows[1]["mean_r"], rows[1]["mean_g"], rows[1]["mean_b"]) == (20.0, 20.0, 20.0)
    assert len(rows) == 2  # no "none" row without masked-out pixels


def test_bad_input():
    with pytest.raises(ValueError, match="-1..1"):
        segment_rows(LABELS, IMAGE, 2)
    with pytest.raises(ValueError, match="3 names"):
        segment_rows(LABELS, IMAGE, 3, names=["a"])
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        segment_rows(LABELS.ravel(), IMAGE, 3)


def test_region_rows_are_numbered_from_one_and_named_after_their_segment():
    labels = np.array([[0, 0, 1, 0]])
    regions = np.array([[1, 1, 2, 3]])
    image = np.array([[10, 20, 30, 40]], dtype=np.uint8)
    rows = region_rows(regions, labels, image, 2, names=["sky", "cow"])
    assert [r["label"] for r in rows] == [1, 2, 3]
    assert [r["name"] for r in rows] == ["sky", "cow", "sky"]
    assert [r["colour"] for r in rows] == [hex_colour(PALETTE[i]) for i in (0, 1, 0)]  # the segment's colour
    assert [r["pixels"] for r in rows] == [2, 1, 1] and rows[0]["mean_r"] == 15.0
    assert [rows[2][k] for k in ("min_row", "min_col", "max_row", "max_col")] == [0, 3, 1, 4]

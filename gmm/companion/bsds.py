"""Reading the BSDS500 evaluation's recorded results (``benchmarks/results/bsds500.json``).

``python benchmarks/bsds_eval.py`` tunes every method on BSDS500 train and scores it on val; the
notebook reads its JSON with :func:`gmm.companion.provenance.read_result` and shows it with
these helpers, so nothing heavy reruns there.
"""

from __future__ import annotations

import numpy as np


def decode_label_map(encoded: dict) -> np.ndarray:
    """A label map stored as run-length codes in raster order: ``{"shape", "values", "runs"}``.

    Returns
    -------
    ndarray of shape ``encoded["shape"]``, int32
    """
    shape = tuple(int(n) for n in encoded["shape"])
    values = np.asarray(encoded["values"], dtype=np.int32)
    runs = np.asarray(encoded["runs"], dtype=np.int64)
    if values.shape != runs.shape or runs.sum() != np.prod(shape) or (runs < 0).any():
        raise ValueError(f"run-length codes do not cover a {shape} label map")
    return np.repeat(values, runs).reshape(shape)


def table_rows(results: dict) -> list[dict]:
    """The measured rows (best first by PRI) followed by the quoted published ones.

    Each row: ``method``, ``pri``, ``vi`` (bits), ``segments`` and ``seconds`` per image
    (None for quoted rows), ``quoted`` (bool).
    """
    measured = sorted(results["table"], key=lambda row: -row["pri"])
    rows = [{"method": r["method"], "pri": r["pri"], "vi": r["vi"], "segments": r["segments"],
             "seconds": r["seconds"], "quoted": False} for r in measured]
    rows += [{"method": q["method"], "pri": q["pri"], "vi": q["vi"], "segments": None, "seconds": None,
              "quoted": True} for q in results["quoted"]]
    return rows


def human_boundaries(label_maps) -> np.ndarray:
    """Fraction of annotators who draw a boundary at each pixel: shape (H, W), in [0, 1]."""
    from skimage.segmentation import find_boundaries

    maps = list(label_maps)
    if not maps:
        raise ValueError("need at least one annotator's label map")
    return np.mean([find_boundaries(m, mode="inner") for m in maps], axis=0)

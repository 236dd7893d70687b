"""The per-segment table: one row per segment of a label map, as a list of dicts or CSV bytes.

Columns (the CSV header, in this order):

- ``label``: the segment's number in the label image (0..K-1), or ``none`` for the masked-out
  pixels (label -1 in the arrays; the row is present only when some pixel is masked out);
- ``name``: the segment's name (by default its number, or ``none``);
- ``pixels`` and ``share``: how many pixels it holds, and their fraction of *all* the image's
  pixels, so the shares of all rows, ``none`` included, sum to 1;
- ``mean_r``, ``mean_g``, ``mean_b``: the mean colour of its pixels, 0-255 (a grey image's
  grey level three times); empty for a segment that holds no pixel;
- ``min_row``, ``min_col``, ``max_row``, ``max_col``: its bounding box as in scikit-image's
  ``regionprops``, maximum exclusive, so ``image[min_row:max_row, min_col:max_col]`` crops it;
- ``colour``: the colour it is drawn in by the renderings, as ``#rrggbb``.

A region table (:func:`region_rows`) has the same columns, one row per connected region
(``label`` 1..R, as in the region label image), each named and coloured after its segment.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from gmm.render import label_mean_colors, make_palette

COLUMNS = ("label", "name", "pixels", "share", "mean_r", "mean_g", "mean_b",
           "min_row", "min_col", "max_row", "max_col", "colour")


def segment_rows(labels, image, n_labels: int, names=None, *, offset: int = 0, colours=None) -> list[dict]:
    """The table's rows, one per segment 0..n_labels-1, then ``none`` when any label is -1.

    Parameters
    ----------
    labels : ndarray of shape (H, W), int >= -1
    image : ndarray of shape (H, W, 3) or (H, W), uint8
    n_labels : int
        Number of segments K; a segment may hold no pixel (it still gets a row).
    names : sequence of K str, optional
        Default: the labels.
    offset : int, default=0
        Added to each label in the ``label`` column (1 for regions numbered from 1).
    colours : ndarray of shape (K, 3), uint8, optional
        The ``colour`` column; default :func:`gmm.render.make_palette` ``(K)``.

    Returns
    -------
    list of dict, keys :data:`COLUMNS`; numbers as Python ints and floats, empty cells as None
    """
    from scipy import ndimage as ndi

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "iu" or labels.size == 0:
        raise ValueError(f"labels must be a non-empty (H, W) integer array, got {labels.dtype} {labels.shape}")
    if labels.min() < -1 or labels.max() >= n_labels:
        raise ValueError(f"labels must lie in -1..{n_labels - 1}, got {int(labels.min())}..{int(labels.max())}")
    names = [str(k + offset) for k in range(n_labels)] if names is None else [str(n) for n in names]
    if len(names) != n_labels:
        raise ValueError(f"expected {n_labels} names, one per segment, got {len(names)}")
    shifted = labels.astype(np.int64) + 1  # 0 = none, k + 1 = segment k
    counts = np.bincount(shifted.ravel(), minlength=n_labels + 1)
    used = shifted > 0
    means = label_mean_colors(labels[used][np.newaxis], np.asarray(image)[used][np.newaxis], n_labels)
    boxes = ndi.find_objects(shifted, max_label=n_labels)
    palette = make_palette(n_labels) if colours is None else np.asarray(colours)
    rows = [_row(k + offset, names[k], counts[k + 1], labels.size, means[k], boxes[k], palette[k])
            for k in range(n_labels)]
    if counts[0]:
        rows.append(_row("none", "none", counts[0], labels.size, [np.nan] * 3, None, None))
    return rows


def region_rows(regions, labels, image, n_components: int, names=None) -> list[dict]:
    """The table of a region label image: one row per region 1..R, then ``none`` (region 0).

    Parameters
    ----------
    regions : ndarray of shape (H, W), int
        Regions 1..R (:meth:`gmm.SegmentationResult.regions`), 0 for masked-out pixels.
    labels : ndarray of shape (H, W), int
        The components the regions are pieces of.
    image : ndarray of shape (H, W, 3) or (H, W), uint8
    n_components : int
    names : sequence of K str, optional
        Component names; each region is named after its component (default: its number).
    """
    regions, labels = np.asarray(regions), np.asarray(labels)
    n_regions = int(regions.max())
    component = np.zeros(n_regions + 1, dtype=np.int64)
    component[regions.ravel()] = labels.ravel()  # every pixel of a region holds its component
    component = component[1:]
    names = [str(k) for k in range(n_components)] if names is None else [str(n) for n in names]
    return segment_rows(regions.astype(np.int64) - 1, image, n_regions, [names[c] for c in component],
                        offset=1, colours=make_palette(n_components)[component])


def _row(label, name, pixels, total, mean, box, colour) -> dict:
    """One table row; NaN means and a missing box become empty cells."""
    row = {"label": label, "name": name, "pixels": int(pixels), "share": int(pixels) / total}
    for channel, value in zip("rgb", mean):
        row[f"mean_{channel}"] = None if np.isnan(value) else float(value)
    rows_, cols = box if box is not None else (slice(None), slice(None))
    for key, value in (("min_row", rows_.start), ("min_col", cols.start), ("max_row", rows_.stop), ("max_col", cols.stop)):
        row[key] = None if value is None else int(value)
    row["colour"] = None if colour is None else "#{:02x}{:02x}{:02x}".format(*(int(c) for c in colour))
    return row


def _cell(value) -> str:
    """A CSV cell: floats at a fixed precision, so equal tables give equal bytes."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value == value else ""
    return str(value)


def table_csv_bytes(rows) -> bytes:
    """The rows as CSV (header :data:`COLUMNS`, ``\\n`` line ends, UTF-8)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return text.getvalue().encode()

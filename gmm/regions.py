"""Regions of a label map: connected pieces of one label, and pieces of one label enclosed by another.

Colour classes are not regions: a label map from a per-pixel mixture puts the same label on many
separate pieces. The functions here find those pieces (scikit-image, scipy.ndimage):
:func:`connected_regions` numbers every piece, merging speckle into a neighbour, as a label image
1..R that scikit-image and the BSDS500 tools read; :func:`enclosed_regions` finds, e.g., the fox's
dark nose, a region of the background component enclosed by the animal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Region:
    """A connected region: its pixel count and bounding box (row and column slices)."""

    size: int
    rows: slice
    cols: slice

    def crop(self, margin: int, shape) -> tuple[slice, slice]:
        """The bounding box grown by ``margin`` pixels on each side, clipped to ``shape``."""
        return (slice(max(self.rows.start - margin, 0), min(self.rows.stop + margin, shape[0])),
                slice(max(self.cols.start - margin, 0), min(self.cols.stop + margin, shape[1])))

    @property
    def centre(self) -> tuple[int, int]:
        return (self.rows.start + self.rows.stop) // 2, (self.cols.start + self.cols.stop) // 2


def enclosed_regions(labels, outer: int, inner: int, min_size: int = 1) -> list[Region]:
    """Connected regions of label ``inner`` entirely enclosed by label ``outer``, largest first.

    E.g. ``outer`` = the animal, ``inner`` = the background: pixels inside the fox that the
    mixture gave to the background (its dark nose and eyes). Enclosed means inside a hole of
    the ``outer`` mask (scipy's ``binary_fill_holes``, 4-connected); ties in size are ordered
    by position (top to bottom, left to right), so the result is deterministic.
    """
    from scipy import ndimage as ndi

    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must have shape (H, W), got {labels.shape}")
    mask = labels == outer
    holes = ndi.binary_fill_holes(mask) & (labels == inner)
    regions_map, n = ndi.label(holes)
    if n == 0:
        return []
    sizes = np.bincount(regions_map.ravel(), minlength=n + 1)[1:]
    boxes = ndi.find_objects(regions_map)
    regions = [Region(int(sizes[i]), boxes[i][0], boxes[i][1]) for i in range(n) if sizes[i] >= min_size]
    return sorted(regions, key=lambda r: (-r.size, r.rows.start, r.cols.start))


def connected_regions(labels, min_size: int = 1, *, connectivity: int = 4, features=None) -> np.ndarray:
    """Connected regions of a label map, those smaller than ``min_size`` merged into a neighbour.

    A segment of a mixture is a colour class; a *region* is one connected piece of it. Pieces
    smaller than ``min_size`` pixels (speckle) are merged into their best neighbouring region:
    the one sharing the longest boundary with it, or, when ``features`` is given, the one whose
    mean feature vector is nearest (Euclidean). All small regions merge at once, then again
    until every region has ``min_size`` pixels or the image is one region; the result depends
    only on the input (ties go to the lower region number).

    Parameters
    ----------
    labels : array-like of int, shape (H, W)
    min_size : int >= 1, default=1
        1 keeps every connected piece.
    connectivity : {4, 8}, default=4
        Neighbourhood defining both connectedness and adjacency.
    features : ndarray of shape (H, W) or (H, W, d), optional
        Per-pixel features (e.g. Lab colour) for nearest-mean merging.

    Returns
    -------
    ndarray of shape (H, W), int32
        Region numbers 1..R in order of first appearance (raster order), as BSDS500 ground
        truth; 0 is never used, since scikit-image's ``regionprops`` reads it as background.
    """
    from skimage.measure import label as connected_components

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.size == 0 or labels.dtype.kind not in "biu":
        raise ValueError(f"labels must be a non-empty (H, W) array of integers, got {labels.dtype} {labels.shape}")
    if not isinstance(min_size, (int, np.integer)) or isinstance(min_size, bool) or min_size < 1:
        raise ValueError(f"min_size must be an integer >= 1, got {min_size!r}")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    means_of = None
    if features is not None:
        if np.ndim(features) not in (2, 3) or np.shape(features)[:2] != labels.shape:
            raise ValueError(f"features must have shape {labels.shape} or {labels.shape} + (d,), got {np.shape(features)}")
        flat = np.asarray(features, dtype=np.float64).reshape(labels.size, -1)
        means_of = lambda regions, n: _region_means(regions, flat, n)  # noqa: E731
    shifted = labels.astype(np.int64) - int(labels.min()) + 1  # every label > 0: none is background
    regions = connected_components(shifted, background=0, connectivity=connectivity // 4).astype(np.int64) - 1
    while True:
        n = int(regions.max()) + 1
        sizes = np.bincount(regions.ravel(), minlength=n)
        if n == 1 or sizes.min() >= min_size:
            break
        first, second, length = _adjacency(regions, n, connectivity)
        small = sizes[first] < min_size
        first, second, length = first[small], second[small], length[small]
        score = -length if means_of is None else _distances(means_of(regions, n), first, second)
        order = np.lexsort((second, score, first))  # per region: best score, then lowest number
        keep = np.ones(order.size, dtype=bool)
        keep[1:] = first[order][1:] != first[order][:-1]
        regions = _merge(regions, n, first[order][keep], second[order][keep])
    return _first_appearance(regions).astype(np.int32) + 1


def _adjacency(regions, n, connectivity):
    """Adjacent region pairs in both orders with their shared boundary length (pixel pairs)."""
    H, W = regions.shape
    offsets = ((0, 1), (1, 0)) if connectivity == 4 else ((0, 1), (1, 0), (1, 1), (1, -1))
    keys = []
    for dy, dx in offsets:
        a = regions[: H - dy, max(-dx, 0) : W - max(dx, 0)].ravel()
        b = regions[dy:, max(dx, 0) : W + min(dx, 0)].ravel()
        differ = a != b
        keys += [a[differ] * n + b[differ], b[differ] * n + a[differ]]
    pairs, length = np.unique(np.concatenate(keys), return_counts=True)
    return pairs // n, pairs % n, length


def _region_means(regions, flat, n):
    """Mean feature vector of each region: shape (n, d)."""
    sizes = np.bincount(regions.ravel(), minlength=n)
    sums = np.stack([np.bincount(regions.ravel(), weights=column, minlength=n) for column in flat.T], axis=1)
    return sums / sizes[:, np.newaxis]


def _distances(means, first, second):
    return np.sqrt(((means[first] - means[second]) ** 2).sum(axis=1))


def _merge(regions, n, source, target):
    """Join each ``source`` region with its ``target``; chains and pairs join into one region."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    graph = coo_array((np.ones(source.size), (source, target)), shape=(n, n))
    _, component = connected_components(graph, directed=True, connection="weak")
    return component[regions]


def _first_appearance(regions):
    """Renumber 0..R-1 in order of each region's first pixel in raster order."""
    present, first = np.unique(regions.ravel(), return_index=True)
    rank = np.empty(int(present.max()) + 1, dtype=np.int64)
    rank[present[np.argsort(first)]] = np.arange(present.size)
    return rank[regions]

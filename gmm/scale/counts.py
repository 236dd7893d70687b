"""Sparse colour counts: one image's, and their exact merge.

A uint8 pixel value is one integer *code*: the grey level (0-255), or ``(r << 16) | (g << 8) | b``
for RGB. An image, a batch of frames or a whole collection is summarised by its distinct codes,
sorted, and how many pixels hold each one. Counts are int64, so merging is integer addition:
exact, and the same whatever the order or grouping of the merges. The merged counts are what
EM needs: EM on the distinct values weighted by their counts is EM on all the pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

RGB_CODES = 1 << 24
GREY_CODES = 1 << 8
# Above this many entries in all, merging through a dense table (linear) beats a sort.
_DENSE_MERGE_ABOVE = 1 << 21


@dataclass(frozen=True)
class ColourCounts:
    """Distinct pixel codes of some images and how many pixels hold each.

    Attributes
    ----------
    codes : ndarray of shape (m,), uint32
        Distinct codes, strictly increasing.
    counts : ndarray of shape (m,), int64
        Pixels per code, all > 0.
    channels : int
        1 (grey levels) or 3 (packed RGB).
    n_images : int
        Images (frames, tiles) counted.
    errors : tuple of (str, str)
        ``(input name, reason)`` for each input that could not be read.
    """

    codes: np.ndarray
    counts: np.ndarray
    channels: int
    n_images: int = 0
    errors: tuple = ()

    @property
    def n_pixels(self) -> int:
        return int(self.counts.sum())

    @property
    def n_distinct(self) -> int:
        return int(self.codes.size)

    def values(self) -> np.ndarray:
        """The distinct pixel values, shape (m, channels), uint8, in code order (lexicographic)."""
        return unpack(self.codes, self.channels)


def empty_counts(channels: int) -> ColourCounts:
    """Counts of nothing, the identity of :func:`merge_counts`."""
    return ColourCounts(np.empty(0, np.uint32), np.empty(0, np.int64), channels)


def pack(pixels, channels: int) -> np.ndarray:
    """Codes of uint8 pixel values.

    Parameters
    ----------
    pixels : ndarray of shape (..., 3) (channels=3) or any shape (channels=1), uint8
    channels : {1, 3}

    Returns
    -------
    ndarray of shape ``pixels.shape[:-1]`` (RGB) or ``pixels.shape`` (grey), uint32
    """
    pixels = np.asarray(pixels)
    _table_size(channels)
    if pixels.dtype != np.uint8 or (channels == 3 and (pixels.ndim == 0 or pixels.shape[-1] != 3)):
        raise ValueError(f"expected uint8 pixel values with {channels} channel(s), got shape {pixels.shape} "
                         f"and dtype {pixels.dtype}")
    if channels == 3:
        codes = pixels[..., 0].astype(np.uint32)
        codes <<= 8
        codes |= pixels[..., 1]
        codes <<= 8
        codes |= pixels[..., 2]
        return codes
    return pixels.astype(np.uint32)


def unpack(codes, channels: int) -> np.ndarray:
    """Pixel values of codes: shape (m, channels), uint8 (the inverse of :func:`pack`)."""
    codes = np.asarray(codes, dtype=np.uint32)
    if channels == 1:
        return codes.astype(np.uint8)[:, np.newaxis]
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)


def _table_size(channels: int) -> int:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    return GREY_CODES if channels == 1 else RGB_CODES


class _Tables(threading.local):
    """One dense int64 table per thread and size, kept between calls and left all-zero.

    A fresh 128 MiB table costs a page fault per 4 KiB page when first written (about 0.3 s
    here), more than counting a 720p frame: so it is allocated once per worker thread and only
    its used entries are cleared after each use.
    """

    def get(self, size: int) -> np.ndarray:
        tables = self.__dict__.setdefault("tables", {})
        if size not in tables:
            tables[size] = np.zeros(size, dtype=np.int64)
        return tables[size]


_TABLES = _Tables()


class DenseAccumulator:
    """Adds counts into a dense per-code table; :meth:`result` reads the non-zero ones out.

    Use one per task (``with DenseAccumulator(3) as acc``): the table is the calling thread's,
    and it is left all-zero on leaving, even after an error.
    """

    def __init__(self, channels: int):
        self.channels = channels
        self.size = _table_size(channels)

    def __enter__(self):
        self.table = _TABLES.get(self.size)
        self.touched = []  # the codes added, while few enough to be cheaper than a table scan
        self.n_touched = 0
        self.present = None  # the non-zero codes, once found (until the next addition)
        return self

    def _note(self, codes) -> None:
        self.present = None
        self.n_touched += codes.size
        if self.n_touched < self.size // 64:
            self.touched.append(codes)

    def add(self, codes, counts) -> None:
        """Add ``counts`` at ``codes`` (distinct codes: a sparse count)."""
        self.table[codes] += counts
        self._note(codes)

    def _present(self) -> np.ndarray:
        if self.present is None:
            if self.n_touched < self.size // 64:
                codes = np.unique(np.concatenate(self.touched)) if self.touched else np.empty(0, np.intp)
                self.present = codes[self.table[codes] != 0]
            else:
                self.present = np.flatnonzero(self.table)
        return self.present

    def result(self):
        """The codes with a non-zero total (sorted, uint32) and their totals (int64)."""
        codes = self._present()
        return codes.astype(np.uint32), self.table[codes].copy()

    def __exit__(self, *exc):
        self.table[self._present()] = 0
        self.touched, self.n_touched, self.present = [], 0, None
        return False


def count_image(image, channels: int) -> ColourCounts:
    """Distinct codes of one uint8 image and their pixel counts.

    Parameters
    ----------
    image : ndarray of shape (H, W) (grey, channels=1) or (H, W, 3) (RGB, channels=3), uint8

    Returns
    -------
    ColourCounts with ``n_images == 1``
    """
    codes, counts = sparse_counts(image, channels)
    return ColourCounts(codes, counts, channels, 1)


def sparse_counts(image, channels: int):
    """The distinct codes of one prepared uint8 image, sorted (uint32), and their counts (int64).

    Counted as :func:`gmm.distinct_pixels` counts (a 2 MiB bitmap of the colours, which stays in
    cache), not in the dense table: a frame's pixels hit that table's 128 MiB at random, about
    15 times slower. The table then takes each frame's few distinct codes, in increasing order.
    """
    from gmm.distinct import _count_rgb, _histogram_grey

    image = np.asarray(image)
    expected = 2 if channels == 1 else 3
    if image.ndim != expected or image.dtype != np.uint8 or (channels == 3 and image.shape[2] != 3):
        kind = "grey (H, W)" if channels == 1 else "RGB (H, W, 3)"
        raise ValueError(f"expected a uint8 {kind} image, got shape {image.shape} and dtype {image.dtype}")
    if channels == 1:
        levels, counts, _ = _histogram_grey(np.ascontiguousarray(image).reshape(-1))
        return levels.astype(np.uint32), counts
    codes, counts, _ = _count_rgb(np.ascontiguousarray(image).reshape(-1, 3))
    return codes.astype(np.uint32, copy=False), counts


def merge_counts(*parts: ColourCounts) -> ColourCounts:
    """Exact sum of colour counts: integer addition per code, independent of order and grouping.

    Parameters
    ----------
    *parts : ColourCounts
        All with the same ``channels``; at least one.

    Returns
    -------
    ColourCounts
        Codes sorted and distinct, counts summed, images and errors added up (errors in order).
    """
    if not parts:
        raise ValueError("merge_counts needs at least one ColourCounts")
    channels = {p.channels for p in parts}
    if len(channels) != 1:
        raise ValueError(f"cannot merge grey and RGB counts (channels {sorted(channels)})")
    channels = channels.pop()
    n_images = sum(p.n_images for p in parts)
    errors = tuple(e for p in parts for e in p.errors)
    total = sum(p.codes.size for p in parts)
    if total > _DENSE_MERGE_ABOVE or channels == 1:
        with DenseAccumulator(channels) as acc:
            for p in parts:
                acc.add(p.codes, p.counts)
            codes, counts = acc.result()
    else:
        codes, counts = _sort_merge([p.codes for p in parts], [p.counts for p in parts])
    return ColourCounts(codes, counts, channels, n_images, errors)


def _sort_merge(code_arrays, count_arrays):
    """Sum counts per code by one sort: codes (sorted, distinct) and int64 totals."""
    codes = np.concatenate(code_arrays)
    counts = np.concatenate(count_arrays).astype(np.int64, copy=False)
    if codes.size == 0:
        return codes.astype(np.uint32), counts
    order = np.argsort(codes, kind="stable")
    codes, counts = codes[order], counts[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return codes[starts].astype(np.uint32), np.add.reduceat(counts, starts)

"""The exact fast path for images: EM on distinct pixel values, weighted by their counts.

Identical pixels have identical responsibilities, so the weighted EM on an image's distinct
values is the same computation as EM on all its pixels (see ``GaussianMixture``'s exact
``sample_weight``). A uint8 RGB photo of 8 million pixels typically has a few hundred thousand
distinct colours, a grey one at most 256 levels.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from gmm._threads import block_parts, run_parts, share_blocks
from gmm._validation import row_keys


@dataclass(frozen=True, init=False)
class DistinctPixels:
    """An image as its distinct values, their counts, and the map back to pixels.

    Attributes
    ----------
    values : ndarray of shape (n_distinct, n_channels)
        Distinct pixel values, in the image's dtype, sorted (lexicographically for uint8).
    counts : ndarray of shape (n_distinct,), int64
        How many pixels hold each value.
    index : ndarray of shape (height, width), int32
        For each pixel, the row of ``values`` it holds. A uint8 grey image keeps its levels and
        builds this on first use: its labels come from the levels through a 256-entry table,
        a quarter of the memory traffic of the index.
    """

    values: np.ndarray
    counts: np.ndarray
    _index: np.ndarray | None = field(repr=False)
    _levels: np.ndarray | None = field(repr=False)  # grey: a copy of the levels (H, W)
    _rank: np.ndarray | None = field(repr=False)  # grey: each level's row (256,)

    def __init__(self, values, counts, index=None, *, levels=None, rank=None):
        """``DistinctPixels(values, counts, index)``; or, for a uint8 grey image, ``levels`` (H, W)
        and ``rank`` (256,) in place of ``index``, which is then built on first use."""
        if index is None and (levels is None or rank is None):
            raise ValueError("DistinctPixels needs the index, or a grey image's levels and their rank table")
        for name, value in (("values", values), ("counts", counts), ("_index", index), ("_levels", levels),
                            ("_rank", rank)):
            object.__setattr__(self, name, value)  # frozen: set once, here

    @property
    def index(self) -> np.ndarray:
        if self._index is None:  # a grey image's, on first use (frozen: set once, through object)
            object.__setattr__(self, "_index", _rank_grey(self._levels, self._rank))
        return self._index

    @property
    def shape(self) -> tuple[int, int]:
        return (self._levels if self._index is None else self._index).shape

    @property
    def n_pixels(self) -> int:
        return int(np.prod(self.shape))

    def expand(self, per_value: np.ndarray) -> np.ndarray:
        """Broadcast a per-distinct-value array (n_distinct, ...) to the pixels (H, W, ...)."""
        per_value = np.asarray(per_value)
        if per_value.shape[0] != self.values.shape[0]:
            raise ValueError(
                f"expected one row per distinct value ({self.values.shape[0]}), got {per_value.shape[0]}"
            )
        kernels = _counting_kernels()
        if kernels is None or per_value.ndim != 1 or per_value.dtype.kind not in "iub":
            return per_value[self.index]
        # labels to pixels: a numba gather on this process's threads (numpy's take runs on one)
        if self._index is None:  # grey: through a table of the 256 levels, from the levels
            return self._expand_grey(per_value, kernels)
        index = self._index.reshape(-1)
        out = np.empty(index.shape[0], dtype=per_value.dtype)
        share_blocks(lambda start, stop: kernels.take(per_value, index, out, start * _TAKE_BLOCK,
                                                      min(stop * _TAKE_BLOCK, index.shape[0])),
                     -(-index.shape[0] // _TAKE_BLOCK))
        return out.reshape(self.shape)

    def _expand_grey(self, per_value, kernels):
        """:meth:`expand` of integer labels from a uint8 grey image's levels, one thread.

        The labels of the 256 levels form a table; an absent level takes the label of the
        present level below it (the first present one's at the bottom), which no pixel sees but
        which keeps the table's steps few. Byte labels with at most :data:`_MAX_STEPS` steps
        are compares (:func:`gmm._counting.expand_steps`: the fox's 427k pixels in about 20 us);
        others, a gather from the table (about 130 us). Either is too short to pay a thread's
        wake-up (20-50 us here).
        """
        below = np.searchsorted(self.values[:, 0], np.arange(256), side="right") - 1
        table = np.ascontiguousarray(per_value[np.maximum(below, 0)])
        levels = self._levels.reshape(-1)
        out = np.empty(levels.shape[0], dtype=per_value.dtype)
        steps = np.flatnonzero(table[1:] != table[:-1]) + 1
        if per_value.dtype in (np.uint8, np.int8) and steps.size <= _MAX_STEPS:
            rises = table[steps] - table[steps - 1]  # modulo 256, as the kernel adds
            kernels.expand_steps(levels, table[0], steps.astype(np.uint8), rises, out, 0, levels.shape[0])
        else:
            kernels.take_levels(table, levels, out, 0, levels.shape[0])
        return out.reshape(self.shape)


def distinct_pixels(image) -> DistinctPixels:
    """Distinct values of an image with counts and the inverse index.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        uint8 grey and uint8 RGB use fast integer paths (a 256-bin histogram; colours packed into
        one 24-bit integer, counted in linear time in a 2 MiB bitmap); any other dtype or channel
        count uses a general row-unique (a sort).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got shape {image.shape}")
    shape = image.shape[:2]
    pixels = image.reshape(shape[0] * shape[1], -1)
    if image.dtype == np.uint8 and pixels.shape[1] == 1:
        levels = np.array(pixels[:, 0])  # a copy: the index may be built later, from these levels
        present, counts, rank = _histogram_grey(levels)
        if _counting_kernels() is None:
            return DistinctPixels(present[:, np.newaxis], counts, rank[levels].reshape(shape))
        return DistinctPixels(present[:, np.newaxis], counts, levels=levels.reshape(shape), rank=rank)
    if image.dtype == np.uint8 and pixels.shape[1] == 3:
        present, counts, index = _count_rgb(pixels)
        return DistinctPixels(_unpack_rgb(present), counts, index.reshape(shape))
    keys = row_keys(pixels)
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    values = uniq.view(pixels.dtype).reshape(-1, pixels.shape[1])  # keys keep the dtype's bytes
    return DistinctPixels(values, counts.astype(np.int64), inverse.reshape(shape).astype(np.int32))


def _histogram_grey(levels):
    """Levels present in uint8 grey pixels (n,), sorted, their counts, and each level's row
    among them (256,) int32."""
    kernels = _counting_kernels()
    if kernels is None:
        counts = np.bincount(levels, minlength=256)
        present = np.flatnonzero(counts)
        rank = np.zeros(256, dtype=np.int32)
        rank[present] = np.arange(present.size, dtype=np.int32)
        return present.astype(np.uint8), counts[present], rank
    levels = np.ascontiguousarray(levels)
    # 0.4 ns a pixel: a thread pays (its wake-up costs 20-50 us) from about 512k pixels each
    parts = _parts(levels.shape[0], _GREY_BLOCKS_PER_THREAD)
    histograms = np.zeros((len(parts), 256), dtype=np.int64)
    run_parts(lambda part, start, stop: kernels.histogram_grey(levels, start, stop, histograms[part]), parts)
    return kernels.present_grey(histograms.sum(axis=0))


def _rank_grey(levels, rank):
    """Each pixel's row among the present levels: ``rank[levels]`` as int32, on threads."""
    kernels = _counting_kernels()
    flat = levels.reshape(-1)
    if kernels is None:
        return rank[levels]
    index = np.empty(flat.shape[0], dtype=np.int32)
    run_parts(lambda part, start, stop: kernels.rank_grey(flat, start, stop, rank, index), _parts(flat.shape[0]))
    return index.reshape(levels.shape)


def _count_rgb(pixels):
    """Distinct colours of (n, 3) uint8 pixels as sorted 24-bit codes ``(r << 16) | (g << 8) | b``,
    their counts and each pixel's index into them.

    Linear time in a 2 MiB bitmap of the 2**24 colours per thread (:mod:`gmm._counting`), allocated
    per call and freed after it; without numba, a sort of the packed codes (``np.unique``).
    """
    kernels = _counting_kernels()
    if kernels is None:
        present, index, counts = np.unique(_pack_rgb(pixels), return_inverse=True, return_counts=True)
        return present.astype(np.uint32), counts.astype(np.int64), index.astype(np.int32).ravel()
    pixels = np.ascontiguousarray(pixels)
    n = pixels.shape[0]
    parts = _parts(n)
    with _bitmaps(len(parts)) as (bitmaps, summaries, before):
        run_parts(lambda part, start, stop: kernels.mark_rgb(pixels, start, stop, bitmaps[part], summaries[part]),
                  parts)
        present = kernels.present_rgb(bitmaps, summaries, before)
        words = bitmaps[0]
        index = np.empty(n, dtype=np.int32)
        counts = np.zeros((len(parts), present.shape[0]), dtype=np.int64)
        run_parts(lambda part, start, stop: kernels.rank_rgb(pixels, start, stop, words, before, index, counts[part]),
                  parts)
        kernels.clear_rgb(bitmaps, summaries)
    return present, counts.sum(axis=0), index


@contextmanager
def _bitmaps(n_parts):
    """Zeroed bitmaps (n_parts, 2**18) and summaries (n_parts, 2**12) of :func:`_count_rgb`, and
    its ``before`` table (2**18,) int32, lent for one count.

    Kept between counts (2.3 MiB a thread) and zeroed by :func:`gmm._counting.clear_rgb` after
    use: fresh ones cost about 800 page faults (the fox: about 1.5 ms of a 4 ms count). A count
    that finds them lent (another thread's) or too few gets its own, which it then keeps
    if none are kept.
    """
    with _BITMAPS_LOCK:
        kept = _BITMAPS.pop() if _BITMAPS and _BITMAPS[-1][0].shape[0] >= n_parts else None
    if kept is None:
        kept = (np.zeros((n_parts, 1 << 18), dtype=np.uint64), np.zeros((n_parts, 1 << 12), dtype=np.uint64),
                np.empty(1 << 18, dtype=np.int32))
    bitmaps, summaries, before = kept
    yield bitmaps[:n_parts], summaries[:n_parts], before  # rows beyond n_parts stay zero
    with _BITMAPS_LOCK:
        if not _BITMAPS:
            _BITMAPS.append(kept)


def _parts(n, min_blocks_per_thread=16):
    """Contiguous pixel ranges, one per thread to use: ``min_blocks_per_thread`` blocks of 4096
    pixels or more each (64k pixels: 50-100 us of counting colours)."""
    blocks = block_parts(-(-n // _COUNT_BLOCK), min_blocks_per_thread)
    return [(start * _COUNT_BLOCK, min(stop * _COUNT_BLOCK, n)) for start, stop in blocks]


_COUNTER = {}
_BITMAPS, _BITMAPS_LOCK = [], threading.Lock()  # one set of _count_rgb's bitmaps, kept between counts
_TAKE_BLOCK = 1 << 12  # pixels per block of the label gather (16 blocks or more per thread)
_MAX_STEPS = 16  # grey labels as compares up to this many steps (then about 100 us, the gather's time)
_COUNT_BLOCK = 1 << 12  # pixels per block of the colour count (16 blocks or more per thread)
_GREY_BLOCKS_PER_THREAD = 128  # the grey histogram's: 512k pixels or more per thread


def _counting_kernels():
    """The module :mod:`gmm._counting`, or None without numba (or with ``USE_NUMBA = False``)."""
    from gmm import _kernels

    if not _kernels.USE_NUMBA:
        return None
    if "kernels" not in _COUNTER:
        try:
            from gmm import _counting
        except ImportError:
            _counting = None
        _COUNTER["kernels"] = _counting
    return _COUNTER["kernels"]


def _pack_rgb(pixels):
    """``(r << 16) | (g << 8) | b`` as uint32, built in place: one array of 4 bytes per pixel."""
    codes = pixels[:, 0].astype(np.uint32)
    codes <<= 8
    codes |= pixels[:, 1]
    codes <<= 8
    codes |= pixels[:, 2]
    return codes


def _unpack_rgb(codes):
    codes = np.asarray(codes, dtype=np.uint32)
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)


@dataclass
class ImageFit:
    """A mixture fitted to an image through its distinct values.

    Attributes
    ----------
    model : gmm.GaussianMixture
        Fitted with the distinct values' features and counts as sample weights.
    pixels : DistinctPixels
    features : ndarray of shape (n_distinct, n_features)
        The features of each distinct value (after ``transform``).
    labels : ndarray of shape (H, W), int
        Most probable component per pixel.
    """

    model: object
    pixels: DistinctPixels
    features: np.ndarray
    labels: np.ndarray

    def responsibilities(self, dtype=np.float32) -> np.ndarray:
        """Per-pixel responsibilities, shape (H, W, K), built on demand."""
        return self.pixels.expand(self.model.predict_proba(self.features).astype(dtype))


def fit_image(image, n_components, *, transform=None, pixels=None, dtype=np.float64, **gmm_params) -> ImageFit:
    """Fit a Gaussian mixture to an image's pixel values on the exact distinct-value path.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Pixel values; features are the values themselves (as ``dtype``) unless ``transform``.
    n_components : int
    transform : callable, optional
        Maps the distinct values (n_distinct, C) to features (n_distinct, d), e.g. a colour-space
        conversion. It must be a per-pixel function, so identical pixels stay identical.
    pixels : DistinctPixels, optional
        Reuse a precomputed :func:`distinct_pixels` of ``image``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the features. EM runs in float64 either way (statistics and densities), so
        float32 changes results only by the rounding of the features and of the stored parameters
        (about 1e-7 relative); the fitted attributes and ``responsibilities`` follow ``dtype``.
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``random_state``, ``init_params``, ``tol``, ...).

    Returns
    -------
    ImageFit
    """
    from gmm.mixture import GaussianMixture

    pixels = distinct_pixels(image) if pixels is None else pixels
    values = pixels.values if transform is None else transform(pixels.values)
    features = np.asarray(values, dtype=dtype)
    if features.ndim == 1:
        features = features[:, np.newaxis]
    if features.shape[0] < n_components:
        raise ValueError(
            f"the image has {features.shape[0]} distinct value(s), fewer than n_components={n_components}"
        )
    model = GaussianMixture(n_components, **gmm_params)
    distinct_labels = model.fit_predict(features, sample_weight=pixels.counts)
    labels = pixels.expand(distinct_labels.astype(np.min_scalar_type(max(n_components - 1, 0))))
    return ImageFit(model=model, pixels=pixels, features=features, labels=labels)

"""The exact fast path for images: EM on distinct pixel values, weighted by their counts.

Identical pixels have identical responsibilities, so the weighted EM on an image's distinct
values is the same computation as EM on all its pixels (see ``GaussianMixture``'s exact
``sample_weight``). A uint8 RGB photo of 8 million pixels typically has a few hundred thousand
distinct colours, a grey one at most 256 levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm._threads import block_parts, run_parts, share_blocks
from gmm._validation import row_keys


@dataclass(frozen=True)
class DistinctPixels:
    """An image as its distinct values, their counts, and the map back to pixels.

    Attributes
    ----------
    values : ndarray of shape (n_distinct, n_channels)
        Distinct pixel values, in the image's dtype, sorted (lexicographically for uint8).
    counts : ndarray of shape (n_distinct,), int64
        How many pixels hold each value.
    index : ndarray of shape (height, width), int32
        For each pixel, the row of ``values`` it holds.
    """

    values: np.ndarray
    counts: np.ndarray
    index: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.index.shape

    @property
    def n_pixels(self) -> int:
        return int(self.index.size)

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
        index = self.index.reshape(-1)
        out = np.empty(index.shape[0], dtype=per_value.dtype)
        share_blocks(lambda start, stop: kernels.take(per_value, index, out, start * _TAKE_BLOCK,
                                                      min(stop * _TAKE_BLOCK, index.shape[0])),
                     -(-index.shape[0] // _TAKE_BLOCK))
        return out.reshape(self.index.shape)


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
        present, counts, index = _count_grey(pixels[:, 0])
        return DistinctPixels(present[:, np.newaxis], counts, index.reshape(shape))
    if image.dtype == np.uint8 and pixels.shape[1] == 3:
        present, counts, index = _count_rgb(pixels)
        return DistinctPixels(_unpack_rgb(present), counts, index.reshape(shape))
    keys = row_keys(pixels)
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    values = uniq.view(pixels.dtype).reshape(-1, pixels.shape[1])  # keys keep the dtype's bytes
    return DistinctPixels(values, counts.astype(np.int64), inverse.reshape(shape).astype(np.int32))


def _count_grey(levels):
    """Levels present in uint8 grey pixels (n,), sorted, their counts and each pixel's index."""
    kernels = _counting_kernels()
    if kernels is None:
        counts = np.bincount(levels, minlength=256)
        present = np.flatnonzero(counts)
        lut = np.zeros(256, dtype=np.int32)
        lut[present] = np.arange(present.size, dtype=np.int32)
        return present.astype(np.uint8), counts[present], lut[levels]
    index = np.empty(levels.shape[0], dtype=np.int32)
    present, counts = kernels.count_grey(np.ascontiguousarray(levels), index)
    return present, counts, index


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
    parts = [(start * _COUNT_BLOCK, min(stop * _COUNT_BLOCK, n))
             for start, stop in block_parts(-(-n // _COUNT_BLOCK))]
    bitmaps = np.zeros((len(parts), 1 << 18), dtype=np.uint64)  # one bit per colour, per thread
    run_parts(lambda part, start, stop: kernels.mark_rgb(pixels, start, stop, bitmaps[part]), parts)
    before, present = kernels.present_rgb(bitmaps)
    words = bitmaps[0]
    index = np.empty(n, dtype=np.int32)
    counts = np.zeros((len(parts), present.shape[0]), dtype=np.int64)
    run_parts(lambda part, start, stop: kernels.rank_rgb(pixels, start, stop, words, before, index, counts[part]),
              parts)
    return present, counts.sum(axis=0), index


_COUNTER = {}
_TAKE_BLOCK = 1 << 16  # pixels per block of the label gather
_COUNT_BLOCK = 1 << 12  # pixels per block of the colour count (16 blocks or more per thread)


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

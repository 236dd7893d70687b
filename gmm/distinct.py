"""The exact fast path for images: EM on distinct pixel values, weighted by their counts.

Identical pixels have identical responsibilities, so the weighted EM on an image's distinct
values is the same computation as EM on all its pixels (see ``GaussianMixture``'s exact
``sample_weight``). A uint8 RGB photo of 8 million pixels typically has a few hundred thousand
distinct colours, a grey one at most 256 levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import threading

import numpy as np

from gmm._validation import row_keys

_RGB_CODES = 1 << 24


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
        return per_value[self.index]


def distinct_pixels(image) -> DistinctPixels:
    """Distinct values of an image with counts and the inverse index.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        uint8 grey and uint8 RGB use fast integer paths (a 256-bin histogram; colours packed into
        one 24-bit integer, counted in linear time); any other dtype or channel count uses a general
        row-unique (a sort).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got shape {image.shape}")
    shape = image.shape[:2]
    pixels = image.reshape(shape[0] * shape[1], -1)
    if image.dtype == np.uint8 and pixels.shape[1] == 1:
        counts = np.bincount(pixels[:, 0], minlength=256)
        present = np.flatnonzero(counts)
        lut = np.zeros(256, dtype=np.int32)
        lut[present] = np.arange(present.size, dtype=np.int32)
        index = lut[pixels[:, 0]]
        return DistinctPixels(present.astype(np.uint8)[:, np.newaxis], counts[present], index.reshape(shape))
    if image.dtype == np.uint8 and pixels.shape[1] == 3:
        present, counts, index = _count_rgb(_pack_rgb(pixels))
        return DistinctPixels(_unpack_rgb(present), counts, index.reshape(shape))
    keys = row_keys(pixels)
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    values = uniq.view(pixels.dtype).reshape(-1, pixels.shape[1])  # keys keep the dtype's bytes
    return DistinctPixels(values, counts.astype(np.int64), inverse.reshape(shape).astype(np.int32))


class _RGBTables:
    """Scratch tables over all 2**24 colours (16 MiB of flags, 64 MiB of indices), kept between
    calls: touching a fresh 64 MiB table page by page costs more than the counting itself."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = None
        self.lut = None

    def get(self):
        if self.seen is None:
            self.seen = np.zeros(_RGB_CODES, dtype=np.bool_)
            self.lut = np.empty(_RGB_CODES, dtype=np.int32)
        return self.seen, self.lut


_TABLES = _RGBTables()


def _count_rgb(codes):
    """Distinct 24-bit codes (sorted), their counts and each pixel's index into them.

    Linear time, no sort: mark the codes seen in a flag table, list the marked ones in order,
    number them through a lookup table, and count by index.
    """
    with _TABLES.lock:
        seen, lut = _TABLES.get()
        seen[codes] = True
        present = np.flatnonzero(seen)
        seen[present] = False  # leave the table clean for the next call
        lut[present] = np.arange(present.size, dtype=np.int32)
        index = lut[codes]
    counts = np.bincount(index, minlength=present.size).astype(np.int64)
    return present.astype(np.uint32), counts, index


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


def fit_image(image, n_components, *, transform=None, pixels=None, **gmm_params) -> ImageFit:
    """Fit a Gaussian mixture to an image's pixel values on the exact distinct-value path.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Pixel values; features are the values themselves (as float64) unless ``transform``.
    n_components : int
    transform : callable, optional
        Maps the distinct values (n_distinct, C) to features (n_distinct, d), e.g. a colour-space
        conversion. It must be a per-pixel function, so identical pixels stay identical.
    pixels : DistinctPixels, optional
        Reuse a precomputed :func:`distinct_pixels` of ``image``.
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``random_state``, ``init_params``, ``tol``, ...).

    Returns
    -------
    ImageFit
    """
    from gmm.mixture import GaussianMixture

    pixels = distinct_pixels(image) if pixels is None else pixels
    features = pixels.values.astype(np.float64) if transform is None else np.asarray(transform(pixels.values), dtype=np.float64)
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

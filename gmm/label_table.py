"""Labels of pixel values under a fixed model, looked up in a table over every possible value.

The predict-only path of :class:`gmm.video.VideoSegmenter` (``mode='fixed'``, ``lookup='table'``):
each colour is named by one integer (:func:`colour_codes`), and its label is computed the first
time the colour is seen (:class:`LabelTable`).
"""

from __future__ import annotations

import numpy as np

from gmm.image import to_features


def colour_codes(frame) -> np.ndarray:
    """One integer per pixel naming its value: ``(r << 16) | (g << 8) | b``, or the grey level.

    Returns
    -------
    ndarray of shape (H * W,), uint32
    """
    pixels = frame.reshape(-1, frame.shape[2]) if frame.ndim == 3 else frame.reshape(-1, 1)
    codes = pixels[:, 0].astype(np.uint32)
    for channel in range(1, pixels.shape[1]):  # in place: one 4-byte array per pixel
        codes <<= 8
        codes |= pixels[:, channel]
    return codes


def _code_values(codes, n_channels) -> np.ndarray:
    """The uint8 pixel values (m, C) of colour codes (the inverse of :func:`colour_codes`)."""
    shifts = np.arange(n_channels - 1, -1, -1, dtype=np.uint32) * 8
    return ((codes[:, np.newaxis] >> shifts) & 255).astype(np.uint8)


class LabelTable:
    """Labels of pixel values under a fixed model, each computed the first time it is seen.

    A table over every possible value (2**24 colours: 16 MiB for up to 254 components) holds
    the label of each colour once predicted; a frame then costs one look-up per pixel plus a
    prediction for the colours never seen before, which in a video are few after the first frame.

    Parameters
    ----------
    model : fitted gmm.GaussianMixture
    color_space : str
    n_channels : {1, 3}
        Grey or RGB frames.
    """

    def __init__(self, model, color_space, n_channels):
        n_components = model.means_.shape[0]
        dtype = np.uint8 if n_components < 255 else np.uint16 if n_components < 65535 else np.uint32
        self.unknown = np.iinfo(dtype).max  # no label can take this value
        self.table = np.full(1 << (8 * n_channels), self.unknown, dtype=dtype)
        self.model, self.color_space, self.n_channels = model, color_space, n_channels

    def labels(self, frame) -> np.ndarray:
        """Labels of a uint8 frame, shape (H, W)."""
        codes = colour_codes(frame)
        labels = self.table[codes]
        missing = labels == self.unknown
        if missing.any():
            new = np.unique(codes[missing])
            values = _code_values(new, self.n_channels)
            self.table[new] = self.model.predict(to_features(values, self.color_space))
            labels[missing] = self.table[codes[missing]]
        return labels.reshape(frame.shape[:2])

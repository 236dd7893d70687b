"""Per-pixel labels from a fitted model, with each colour's label computed once per worker.

A label is ``model.predict`` of the pixel's colour features, as :func:`gmm.segment` computes it
for the distinct colours of one image. Across a collection most colours recur from frame to
frame, so each worker process keeps a table of the labels of the colours it has seen (2**24
entries for RGB, 256 for grey) and predicts only the new ones: the first frames cost a
prediction per distinct colour, later ones little more than one table look-up per pixel.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from gmm.image import n_color_features, to_features
from gmm.scale.counts import GREY_CODES, RGB_CODES, pack, unpack

#: Tables kept per process; a new labelling run evicts the oldest (an RGB table is 16 MB, 64 MB for K > 255).
_KEEP = 2
_UNKNOWN = {np.uint8: np.iinfo(np.uint8).max, np.int32: np.iinfo(np.int32).max}
_LOCK = threading.Lock()
_TABLES: OrderedDict = OrderedDict()


def labels_dtype(n_components: int):
    """The dtype of label maps, as :func:`gmm.segment` makes them."""
    return np.uint8 if n_components <= 256 else np.int32


@dataclass(frozen=True, eq=False)
class Labeller:
    """A fitted model, the colour space of its features, and the name of its label tables.

    Attributes
    ----------
    model : fitted gmm.GaussianMixture
    color_space : str
        Of the model's features ('grey': images are grey levels; else RGB).
    uid : str
        Names this model's table in each worker (a fresh one per labelling run).
    """

    model: object
    color_space: str
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def channels(self) -> int:
        return n_color_features(self.color_space)

    def predict_codes(self, codes) -> np.ndarray:
        """Labels of colour codes (m,): shape (m,), int64."""
        return self.model.predict(to_features(unpack(codes, self.channels), self.color_space))

    def __call__(self, image) -> np.ndarray:
        """Label map of a prepared uint8 image (grey (H, W) or RGB (H, W, 3)): shape (H, W)."""
        codes = pack(image, self.channels)
        with _LOCK:  # threads of one worker share the table; predictions are filled in under the lock
            table = self._table()
            labels = table[codes]
            unknown = labels == _UNKNOWN[table.dtype.type]
            if unknown.any():
                missing = codes[unknown]
                new = np.unique(missing)
                table[new] = self.predict_codes(new)
                labels[unknown] = table[missing]
        return labels.astype(labels_dtype(self.model.n_components), copy=False)

    def _table(self) -> np.ndarray:
        """This model's table in this process: code -> label, or the dtype's maximum while unknown."""
        if self.uid not in _TABLES:
            while len(_TABLES) >= _KEEP:
                _TABLES.popitem(last=False)
            size = GREY_CODES if self.channels == 1 else RGB_CODES
            # uint8 only while 255 is not a label; K <= 65,536 never reaches the int32 maximum.
            dtype = np.uint8 if self.model.n_components < 256 else np.int32
            _TABLES[self.uid] = np.full(size, _UNKNOWN[dtype], dtype=dtype)
        return _TABLES[self.uid]

"""Segmenting video: one label map per frame, with labels that mean the same in every frame.

Three ways to run a Gaussian mixture over a stream of frames (``mode``):

- ``"fixed"``: fit once, on the first frame (or on the merged distinct colours of the first
  ``fit_frames`` frames), then only predict. Labels are consistent by construction. For uint8
  frames the label of each colour is computed the first time the colour is seen and kept in
  a table over all 2**24 colours (``lookup="table"``), so a frame costs one table look-up per
  pixel; ``lookup="distinct"`` predicts the frame's distinct colours instead (the same labels).
- ``"warm"``: EM on every frame, started from the previous frame's optimum (its weights, means
  and precisions as ``*_init``). EM never renumbers components, so component ``k`` keeps its
  identity from frame to frame; the first frame's components are put in
  :func:`gmm.labels.canonical_order`.
- ``"independent"``: EM from scratch on every frame, each put in canonical order
  (``align="canonical"``) or matched to the previous frame's labels by maximum overlap
  (``align="previous"``, :func:`gmm.labels.label_permutation`).

Every fit runs on the frame's distinct colours weighted by their counts (:func:`gmm.fit_image`),
which is exact. Frames are taken one at a time from any iterable, so a clip never has to be in
memory. :func:`label_flicker` and :class:`ClipScores` measure consistency and accuracy.
"""

from __future__ import annotations

import numbers
from functools import partial

import numpy as np

from gmm.distinct import distinct_pixels, fit_image
from gmm.image import check_color_space, to_features
from gmm.labels import canonical_order, inverse_permutation, label_permutation, relabel_model

MODES = ("warm", "fixed", "independent")
ALIGNS = ("canonical", "previous")
LOOKUPS = ("table", "distinct")
_RESERVED = ("n_components", "warm_start")


# ------------------------------------------------------------------------------ input checks
def check_frame(frame, index: int, shape=None, color_space: str = "rgb") -> np.ndarray:
    """Frame ``index`` as a uint8 array of shape (H, W, 3), or (H, W) for 'grey' only.

    ``shape``: the (H, W) of the first frame, which every later frame must share.
    """
    frame = np.asarray(frame)
    grey_ok = color_space == "grey"
    good = frame.ndim == 3 and frame.shape[2] == 3 or frame.ndim == 2 and grey_ok
    if frame.dtype != np.uint8 or not good or frame.size == 0:
        wanted = "(H, W, 3)" + (" or (H, W)" if grey_ok else "")
        raise ValueError(f"frame {index} must be a non-empty uint8 array of shape {wanted}, "
                         f"got dtype {frame.dtype} and shape {frame.shape}")
    if shape is not None and frame.shape[:2] != tuple(shape):
        raise ValueError(f"frame {index} is {frame.shape[0]}x{frame.shape[1]} (HxW) but the clip's "
                         f"first frame is {shape[0]}x{shape[1]}: all frames must have one size")
    return frame


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


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


# --------------------------------------------------------------------------------- segmenter
class VideoSegmenter:
    """Label the frames of a video one at a time, with consistent component numbering.

    Parameters
    ----------
    n_components : int
    mode : {'warm', 'fixed', 'independent'}, default='warm'
        See the module docstring.
    color_space : {'rgb', 'grey', 'lab', 'hsv'}, default='rgb'
    random_state : int, default=0
        Seeds the k-means start of every fit from scratch; same seed, same labels bit for bit.
    fit_frames : int, default=1
        'fixed' only: number of first frames whose merged distinct colours the model is fitted on.
    align : {'canonical', 'previous'}, default='canonical'
        'independent' only: how each frame's components are numbered.
    lookup : {'table', 'distinct'}, default='table'
        'fixed' only: how a frame is labelled (the same labels either way).
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` (``covariance_type``, ``tol``, ``max_iter``, ...).

    Attributes
    ----------
    model_ : gmm.GaussianMixture
        The model that labelled the last frame (components in the output's numbering).
    n_iter_ : int
        EM iterations of the last :meth:`fit` or :meth:`update` (0 for a frame only predicted).
    n_frames_ : int
        Frames labelled so far.
    frame_shape_ : tuple of int
        (H, W) of the clip.
    """

    def __init__(self, n_components, *, mode="warm", color_space="rgb", random_state=0, fit_frames=1,
                 align="canonical", lookup="table", **gmm_params):
        if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral) or n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
        if isinstance(fit_frames, bool) or not isinstance(fit_frames, numbers.Integral) or fit_frames < 1:
            raise ValueError(f"fit_frames must be a positive integer, got {fit_frames!r}")
        clash = sorted(set(_RESERVED) & set(gmm_params))
        if clash:
            raise ValueError(f"{clash} are set by the video segmenter (n_components is its own argument; "
                             "mode='warm' starts each frame's EM from the previous frame's optimum)")
        self.n_components, self.fit_frames = int(n_components), int(fit_frames)
        self.mode = _check_choice("mode", mode, MODES)
        self.align = _check_choice("align", align, ALIGNS)
        self.lookup = _check_choice("lookup", lookup, LOOKUPS)
        self.color_space = check_color_space(color_space)
        self.random_state, self.gmm_params = random_state, gmm_params
        self.model_, self.n_iter_, self.n_frames_, self.frame_shape_ = None, 0, 0, None
        self._labels, self._table = None, None

    def _check(self, frame, index=None):
        index = self.n_frames_ if index is None else index
        frame = check_frame(frame, index, self.frame_shape_, self.color_space)
        self.frame_shape_ = frame.shape[:2]
        return frame

    def _fit(self, image, **init):
        """EM on the distinct colours of ``image``: the fitted model and its (H, W) labels."""
        params = dict(self.gmm_params, random_state=self.random_state, **init)
        fit = fit_image(image, self.n_components, transform=partial(to_features, color_space=self.color_space),
                        **params)
        self.n_iter_ = int(fit.model.n_iter_)
        return fit.model, fit.labels

    def _canonical(self, model, labels):
        order = canonical_order(model, self.color_space)
        return relabel_model(model, order, copy=False), inverse_permutation(order)[labels]

    def fit(self, frames):
        """Fit the starting model on the merged distinct colours of ``frames`` (a list of frames).

        Components are put in canonical order. Called by :meth:`update` on the first frame
        when no model was fitted; 'fixed' mode then only predicts.
        """
        frames = list(frames)
        if not frames:
            raise ValueError("fit needs at least one frame")
        frames = [self._check(frame, self.n_frames_ + i) for i, frame in enumerate(frames)]
        stacked = np.concatenate(frames, axis=0)  # one tall image: merged counts
        model, labels = self._canonical(*self._fit(stacked))
        self.model_, self._table = model, None
        self._labels = labels[-self.frame_shape_[0]:]
        return self

    def update(self, frame) -> np.ndarray:
        """Label the next frame: shape (H, W), uint8 when n_components <= 256 else int32."""
        frame = self._check(frame)
        if self.model_ is None:
            self.fit([frame])
            labels = self._predict(frame) if self.mode == "fixed" else self._labels
        elif self.mode == "fixed":
            self.n_iter_ = 0
            labels = self._predict(frame)
        elif self.mode == "warm":
            previous = self.model_
            # A fresh fit from explicit initial parameters, not ``warm_start``: its convergence test
            # then compares two iterations on this frame, never this frame with the previous one.
            init = dict(weights_init=previous.weights_, means_init=previous.means_,
                        precisions_init=previous.precisions_, n_init=1)
            self.model_, labels = self._fit(frame, **init)
        else:
            labels = self._independent(frame)
        self._labels, self.n_frames_ = labels, self.n_frames_ + 1
        return labels.astype(np.uint8 if self.n_components <= 256 else np.int32, copy=False)

    def _independent(self, frame):
        model, labels = self._canonical(*self._fit(frame))
        if self.align == "previous":
            order = inverse_permutation(label_permutation(self._labels, labels, self.n_components))
            model, labels = relabel_model(model, order, copy=False), inverse_permutation(order)[labels]
        self.model_ = model
        return labels

    def _predict(self, frame):
        """Labels of a frame under the fixed model (no EM)."""
        if self.lookup == "distinct":
            pixels = distinct_pixels(frame)
            return pixels.expand(self.model_.predict(to_features(pixels.values, self.color_space)))
        if self._table is None:
            self._table = LabelTable(self.model_, self.color_space, frame.shape[2] if frame.ndim == 3 else 1)
        return self._table.labels(frame)


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


def segment_video(frames, n_components, *, mode="warm", color_space="rgb", random_state=0, fit_frames=1,
                  align="canonical", lookup="table", **gmm_params):
    """Label maps of the frames of a video, with the same numbering of components in every frame.

    Parameters
    ----------
    frames : iterable of ndarray of shape (H, W, 3), uint8 (or (H, W) for 'grey')
        Read one at a time (a generator, a list, ``imageio.imiter(path)``); all of one size.
    n_components, mode, color_space, random_state, fit_frames, align, lookup, **gmm_params
        See :class:`VideoSegmenter`.

    Yields
    ------
    labels : ndarray of shape (H, W), uint8 when n_components <= 256 else int32
        One per frame, in order. Arguments are checked when this is called; a bad frame, frames
        of different sizes or an empty ``frames`` raise ``ValueError`` while iterating.
    """
    segmenter = VideoSegmenter(n_components, mode=mode, color_space=color_space, random_state=random_state,
                               fit_frames=fit_frames, align=align, lookup=lookup, **gmm_params)
    try:
        iterator = iter(frames)
    except TypeError:
        raise ValueError(f"frames must be an iterable of frames, got {type(frames).__name__}") from None
    if isinstance(frames, np.ndarray) and frames.ndim < 3:
        raise ValueError(f"frames must be an iterable of frames (T, H, W, 3), got an array of shape {frames.shape}")
    return _labels_of(segmenter, iterator)


def _labels_of(segmenter, iterator):
    """The generator behind :func:`segment_video`."""
    first = []
    if segmenter.mode == "fixed" and segmenter.fit_frames > 1:
        for frame in iterator:  # buffered: the model must be fitted before any frame is labelled
            first.append(frame)
            if len(first) == segmenter.fit_frames:
                break
        if first:
            segmenter.fit(first)
    for frame in first:
        yield segmenter.update(frame)
    for frame in iterator:
        yield segmenter.update(frame)
    if segmenter.n_frames_ == 0:
        raise ValueError("frames is empty: a video needs at least one frame")


# ------------------------------------------------------------------------------------ scores
def label_flicker(previous, labels, previous_truth=None, truth=None) -> float:
    """Fraction of pixels whose label changes from one frame to the next where the truth does not.

    Parameters
    ----------
    previous, labels : ndarray of shape (H, W), int
        Label maps of two consecutive frames.
    previous_truth, truth : ndarray of shape (H, W), int, optional
        Their ground truth; without it every pixel counts.

    Returns
    -------
    float in [0, 1]; NaN when the truth changes at every pixel.
    """
    previous, labels = np.asarray(previous), np.asarray(labels)
    if previous.shape != labels.shape:
        raise ValueError(f"label maps of different shapes: {previous.shape} and {labels.shape}")
    changed = previous != labels
    if previous_truth is None and truth is None:
        return float(changed.mean())
    steady = np.asarray(previous_truth) == np.asarray(truth)
    if steady.shape != changed.shape:
        raise ValueError(f"truth maps must have the labels' shape {changed.shape}, got {steady.shape}")
    n_steady = int(np.count_nonzero(steady))
    return float(np.count_nonzero(changed & steady) / n_steady) if n_steady else float("nan")


class ClipScores:
    """Scores of a clip's label maps against its truth, added frame by frame.

    Per frame: accuracy after that frame's own best matching of labels to classes
    (:func:`gmm.metrics.matched_accuracy`, blind to renumbering between frames), the adjusted
    Rand index and the flicker (:func:`label_flicker`, from the second frame on). For the clip:
    the accuracy under one matching for all frames (from the summed contingency tables), which
    a label that changes meaning between frames pays for.

    Parameters
    ----------
    n_truth, n_labels : int
        Numbers of classes and of components.
    """

    def __init__(self, n_truth, n_labels):
        self.n_truth, self.n_labels = int(n_truth), int(n_labels)
        self.table = np.zeros((self.n_truth, self.n_labels), dtype=np.int64)
        self.accuracy, self.ari, self.flicker = [], [], []
        self._previous = None

    def add(self, truth, labels) -> None:
        """Score one more frame (truth and labels of shape (H, W))."""
        from scipy.optimize import linear_sum_assignment

        from gmm.metrics import adjusted_rand_index, contingency_table

        table = contingency_table(truth, labels, self.n_truth, self.n_labels)
        rows, cols = linear_sum_assignment(table, maximize=True)
        self.accuracy.append(float(table[rows, cols].sum() / table.sum()))
        self.ari.append(adjusted_rand_index(truth, labels))
        if self._previous is not None:
            self.flicker.append(label_flicker(self._previous[1], labels, self._previous[0], truth))
        self.table += table
        self._previous = (np.asarray(truth), np.asarray(labels))

    @property
    def clip_accuracy(self) -> float:
        """Accuracy of all frames under one matching of labels to classes (:meth:`class_of_label`)."""
        mapping = self.class_of_label()
        matched = np.flatnonzero(mapping < self.n_truth)
        return float(self.table[mapping[matched], matched].sum() / max(self.table.sum(), 1))

    def class_of_label(self) -> np.ndarray:
        """The clip's one matching: ``mapping[label]`` is a class, or ``n_truth + i`` if unmatched.

        Returns
        -------
        ndarray of shape (n_labels,), int: ``mapping[labels]`` draws labels in class colours.
        """
        from scipy.optimize import linear_sum_assignment

        classes, labels = linear_sum_assignment(self.table, maximize=True)
        mapping = np.full(self.n_labels, -1, dtype=np.intp)
        mapping[labels] = classes
        unmatched = np.flatnonzero(mapping < 0)
        mapping[unmatched] = self.n_truth + np.arange(unmatched.size)
        return mapping

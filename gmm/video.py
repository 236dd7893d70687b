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
from gmm.label_table import LabelTable, colour_codes
from gmm.labels import canonical_order, inverse_permutation, label_permutation, relabel_model
from gmm.video_scores import ClipScores, label_flicker

# The table and the scores live in their own modules; they are imported from here too, where
# notebook 09, the tests and the benchmark find them.
__all__ = ["ALIGNS", "LOOKUPS", "MODES", "ClipScores", "LabelTable", "VideoSegmenter", "check_frame", "colour_codes",
           "label_flicker", "segment_video"]

MODES = ("warm", "fixed", "independent")
ALIGNS = ("canonical", "previous")
LOOKUPS = ("table", "distinct")
_RESERVED = ("n_components", "warm_start")


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

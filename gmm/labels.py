"""Label switching: a canonical order of components, and matching labels between runs.

The mixture likelihood is invariant under permutations of the components, so two EM runs that
reach the same optimum may number the components differently: the paper's "reruns flip the
colouring" problem. Two remedies:

- :func:`canonical_order` / :func:`relabel_model` number the components of one model by a rule
  that depends on the fitted parameters only (mean luminance, ascending), so every run that
  reaches the same optimum gets the same numbering, with no reference needed.
- :func:`label_permutation` / :func:`align_labels` map one label image onto a reference (another
  run, the previous video frame, or ground truth) by maximum overlap (Hungarian matching).
"""

from __future__ import annotations

import copy as _copy

import numpy as np
from scipy.optimize import linear_sum_assignment

from gmm.image import LUMA_WEIGHTS, check_color_space, features_to_rgb, n_color_features

_PERMUTED_ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")
#: Per-component attributes of other mixtures (gmm.StudentTMixture), permuted when present.
_OPTIONAL_PERMUTED = ("degrees_of_freedom_",)


# ---------------------------------------------------------------------- canonical order
def canonical_order(means, color_space: str = "rgb", weights=None) -> np.ndarray:
    """Order of components by the luminance of their mean colour, ascending.

    Ties (equal luminance) are broken by the mean's RGB coordinates, then by any further
    feature columns (e.g. spatial coordinates), lexicographically, then by the weight; a
    complete tie keeps the original order. The rule depends only on the parameters, so it is
    the same for every run that reaches the same optimum.

    Parameters
    ----------
    means : fitted GaussianMixture, or ndarray of shape (K, d)
        A fitted model (its ``means_`` and ``weights_`` are used) or component means in the
        feature space of ``color_space`` (see :func:`gmm.image.to_features`): the first 1 (grey)
        or 3 columns are the colour, the rest are extra features. For 'rgb' and 'grey', means
        on any positive scale (e.g. 0-255 mean colours) give the same order.
    color_space : {'rgb', 'grey', 'lab', 'hsv'}, default='rgb'
    weights : ndarray of shape (K,), optional
        The last tie-break; taken from the model when ``means`` is one.

    Returns
    -------
    order : ndarray of shape (K,), int
        ``order[i]`` is the old index of the component that becomes component ``i``.
    """
    if hasattr(means, "means_"):
        means, weights = means.means_, means.weights_ if weights is None else weights
    means = np.asarray(means, dtype=np.float64)
    if means.ndim == 1:
        means = means[:, np.newaxis]
    n_colour = n_color_features(check_color_space(color_space))
    if means.ndim != 2 or means.shape[1] < n_colour or not np.all(np.isfinite(means)):
        raise ValueError(f"means must be finite with shape (K, >={n_colour}), got {means.shape}")
    rgb = features_to_rgb(means[:, :n_colour], color_space) if color_space != "rgb" else means[:, :3]
    weights = np.zeros(means.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != (means.shape[0],):
        raise ValueError(f"weights must have shape ({means.shape[0]},), got {weights.shape}")
    keys = [rgb @ LUMA_WEIGHTS, *rgb.T, *means[:, n_colour:].T, weights]
    # np.lexsort sorts by its last key first, and is stable.
    return np.lexsort(keys[::-1])


def inverse_permutation(order) -> np.ndarray:
    """``inverse[order[i]] = i``: maps old component indices to new ones."""
    order = check_permutation(order)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return inverse


def check_permutation(order, n: int | None = None) -> np.ndarray:
    """Validate that ``order`` is a permutation of ``range(n)``; return it as an int array."""
    order = np.asarray(order)
    n = order.size if n is None else n
    valid = order.ndim == 1 and order.size == n and order.dtype.kind in "iu"
    if not valid or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"order must be a permutation of range({n}), got {order!r}")
    return order.astype(np.intp)


def relabel_model(model, order, *, copy=True):
    """A fitted mixture with its components permuted (a copy, or ``model`` itself in place).

    Parameters
    ----------
    model : fitted gmm.GaussianMixture (or sklearn.mixture.GaussianMixture)
    order : ndarray of shape (K,)
        ``order[i]`` is the old index of the new component ``i`` (as from :func:`canonical_order`).
    copy : bool, default=True
        Permute a deep copy and leave ``model`` unchanged; with False, permute ``model`` itself
        (for a caller that owns the model, such as :func:`gmm.segment`).

    Returns
    -------
    GaussianMixture
        The permuted model. ``history_``, ``lower_bound_`` and the
        other per-fit records are kept as they are, since the likelihood and ELBO do not depend
        on the numbering. A tied covariance is shared, so it is not permuted.
    """
    if not hasattr(model, "means_"):
        raise ValueError("relabel_model needs a fitted model (no means_ attribute)")
    order = check_permutation(order, model.means_.shape[0])
    relabelled = _copy.deepcopy(model) if copy else model
    for name in _PERMUTED_ATTRIBUTES:
        if name.startswith(("cov", "prec")) and model.covariance_type == "tied":
            continue
        setattr(relabelled, name, np.asarray(getattr(model, name))[order].copy())
    for name in _OPTIONAL_PERMUTED:
        if getattr(model, name, None) is not None:
            setattr(relabelled, name, np.asarray(getattr(model, name))[order].copy())
    if getattr(model, "collapsed_components_", None) is not None:
        relabelled.collapsed_components_ = np.sort(inverse_permutation(order)[model.collapsed_components_])
    return relabelled


# ----------------------------------------------------------------- matching two label maps
def label_permutation(reference, labels, n_labels: int | None = None) -> np.ndarray:
    """The relabelling of ``labels`` that best overlaps ``reference`` (Hungarian matching).

    Maximises the number of pixels whose new label equals the reference label, over one-to-one
    maps. When ``labels`` has more labels than ``reference``, the unmatched ones get fresh
    labels ``n_reference, n_reference + 1, ...`` in their original order, so the map stays
    one-to-one; with fewer, some reference labels are simply unused.

    Parameters
    ----------
    reference : ndarray of int, shape (H, W) (any shape)
    labels : ndarray of int, same shape
    n_labels : int, optional
        Number of labels ``labels`` may hold (default ``labels.max() + 1``); labels absent
        from the image still get a place in the map.

    Returns
    -------
    mapping : ndarray of shape (n_labels,), int
        ``mapping[labels]`` is the aligned label image.
    """
    from gmm.metrics import contingency_table

    for name, array in (("reference", reference), ("labels", labels)):
        array = np.asarray(array)
        if array.size and (array.dtype.kind not in "iu" or array.min() < 0):
            raise ValueError(f"{name} must hold non-negative integer labels (dtype {array.dtype})")
    table = contingency_table(reference, labels, n_labels=n_labels).T  # rows: the labels to renumber
    rows, cols = linear_sum_assignment(table, maximize=True)
    mapping = np.full(table.shape[0], -1, dtype=np.intp)
    mapping[rows] = cols
    unmatched = np.flatnonzero(mapping < 0)
    mapping[unmatched] = table.shape[1] + np.arange(unmatched.size)
    return mapping


def align_labels(reference, labels, n_labels: int | None = None) -> np.ndarray:
    """``labels`` relabelled to match ``reference`` as well as possible (see :func:`label_permutation`).

    Returns
    -------
    ndarray of the shape of ``labels``, with ``labels``' dtype when the new labels fit in it
    """
    labels = np.asarray(labels)
    mapping = label_permutation(reference, labels, n_labels=n_labels)
    dtype = labels.dtype if mapping.max() <= np.iinfo(labels.dtype).max else np.intp
    return mapping.astype(dtype)[labels]


def label_flips(reference, label_maps, n_labels: int):
    """For each label map, whether its best match onto ``reference`` renumbers any label.

    A run whose Hungarian matching (:func:`gmm.labels.label_permutation`) to the reference is
    not the identity draws the same segments in different colours: the paper's label switching.

    Returns
    -------
    ndarray of bool, shape (len(label_maps),)
    """
    identity = np.arange(n_labels)
    flips = [not np.array_equal(label_permutation(reference, labels, n_labels), identity) for labels in label_maps]
    return np.array(flips, dtype=bool)

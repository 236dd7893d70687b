"""Save a fitted segmentation model to a plain JSON file, load it back, apply it to new images.

A model file holds what labelling needs and nothing that runs: the colour space, the mixture's
weights, means and covariances (numbers written by ``repr``, so they read back bit for bit), the
component names, the settings of the fit, and a SHA-256 checksum of all of it. It is never a
pickle. :func:`load_model` checks every field (format, version, shapes, finite numbers, weights
summing to one, positive-definite covariances, the checksum) and raises :class:`ModelFileError`
naming the first problem, for a damaged, edited or foreign file.

Precisions are not stored: they are recomputed from the covariances exactly as the M-step
computes them, so a loaded model labels every pixel as the fitted one did.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from gmm.image import COLOR_SPACES, check_color_space, load_image, n_color_features, to_features

FORMAT = "gmm-segmentation-model"
VERSION = 1
_KEYS = {"format", "version", "color_space", "covariance_type", "n_components", "n_features", "weights",
         "means", "covariances", "names", "fit", "info", "checksum"}
_FIT_KEYS = ("tol", "reg_covar", "max_iter", "init_params", "random_state", "converged", "n_iter", "lower_bound")
_FIT_ATTRIBUTES = ("tol", "reg_covar", "max_iter", "init_params", "random_state", "converged_", "n_iter_",
                   "lower_bound_")


class ModelFileError(ValueError):
    """A model file that cannot be used: not JSON, not a gmm model, a newer version, or damaged."""


# ------------------------------------------------------------------------------------- saving
def model_document(model, color_space=None, names=None, info=None) -> dict:
    """The JSON document of a fitted model (see :func:`save_model` for the arguments)."""
    if hasattr(model, "labels") and hasattr(model, "model"):  # a SegmentationResult
        if getattr(model, "spatial_weight", 0):
            raise ValueError("a model fitted with spatial features (spatial_weight > 0) cannot be saved: "
                             "it describes one image's layout, not colours")
        if getattr(model, "smoothing", 0):
            raise ValueError("a smoothed model (smoothing > 0) cannot be saved: the file holds colour models, "
                             "which label each pixel on its own")
        color_space = model.color_space if color_space is None else color_space
        model = model.model
    if not hasattr(model, "means_"):
        raise ValueError("save_model needs a fitted model or a SegmentationResult")
    if getattr(model, "beta_", 0):
        raise ValueError("a smoothed (Potts) model cannot be saved: the file holds colour models only")
    color_space = getattr(model, "color_space_", None) if color_space is None else color_space
    if color_space is None:
        raise ValueError(f"pass color_space= (one of {COLOR_SPACES}): the model does not record it")
    color_space = check_color_space(color_space)
    n_components, n_features = model.means_.shape
    if n_features != n_color_features(color_space):
        raise ValueError(f"the model has {n_features} features, but colour space {color_space!r} has "
                         f"{n_color_features(color_space)}: only colour models can be saved")
    names = getattr(model, "names_", None) if names is None else names
    document = {
        "format": FORMAT, "version": VERSION, "color_space": color_space,
        "covariance_type": model.covariance_type, "n_components": int(n_components),
        "n_features": int(n_features), "weights": _floats(model.weights_), "means": _floats(model.means_),
        "covariances": _floats(model.covariances_),
        "names": None if names is None else _check_names(names, n_components),
        "fit": {key: _plain(getattr(model, attr, None)) for key, attr in zip(_FIT_KEYS, _FIT_ATTRIBUTES)},
        "info": _plain(dict(info or {})),
    }
    return dict(document, checksum=_checksum(document))



def _floats(array):
    array = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("the model holds NaN or infinite parameters")
    return array.tolist()


def _plain(value):
    """A JSON value of plain types (numbers, strings, booleans, None, lists, dicts of them)."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return None  # e.g. a RandomState: not recordable, recorded as unknown


def _check_names(names, n_components) -> list:
    names = [str(name) for name in names]
    if len(names) != n_components:
        raise ValueError(f"expected {n_components} names, one per component, got {len(names)}")
    return names


def _checksum(document) -> str:
    body = {key: value for key, value in document.items() if key != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def model_json_bytes(model, color_space=None, names=None, info=None) -> bytes:
    """The model file's bytes (see :func:`save_model`)."""
    document = model_document(model, color_space, names, info)
    return (json.dumps(document, indent=1, allow_nan=False) + "\n").encode()


def save_model(model, path, *, color_space=None, names=None, info=None) -> Path:
    """Write a fitted model to a JSON file, atomically.

    Parameters
    ----------
    model : SegmentationResult or fitted gmm.GaussianMixture
        A result of :func:`gmm.segment` (its colour space is used), or a model with
        ``color_space_`` (as from :func:`load_model`) or an explicit ``color_space``.
    path : str or pathlib.Path
    color_space : {'rgb', 'grey', 'lab', 'hsv'}, optional
    names : sequence of K str, optional
        Names of the components (e.g. "background", "cell"), shown by renderings and tables.
    info : dict, optional
        Anything else to record (plain JSON values), e.g. the images it was fitted on.

    Returns
    -------
    pathlib.Path
    """
    from gmm.outputs import atomic_write

    path = Path(path)
    atomic_write(path, model_json_bytes(model, color_space, names, info))
    return path


# ------------------------------------------------------------------------------------ loading
def load_model(path):
    """Read a model file written by :func:`save_model`, checking everything in it.

    Returns
    -------
    gmm.GaussianMixture
        Fitted, with ``color_space_``, ``names_`` (list of str or None) and ``info_`` (dict).

    Raises
    ------
    ModelFileError
        Naming the file and its first problem.
    FileNotFoundError
        No such file.
    """
    path = Path(path)
    try:
        return model_from_document(_read_json(path))
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None


def _read_json(path: Path):
    data = path.read_bytes()  # FileNotFoundError and IsADirectoryError go to the caller as they are
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise ModelFileError(f"not a gmm model file (not JSON: {error})") from None


def _refuse_constant(name):
    raise ValueError(f"{name} is not allowed")


def model_from_document(document):
    """A fitted GaussianMixture from a model document, after checking every field."""
    from gmm import _kernels
    from gmm.mixture import GaussianMixture

    _check_header(document)
    color_space, kind = document["color_space"], document["covariance_type"]
    k, d = _count(document, "n_components"), _count(document, "n_features")
    if d != n_color_features(color_space):
        raise ModelFileError(f"n_features is {d}, but colour space {color_space!r} has {n_color_features(color_space)}")
    weights = _array(document, "weights", (k,))
    means = _array(document, "means", (k, d))
    shapes = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
    covariances = _array(document, "covariances", shapes[kind])
    if np.any(weights < 0) or abs(weights.sum() - 1) > 1e-9:
        raise ModelFileError("weights must be non-negative and sum to 1")
    # EM's covariances are symmetric up to rounding, not bit for bit.
    asymmetry = np.abs(covariances - np.swapaxes(covariances, -1, -2)) if kind in ("full", "tied") else 0
    if np.any(asymmetry > 1e-9 * np.abs(covariances).max()):
        raise ModelFileError("covariances are not symmetric")
    try:
        precisions_chol, precisions = _kernels.precisions_from_covariances(covariances, kind)
    except ValueError:
        raise ModelFileError("covariances are not positive definite") from None
    names, fit, info = document["names"], document["fit"], document["info"]
    if names is not None and (not isinstance(names, list) or len(names) != k or not all(isinstance(n, str) for n in names)):
        raise ModelFileError(f"names must be null or a list of {k} strings")
    if not isinstance(fit, dict) or not isinstance(info, dict):
        raise ModelFileError("fit and info must be JSON objects")
    model = GaussianMixture(k, covariance_type=kind, **_settings(fit))
    model.weights_, model.means_, model.covariances_ = weights, means, covariances
    model.precisions_cholesky_ = precisions_chol
    model.precisions_ = precisions
    model.n_features_in_ = d
    model.converged_, model.n_iter_ = bool(fit.get("converged")), int(fit.get("n_iter") or 0)
    model.lower_bound_ = float(fit["lower_bound"]) if isinstance(fit.get("lower_bound"), (int, float)) else math.nan
    model.color_space_, model.names_, model.info_ = color_space, names, info
    return model


def _check_header(document) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"not a gmm model file (no \"format\": \"{FORMAT}\")")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"bad format version {version!r}")
    if version > VERSION:
        raise ModelFileError(f"format version {version} is newer than this gmm reads ({VERSION}): upgrade gmm")
    missing, unknown = _KEYS - set(document), set(document) - _KEYS
    if missing or unknown:
        raise ModelFileError(f"missing fields {sorted(missing)}" if missing else f"unknown fields {sorted(unknown)}")
    if document["checksum"] != _checksum(document):
        raise ModelFileError("checksum mismatch: the file was changed after gmm wrote it, or is damaged")
    if document["color_space"] not in COLOR_SPACES:
        raise ModelFileError(f"color_space must be one of {COLOR_SPACES}, got {document['color_space']!r}")
    from gmm._gaussian import COVARIANCE_TYPES

    if document["covariance_type"] not in COVARIANCE_TYPES:
        raise ModelFileError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {document['covariance_type']!r}")


def _count(document, key) -> int:
    value = document[key]
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise ModelFileError(f"{key} must be an integer in 1..65535, got {value!r}")
    return value


def _array(document, key, shape) -> np.ndarray:
    try:
        array = np.array(document[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelFileError(f"{key} must be numbers of shape {shape}") from None
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ModelFileError(f"{key} must be finite numbers of shape {shape}, got shape {array.shape}")
    return array


def _settings(fit) -> dict:
    """The estimator settings recorded in ``fit``, those of a valid type only."""
    settings = {}
    for key, kinds in (("tol", (int, float)), ("reg_covar", (int, float)), ("max_iter", (int,)),
                       ("init_params", (str,)), ("random_state", (int,))):
        value = fit.get(key)
        if isinstance(value, kinds) and not isinstance(value, bool):
            settings[key] = value
    return settings


# ----------------------------------------------------------------------------------- applying
def apply_model(model, image, mask=None):
    """Label an image with a fitted model: the same components, colours and meaning.

    Parameters
    ----------
    model : gmm.GaussianMixture with ``color_space_`` (from :func:`load_model`)
    image : str, pathlib.Path or ndarray
        Anything :func:`gmm.load_image` accepts. A grey image under a colour model is read as
        the RGB colours (v, v, v); a colour image under a grey model as its grey levels.
    mask : ndarray of shape (H, W), bool, optional
        True on the pixels to label; the others get ``NO_LABEL`` (-1).

    Returns
    -------
    gmm.SegmentationResult
    """
    from gmm.distinct import distinct_pixels
    from gmm.image import to_grey
    from gmm.masks import check_mask
    from gmm.segmentation import NO_LABEL, SegmentationResult

    color_space = getattr(model, "color_space_", None)
    if color_space is None:
        raise ValueError("the model has no color_space_: load it with load_model, or set model.color_space_")
    image = load_image(image)
    if color_space == "grey":
        data = to_grey(image)
    else:
        data = image if image.ndim == 3 else np.repeat(image[:, :, np.newaxis], 3, axis=2)
    pixels = distinct_pixels(data)
    features = to_features(pixels.values, color_space)
    k = model.means_.shape[0]
    labels = pixels.expand(model.predict(features))
    mask = None if mask is None else check_mask(mask, image.shape)
    if mask is None or mask.all():
        mask, labels = None, labels.astype(np.uint8 if k <= 256 else np.int32)
    else:
        labels = np.where(mask, labels, NO_LABEL).astype(np.int16 if k < 2**15 else np.int32)
    return SegmentationResult(labels=labels, model=model, n_components=k, color_space=color_space, image=image,
                              mask=mask, _pixels=pixels, _features=features)

"""Student-t mixture against the Gaussian one on the fox and the moose, clean and corrupted.

    GMM_DATA_MIRROR=/work/shared/data .venv/bin/python benchmarks/student_t_images.py

Writes ``benchmarks/results/student_t.json`` (about a minute on one core). Both models fit the
photo's distinct colours weighted by their counts (exactly EM on all pixels) with K = 3, RGB in
[0, 1], full covariances, the k-means start with seed 0, and ``tol=1e-5`` (the t's degrees of
freedom move slowly under EM; ``tol=1e-3`` t fits, from ``dof_init`` 100 and 10, are recorded
too). Components are numbered by mean luminance (background, animal, grass), as in notebooks 02
and 03. Times are wall-clock on a shared machine: compare them within one run only.

Questions answered, with the numbers in the JSON:

1. The fox: does the heavy-tailed model stop giving the fox's dark nose and the dark grass to the
   background? (The notebook-03 measures for both models, and the share of the Gaussian fit's
   nose and dark-grass pixels that the t fit gives to the animal or the grass.)
2. Robustness: 2% saturated (255) pixels, 2% salt-and-pepper (0 and 255), 5% pixels of uniformly
   random colour. Per model: the largest shift of a component mean (RGB units, components matched
   to the clean fit by label overlap) and the share of the untouched pixels relabelled.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning

from gmm.companion.paths import BENCHMARK_RESULTS_DIR
from gmm.data import load_image
from gmm.distinct import distinct_pixels
from gmm.image import to_features
from gmm.labels import canonical_order, inverse_permutation, label_permutation
from gmm.mixture import GaussianMixture
from gmm.outputs import atomic_write
from gmm.regions import enclosed_regions
from gmm.student_t import StudentTMixture

K, SEED, TOL, MAX_ITER = 3, 0, 1e-5, 3000
BACKGROUND, ANIMAL, GRASS = 0, 1, 2
CORRUPTIONS = ("saturated_2pct", "salt_pepper_2pct", "uniform_noise_5pct")


def corrupt(image, kind, seed=0):
    """A copy of ``image`` with a fixed random set of pixels replaced, and the mask of those pixels."""
    rng = np.random.RandomState(seed)
    image, (h, w) = image.copy(), image.shape[:2]
    share = 0.05 if kind == "uniform_noise_5pct" else 0.02
    mask = np.zeros(h * w, dtype=bool)
    mask[rng.choice(h * w, size=int(round(share * h * w)), replace=False)] = True
    mask = mask.reshape(h, w)
    if kind == "saturated_2pct":
        image[mask] = 255
    elif kind == "salt_pepper_2pct":
        image[mask] = np.where(rng.rand(int(mask.sum()), 1) < 0.5, 0, 255).astype(np.uint8)
    else:
        image[mask] = rng.randint(0, 256, size=(int(mask.sum()), 3)).astype(np.uint8)
    return image, mask


def fit(image, model, start_from=None, **params):
    """Fit on distinct colours with counts: a summary (seconds included), labels (H, W) in canonical
    order, and the estimator. ``start_from``: a fitted estimator to continue from (warm start)."""
    pixels = distinct_pixels(image)
    features = to_features(pixels.values, "rgb")
    if start_from is not None:
        estimator = copy.deepcopy(start_from).set_params(warm_start=True)
    else:
        estimator = (GaussianMixture if model == "gaussian" else StudentTMixture)(
            K, random_state=SEED, tol=params.pop("tol", TOL), max_iter=MAX_ITER, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # recorded as converged=False
        estimator.fit(features, sample_weight=pixels.counts)
    seconds = time.perf_counter() - start
    order = canonical_order(estimator.means_, "rgb", estimator.weights_)
    labels = inverse_permutation(order)[pixels.expand(estimator.predict(features))]
    summary = {
        "seconds": seconds, "n_iter": int(estimator.n_iter_), "converged": bool(estimator.converged_),
        "log_likelihood_per_pixel": estimator.score(features, sample_weight=pixels.counts),
        "bic_per_pixel": estimator.bic(features, sample_weight=pixels.counts) / pixels.n_pixels,
        "means_rgb": 255 * estimator.means_[order], "weights": estimator.weights_[order],
        "pixel_share": np.bincount(labels.ravel(), minlength=K) / labels.size,
    }
    if model == "student_t":
        summary["degrees_of_freedom"] = estimator.degrees_of_freedom_[order]
    return summary, labels, estimator


def fox_failures(labels):
    """Notebook 03's measures: background regions inside the animal (the nose), dark-grass patches."""
    inside = enclosed_regions(labels, outer=ANIMAL, inner=BACKGROUND)
    patches = enclosed_regions(labels, outer=GRASS, inner=BACKGROUND, min_size=20)
    patch_pixels = sum(r.size for r in patches)
    return {"nose_pixels": inside[0].size if inside else 0, "n_background_regions_in_animal": len(inside),
            "background_pixels_in_animal": sum(r.size for r in inside), "n_dark_grass_patches": len(patches),
            "dark_grass_pixels": patch_pixels,
            "dark_grass_percent_of_grass": 100 * patch_pixels / (int(np.sum(labels == GRASS)) + patch_pixels)}


def region_mask(labels, regions, inner):
    """Pixels of label ``inner`` inside the bounding boxes of ``regions``."""
    mask = np.zeros(labels.shape, dtype=bool)
    for r in regions:
        mask[r.rows, r.cols] |= labels[r.rows, r.cols] == inner
    return mask


def what_t_does_with_gaussian_failures(gauss_labels, t_labels):
    """Share of the Gaussian fit's nose / dark-grass pixels that the t fit labels animal / grass."""
    nose = region_mask(gauss_labels, enclosed_regions(gauss_labels, outer=ANIMAL, inner=BACKGROUND)[:1], BACKGROUND)
    grass = region_mask(gauss_labels, enclosed_regions(gauss_labels, outer=GRASS, inner=BACKGROUND, min_size=20),
                        BACKGROUND)
    return {"gaussian_nose_pixels_t_labels_animal": float(np.mean(t_labels[nose] == ANIMAL)),
            "gaussian_nose_pixels_t_labels_background": float(np.mean(t_labels[nose] == BACKGROUND)),
            "gaussian_dark_grass_pixels_t_labels_grass": float(np.mean(t_labels[grass] == GRASS)),
            "gaussian_dark_grass_pixels_t_labels_background": float(np.mean(t_labels[grass] == BACKGROUND))}


def compare(summary, labels, mask, clean_summary, clean_labels):
    """A corrupted fit against the clean one: mean shifts, relabelled untouched pixels."""
    mapping = label_permutation(clean_labels[~mask], labels[~mask], K)  # match components by overlap
    means = np.empty_like(summary["means_rgb"])
    means[mapping] = summary["means_rgb"]
    shift = np.abs(means - clean_summary["means_rgb"]).max(axis=1)
    return {**summary, "component_match": mapping, "mean_shift_rgb": shift, "max_mean_shift_rgb": float(shift.max()),
            "untouched_pixels_relabelled": float(np.mean(mapping[labels[~mask]] != clean_labels[~mask]))}


def robustness(image, model, clean):
    """Per corruption: the fit from the k-means start, and EM continued from the clean fit (which
    tells a less robust optimum from a worse local optimum found from the start)."""
    clean_summary, clean_labels, clean_estimator = clean
    rows = {}
    for kind in CORRUPTIONS:
        corrupted, mask = corrupt(image, kind)
        rows[kind] = compare(*fit(corrupted, model)[:2], mask, clean_summary, clean_labels)
        rows[kind]["from_clean_fit"] = compare(*fit(corrupted, model, start_from=clean_estimator)[:2], mask,
                                               clean_summary, clean_labels)
    return rows


def run():
    results = {"meta": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                        "scikit-learn": sklearn.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
                        "settings": {"n_components": K, "color_space": "rgb", "covariance_type": "full",
                                     "init": "kmeans", "random_state": SEED, "tol": TOL, "max_iter": MAX_ITER}},
               "images": {}}
    for name in ("fox", "moose"):
        image = load_image(name)
        gauss_fit, t_fit = fit(image, "gaussian"), fit(image, "student_t")
        (gauss, gauss_labels, _), (t, t_labels, _) = gauss_fit, t_fit
        entry = {"pixels": int(image.shape[0] * image.shape[1]), "gaussian": gauss, "student_t": t,
                 "student_t_tol_1e-3": fit(image, "student_t", tol=1e-3)[0],
                 "student_t_tol_1e-3_dof_init_10": fit(image, "student_t", tol=1e-3, dof_init=10.0)[0],
                 "pixels_relabelled_t_vs_gaussian": float(np.mean(
                     label_permutation(gauss_labels, t_labels, K)[t_labels] != gauss_labels))}
        if name == "fox":
            entry["fox_failures"] = {"gaussian": fox_failures(gauss_labels), "student_t": fox_failures(t_labels),
                                     **what_t_does_with_gaussian_failures(gauss_labels, t_labels)}
        entry["robustness"] = {"gaussian": robustness(image, "gaussian", gauss_fit),
                               "student_t": robustness(image, "student_t", t_fit)}
        results["images"][name] = entry
        print(f"{name}: done")
    return results


def _plain(value):
    """JSON-ready: arrays to lists, floats rounded to 6 significant digits (timings to 3)."""
    if isinstance(value, dict):
        return {k: round(float(v), 3) if k == "seconds" else _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in np.asarray(value).tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.6g}")
    return value


if __name__ == "__main__":
    start = time.perf_counter()
    output = _plain(run())
    output["meta"]["total_seconds"] = round(time.perf_counter() - start, 1)
    path = BENCHMARK_RESULTS_DIR / "student_t.json"
    atomic_write(path, (json.dumps(output, indent=2) + "\n").encode())
    print("wrote", path)

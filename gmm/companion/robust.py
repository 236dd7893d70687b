"""Notebook 07's helpers: the Student-t mixture against the Gaussian one on an image's colours.

Both models are fitted on the image's distinct colours weighted by their counts (exactly EM on
all pixels, :mod:`gmm.distinct`), their components numbered canonically (mean luminance,
:func:`gmm.labels.canonical_order`), so that "background", "animal" and "grass" mean the same
component in both fits. The measures are notebook 03's (:func:`gmm.regions.enclosed_regions`):
background enclosed by the animal (the fox's nose), background enclosed by the grass (dark grass).
They use the library; nothing in the library uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColourFit:
    """A mixture fitted to an image's distinct colours, its components in canonical order.

    Attributes
    ----------
    model : fitted GaussianMixture or StudentTMixture, components permuted to canonical order
    labels : ndarray of shape (H, W), int, the most probable (canonical) component per pixel
    pixels : gmm.distinct.DistinctPixels, the image's distinct colours
    features : ndarray of shape (n_distinct, d), the colours as features
    order : ndarray of shape (K,), ``order[i]`` the fitted component that became component ``i``
    """

    model: object
    labels: np.ndarray
    pixels: object
    features: np.ndarray
    order: np.ndarray

    @property
    def log_likelihood(self) -> float:
        """Mean log-likelihood per pixel of the final parameters (nats)."""
        return float(self.model.score(self.features, sample_weight=self.pixels.counts))

    @property
    def pixel_share(self) -> np.ndarray:
        """Share of the pixels each component wins: shape (K,)."""
        return np.bincount(self.labels.ravel(), minlength=self.model.n_components) / self.labels.size

    def dof_history(self) -> np.ndarray:
        """Degrees of freedom per iteration in canonical order: shape (n_iter, K).

        :func:`gmm.labels.relabel_model` permutes the fitted ``degrees_of_freedom_`` but keeps the
        history as it was recorded, in the fit's own numbering; this reorders its columns.
        """
        return np.asarray(self.model.history_.degrees_of_freedom)[:, self.order]

    def expected_scale_map(self) -> np.ndarray:
        """``E[u | x_n] = sum_k r_nk E[u | x_n, z_n = k]`` per pixel (a t fit only): shape (H, W).

        The weight a pixel gets in the means and scale matrices relative to a Gaussian fit's 1:
        far below 1 where the pixel is an outlier of the components that claim it.
        """
        scales = self.model.expected_scales(self.features)
        resp = self.model.predict_proba(self.features)
        return self.pixels.expand(np.sum(resp * scales, axis=1))


def fit_colours(image, estimator, color_space: str = "rgb") -> ColourFit:
    """Fit ``estimator`` (unfitted; a copy is kept) on the distinct colours of ``image``.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    estimator : GaussianMixture or StudentTMixture
        Fitted with ``sample_weight`` = the colour counts; a ConvergenceWarning is raised as usual.
    color_space : str, default='rgb'

    Returns
    -------
    ColourFit, the model relabelled to canonical order (:func:`gmm.labels.canonical_order`)
    """
    from gmm.distinct import distinct_pixels
    from gmm.image import to_features
    from gmm.labels import canonical_order, relabel_model

    pixels = distinct_pixels(image)
    features = to_features(pixels.values, color_space)
    estimator.fit(features, sample_weight=pixels.counts)
    order = canonical_order(estimator.means_, color_space, estimator.weights_)
    model = relabel_model(estimator, order)
    return ColourFit(model, pixels.expand(model.predict(features)), pixels, features, order)


def fit_both(image, n_components: int, *, seed: int = 0, tol: float = 1e-5, max_iter: int = 3000,
             dof_init: float = 100.0) -> dict[str, ColourFit]:
    """The Gaussian and the Student-t mixture (``dof="estimate"``) on ``image``'s colours.

    Both use full covariances and the same k-means start (``seed``); the t mixture's first
    M-step is the Gaussian one's, so the two differ only by what the t's scales change.

    Returns
    -------
    {"gaussian": ColourFit, "student_t": ColourFit}
    """
    from gmm.mixture import GaussianMixture
    from gmm.student_t import StudentTMixture

    common = dict(random_state=seed, tol=tol, max_iter=max_iter)
    return {"gaussian": fit_colours(image, GaussianMixture(n_components, **common)),
            "student_t": fit_colours(image, StudentTMixture(n_components, dof_init=dof_init, **common))}


def enclosed_mask(labels, outer: int, inner: int, regions) -> np.ndarray:
    """The exact pixels of ``regions`` (from :func:`gmm.regions.enclosed_regions` with the same
    ``outer`` and ``inner``): shape (H, W), bool.

    A region is identified by its bounding box and size, which together name one connected
    piece; other holes that merely overlap its box are left out.
    """
    from scipy import ndimage as ndi

    labels = np.asarray(labels)
    holes = ndi.binary_fill_holes(labels == outer) & (labels == inner)
    pieces, n = ndi.label(holes)
    sizes = np.bincount(pieces.ravel(), minlength=n + 1)
    boxes = {_box_key(box[0], box[1], sizes[i + 1]): i + 1 for i, box in enumerate(ndi.find_objects(pieces))}
    mask = np.zeros(labels.shape, dtype=bool)
    for region in regions:
        key = _box_key(region.rows, region.cols, region.size)
        if key not in boxes:
            raise ValueError(f"region {region} is not a piece of label {inner} enclosed by label {outer}")
        mask |= pieces == boxes[key]
    return mask


def _box_key(rows: slice, cols: slice, size) -> tuple:
    # Slices are not hashable before Python 3.12.
    return rows.start, rows.stop, cols.start, cols.stop, int(size)


@dataclass(frozen=True)
class Failures:
    """Notebook 03's failure measures on one label map.

    Attributes
    ----------
    inside : list of Region, background regions enclosed by the animal, largest (the nose) first
    patches : list of Region, background regions enclosed by the grass (>= ``min_patch`` pixels)
    nose : ndarray (H, W) bool, the largest enclosed background region's pixels (may be empty)
    dark_grass : ndarray (H, W) bool, the patches' pixels
    grass_area : int, pixels of the grass component plus the patches
    """

    inside: list
    patches: list
    nose: np.ndarray
    dark_grass: np.ndarray
    grass_area: int

    @property
    def nose_pixels(self) -> int:
        return int(self.inside[0].size) if self.inside else 0

    @property
    def dark_grass_percent(self) -> float:
        """Dark-grass pixels as a percentage of the grass area (0 when there is no grass)."""
        return 100.0 * float(self.dark_grass.sum()) / self.grass_area if self.grass_area else 0.0

    def summary(self) -> dict:
        """The counts as plain numbers (for tables)."""
        return {"nose_pixels": self.nose_pixels, "n_regions_inside_animal": len(self.inside),
                "pixels_inside_animal": int(sum(r.size for r in self.inside)),
                "n_dark_grass_patches": len(self.patches), "dark_grass_pixels": int(self.dark_grass.sum()),
                "dark_grass_percent": self.dark_grass_percent}


def failures(labels, background: int, animal: int, grass: int, min_patch: int = 20) -> Failures:
    """The nose and dark-grass measures of notebook 03 on a canonical label map."""
    from gmm.regions import enclosed_regions

    labels = np.asarray(labels)
    inside = enclosed_regions(labels, outer=animal, inner=background)
    patches = enclosed_regions(labels, outer=grass, inner=background, min_size=min_patch)
    nose = enclosed_mask(labels, animal, background, inside[:1])
    dark_grass = enclosed_mask(labels, grass, background, patches)
    grass_area = int(np.sum(labels == grass)) + int(dark_grass.sum())
    return Failures(inside, patches, nose, dark_grass, grass_area)


def label_shares(labels, mask, n_components: int) -> np.ndarray:
    """Share of the pixels in ``mask`` that ``labels`` gives to each component: shape (K,).

    NaN everywhere when ``mask`` is empty (nothing to share).
    """
    picked = np.asarray(labels)[np.asarray(mask, dtype=bool)]
    if picked.size == 0:
        return np.full(n_components, np.nan)
    return np.bincount(picked.ravel(), minlength=n_components) / picked.size


def relabelled_share(reference, labels, n_components: int) -> float:
    """Share of pixels whose label differs from ``reference`` after the best one-to-one matching
    of the labels (:func:`gmm.labels.label_permutation`), so a mere renumbering counts as none."""
    from gmm.labels import label_permutation

    reference, labels = np.asarray(reference), np.asarray(labels)
    mapping = label_permutation(reference, labels, n_components)
    return float(np.mean(mapping[labels] != reference))


def robustness_rows(entry: dict) -> list[dict]:
    """The robustness results of one image of ``benchmarks/results/student_t.json`` as flat rows.

    Parameters
    ----------
    entry : dict
        ``results["images"][name]``, with ``entry["robustness"][model][corruption]`` as written by
        ``benchmarks/student_t_images.py`` (each with a ``from_clean_fit`` continuation).

    Returns
    -------
    list of dict with keys ``model, corruption, start`` (``"k-means"`` or ``"clean fit"``),
    ``max_mean_shift_rgb``, ``relabelled_percent`` (of the untouched pixels) and, for the t,
    ``min_dof`` (the smallest fitted degrees of freedom), ordered by corruption, then model, then start.
    """
    rows = []
    models = entry["robustness"]
    corruptions = list(next(iter(models.values())))
    for corruption in corruptions:
        for model, results in models.items():
            fit = results[corruption]
            for start, result in (("k-means", fit), ("clean fit", fit["from_clean_fit"])):
                dof = result.get("degrees_of_freedom")
                rows.append({"model": model, "corruption": corruption, "start": start,
                             "max_mean_shift_rgb": float(result["max_mean_shift_rgb"]),
                             "relabelled_percent": 100.0 * float(result["untouched_pixels_relabelled"]),
                             "min_dof": None if dof is None else float(np.min(dof))})
    return rows


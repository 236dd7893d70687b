"""Choosing the number of components K from the data (``n_components="auto"``).

Why not BIC: on an image of n = 10^5 to 10^7 pixels, BIC's penalty ``(p / 2) log n`` is
negligible against the log-likelihood, which is a sum over n pixels. Photo colours are not a
Gaussian mixture, so every extra component raises the likelihood by a fraction of a nat per
pixel, and BIC keeps adding components (it picked K = 10, 10, 9 on three sample photos).

The rule used here is the integrated classification likelihood (ICL, Biernacki, Celeux &
Govaert 2000), per pixel and scaled to an *effective sample size* ``n_e``:

    ICL_e(K) = n_e * (mean log p(y | theta_K) - mean H(q_K)) - (p_K / 2) * log(n_e),

where the means are per unit weight (per pixel), ``H(q_K)`` is the entropy of the
responsibilities (ICL's penalty for components that overlap, i.e. that do not separate the
pixels into classes) and ``p_K`` the number of free parameters. Neighbouring pixels are far
from independent draws, so an image carries the information of far fewer than ``n`` samples:
``n_e`` is the number of independent observations the image is taken to be worth. It is a
tuning constant, not an estimate. On BSDS500 train images (``benchmarks/bsds_eval.py``, results
in ``benchmarks/results/bsds500.json``) values from 300 to 700 scored within 0.005 of each
other (500 best, for Lab + blur + texture features), and no better than a fixed K = 4 beyond
noise; the default is 300. The K chosen never falls as ``n_e`` grows (``n_e -> n`` gives ICL at
the image's own size). On synthetic football frames (``benchmarks/bench_spatial.py``) 300
picks the three classes that cover over 1% of the frame (turf, end zone, paint) in five of six
cases, never the players: a class needs roughly ``1 / n_e`` of the image or more to pay for
its parameters. It may pick K = 1 (one segment) for an image of overlapping colours.

Limits: ``n_e`` is the same for every image whatever its size or content, so the rule picks a
number of *segments-worth* of colour classes, not the number of objects; for full covariance
the choice is invariant to affine changes of the features (the log-likelihood shifts by the
same constant for every K), for the other covariance types it is not; and each candidate K is
one EM fit from one start, so a poor local optimum can hide a good K (raise ``n_init``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

#: Default effective sample size (see the module docstring).
EFFECTIVE_SIZE = 300.0
#: Default candidate numbers of components.
CANDIDATES = tuple(range(1, 9))


@dataclass(frozen=True)
class ComponentSelection:
    """The result of :func:`select_n_components`; arrays have one entry per candidate.

    Attributes
    ----------
    n_components : int
        The candidate with the highest ``score``.
    candidates : ndarray of int
    score : ndarray
        ``ICL_e`` (higher is better).
    log_likelihood, entropy : ndarray
        Mean ``log p(y | theta_K)`` and mean responsibility entropy per unit weight.
    n_parameters : ndarray of int
    effective_size : float
    models : tuple of gmm.GaussianMixture
        The fitted mixture of each candidate.
    """

    n_components: int
    candidates: np.ndarray
    score: np.ndarray
    log_likelihood: np.ndarray
    entropy: np.ndarray
    n_parameters: np.ndarray
    effective_size: float
    models: tuple = ()


def icl_score(log_likelihood, entropy, n_parameters, effective_size):
    """``ICL_e = n_e (loglik - entropy) - (p / 2) log n_e`` from per-sample means (arrays broadcast)."""
    n_e = float(effective_size)
    return n_e * (np.asarray(log_likelihood) - np.asarray(entropy)) - 0.5 * np.asarray(n_parameters) * np.log(n_e)


def mean_entropy(resp, sample_weight=None):
    """Mean entropy ``-sum_k q_k log q_k`` of responsibilities (n, K) per unit weight (0 log 0 = 0)."""
    resp = np.asarray(resp, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(resp > 0, resp * np.log(resp), 0.0)
    per_sample = -terms.sum(axis=1)
    if sample_weight is None:
        return float(per_sample.mean())
    return float(sample_weight @ per_sample / np.sum(sample_weight))


def n_parameters(n_components, n_features, covariance_type="full"):
    """Free parameters of a Gaussian mixture: weights, means and covariances."""
    K, d = int(n_components), int(n_features)
    covariance = {"full": K * d * (d + 1) // 2, "diag": K * d, "tied": d * (d + 1) // 2, "spherical": K}
    if covariance_type not in covariance:
        raise ValueError(f"covariance_type must be one of {tuple(covariance)}, got {covariance_type!r}")
    return covariance[covariance_type] + K * d + K - 1


def check_candidates(candidates, n_distinct):
    """Validate candidate K values against the number of distinct samples: sorted int array."""
    try:
        given = list(candidates)
    except TypeError:
        given = None
    if not given or not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1 for k in given):
        raise ValueError(f"candidates must be a non-empty sequence of integers >= 1, got {candidates!r}")
    values = np.unique(np.array(given, dtype=np.int64))
    fits = values[values <= n_distinct]
    if fits.size == 0:
        raise ValueError(
            f"n_components='auto' cannot fit any candidate K in {values.tolist()}: the data has only "
            f"{n_distinct} distinct value(s). Give candidates of at most {n_distinct}."
        )
    return fits


def count_distinct_rows(X, limit):
    """Number of distinct rows of a 2-D array, or any number >= ``limit`` once that many are seen."""
    prefix = np.unique(X[:4096], axis=0).shape[0]
    return prefix if prefix >= limit else np.unique(X, axis=0).shape[0]


def select_n_components(X, sample_weight=None, *, candidates=CANDIDATES, effective_size=EFFECTIVE_SIZE,
                        **gmm_params) -> ComponentSelection:
    """Choose K by the effective-size ICL (module docstring) over independent mixtures.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        E.g. an image's distinct colours, with their counts as ``sample_weight`` (the exact fast path).
    sample_weight : array-like of shape (n_samples,), optional
    candidates : sequence of int, default=1..8
        Candidates larger than the number of distinct samples are skipped; if none is left,
        ``ValueError``.
    effective_size : float > 1, default=300
    **gmm_params
        Passed to :class:`gmm.GaussianMixture` for every candidate (``random_state``, ...).

    Returns
    -------
    ComponentSelection
    """
    from gmm.mixture import GaussianMixture

    if not isinstance(effective_size, numbers.Real) or not np.isfinite(effective_size) or effective_size <= 1:
        raise ValueError(f"effective_size must be a finite number > 1, got {effective_size!r}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features), got {X.shape}")
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    support = X if weights is None else X[weights > 0]
    given = check_candidates(candidates, np.inf)
    fits = check_candidates(given, count_distinct_rows(support, limit=int(given.max())))

    covariance_type = gmm_params.get("covariance_type", "full")
    loglik, entropy, n_params, models = [], [], [], []
    for K in fits:
        model = GaussianMixture(int(K), **gmm_params).fit(X, sample_weight=weights)
        models.append(model)
        loglik.append(model.score(X, sample_weight=weights))
        entropy.append(mean_entropy(model.predict_proba(X), weights))
        n_params.append(n_parameters(K, X.shape[1], covariance_type))
    score = icl_score(loglik, entropy, n_params, effective_size)
    return ComponentSelection(int(fits[int(np.argmax(score))]), fits, score, np.array(loglik), np.array(entropy),
                              np.array(n_params), float(effective_size), tuple(models))

"""Pure functions of the Student-t mixture's maths (Peel & McLachlan 2000; McLachlan & Peel 2000, ch. 7).

The model has two latent variables per sample: the component ``z`` and a scale ``u``,

    z ~ Cat(pi),   u | z=k ~ Gamma(nu_k / 2, rate nu_k / 2),   x | u, z=k ~ N(mu_k, Sigma_k / u),

so that ``x | z=k`` is the multivariate t with ``nu_k`` degrees of freedom, location ``mu_k`` and
scale matrix ``Sigma_k``. Given ``z = k`` the posterior of the scale is Gamma(a_k, b_nk) with
``a_k = (nu_k + p) / 2`` and ``b_nk = (nu_k + delta_nk) / 2`` (``delta`` the squared Mahalanobis
distance, ``p`` the number of features), hence ``E[u] = a / b`` and ``E[log u] = psi(a) - log b``.

Conventions are those of :mod:`gmm._gaussian` (precision factors ``U`` with ``P = U U^T``;
samples last: ``XT`` of shape (d, n), per-sample results (K, n); M-step sums take responsibilities
already multiplied by the sample weights, so weights act exactly as repeated rows).

Numerics: every quantity involving ``nu`` is written through ``s = E[u] - 1 = (p - delta) /
(nu + delta)``, :func:`stirling_remainder` and :func:`digamma_minus_log`, so that no term of
size ``nu`` cancels another: the formulas stay accurate to rounding as ``nu`` grows towards the
Gaussian limit (``lgamma(nu/2 + p/2) - lgamma(nu/2)`` taken directly loses 1e-8 at nu = 1e8).
"""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.optimize import brentq

from gmm import _gaussian as G
from gmm._validation import row_keys

#: Degrees of freedom the estimate is kept within. A component on a point mass runs to the lower
#: bound (see ``StudentTMixture``); at the upper one a t's log-density differs from the Gaussian's
#: by ``(delta^2 - 2 p delta + p (p - 2)) / (4 nu)``, 1e-5 nats at a typical sample.
DOF_BOUNDS = (1e-2, 1e6)
#: Above this argument the asymptotic series below are exact to rounding (next term < 1e-17).
_ASYMPTOTIC = 20.0
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


# --------------------------------------------------------------- special functions
def stirling_remainder(x):
    """``lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2)``, accurate for large ``x``: shape of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    large = np.maximum(x, _ASYMPTOTIC)  # the series, evaluated where it converges
    y = 1.0 / large**2
    series = (1 / 12 - y * (1 / 360 - y * (1 / 1260 - y * (1 / 1680 - y / 1188)))) / large
    small = np.minimum(x, _ASYMPTOTIC)
    direct = special.gammaln(small) - ((small - 0.5) * np.log(small) - small + _HALF_LOG_2PI)
    return np.where(x >= _ASYMPTOTIC, series, direct)


def digamma_minus_log(x):
    """``psi(x) - log x`` (negative, rising to 0), accurate for large ``x``: shape of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    large = np.maximum(x, _ASYMPTOTIC)
    y = 1.0 / large**2
    series = -0.5 / large - y * (1 / 12 - y * (1 / 120 - y * (1 / 252 - y * (1 / 240 - y / 132))))
    small = np.minimum(x, _ASYMPTOTIC)
    return np.where(x >= _ASYMPTOTIC, series, special.digamma(small) - np.log(small))


def log_gamma_ratio(dof, n_features):
    """``lgamma((nu + p)/2) - lgamma(nu/2) - (p/2) log(nu/2)``, which tends to 0 as ``nu`` grows: (K,)."""
    x, h = 0.5 * np.asarray(dof, dtype=np.float64), 0.5 * n_features
    return (x + h - 0.5) * np.log1p(h / x) - h + stirling_remainder(x + h) - stirling_remainder(x)


# ----------------------------------------------------------------------- validation
def check_distinct_samples(X, sample_weight, n_components):
    """Refuse fewer distinct rows (of positive weight) than components.

    A Gaussian mixture lets a surplus component go empty; a t component also has ``nu`` to
    estimate, which no data identify. Only the first rows are sorted when they already suffice.
    """
    support = X if sample_weight is None else X[sample_weight > 0]
    if np.unique(row_keys(support[:4096])).size >= n_components:
        return
    n_distinct = np.unique(row_keys(support)).size
    if n_distinct < n_components:
        note = "" if sample_weight is None else " (rows with positive weight)"
        raise ValueError(f"Expected at least n_components = {n_components} distinct samples{note}, got "
                         f"{n_distinct}: a Student-t component needs data to place it and to estimate its "
                         "degrees of freedom. Lower n_components.")


# --------------------------------------------------------------------------- E-step
def log_joint(XT, weights, means, precisions_chol, covariance_type, dof):
    """``log pi_k + log t(x_n | mu_k, Sigma_k, nu_k)`` and the squared Mahalanobis distances.

    Returns
    -------
    log_joint, mahalanobis : ndarray of shape (n_components, n_samples)
    """
    n_features = XT.shape[0]
    dof = np.asarray(dof, dtype=np.float64)
    maha = G.mahalanobis_sq(XT, means, precisions_chol, covariance_type)
    log_det = np.broadcast_to(G.log_det_cholesky(precisions_chol, covariance_type, n_features), weights.shape)
    out = np.log1p(maha / dof[:, np.newaxis])
    out *= -0.5 * (dof + n_features)[:, np.newaxis]
    with np.errstate(divide="ignore"):  # a weight of exactly 0 gives -inf, as it should
        offsets = np.log(weights) + log_det - n_features * _HALF_LOG_2PI + log_gamma_ratio(dof, n_features)
    out += offsets[:, np.newaxis]
    return out, maha


def e_step(XT, sample_weight, weights, means, precisions_chol, covariance_type, dof):
    """E-step over ``(z, u)``: the ELBO's sums and the posterior expectations the M-step needs.

    ``E_q[log p(x, z, u)]`` and ``H(q)`` are computed from their own formulas (Gamma prior and
    posterior of ``u``, Gaussian given ``u``), not from ``log t``, so that ``ELBO = log p(x)``
    after the E-step is a check of the maths, not an identity of the code.

    Returns
    -------
    terms : dict of float
        Weighted sums: ``log_likelihood``, ``expected_complete`` (which includes
        ``scale_expected = E_q[log p(u | z, nu)]``) and ``entropy`` (which includes
        ``scale_entropy = E_q(z)[H(q(u | z))]``).
    weighted_resp : ndarray of shape (K, n)
        Responsibilities times sample weights.
    s : ndarray of shape (K, n)
        ``E[u | x, z=k] - 1``.
    """
    n_features = XT.shape[0]
    dof = np.asarray(dof, dtype=np.float64)
    joint, maha = log_joint(XT, weights, means, precisions_chol, covariance_type, dof)
    log_prob_norm, resp, log_resp = G.normalize_log_joint(joint)
    if sample_weight is not None:
        resp *= sample_weight
    x, a = 0.5 * dof, 0.5 * (dof + n_features)
    nu = dof[:, np.newaxis]
    s = (n_features - maha) / (nu + maha)
    log1p_s = np.log1p(s)
    expected_log_u = digamma_minus_log(a)[:, np.newaxis] + log1p_s
    # E[log Gamma(u; x, x)] = x log x - lgamma(x) + (x - 1) E[log u] - x E[u], without x-sized terms.
    prior_const = 0.5 * np.log(x) - _HALF_LOG_2PI - stirling_remainder(x)
    prior = prior_const[:, np.newaxis] + (x - 1)[:, np.newaxis] * expected_log_u - x[:, np.newaxis] * s
    log_det = np.broadcast_to(G.log_det_cholesky(precisions_chol, covariance_type, n_features), weights.shape)
    with np.errstate(divide="ignore"):
        gauss_const = np.log(weights) + log_det - n_features * _HALF_LOG_2PI
    gauss = gauss_const[:, np.newaxis] + 0.5 * n_features * expected_log_u - 0.5 * (1 + s) * maha
    # Entropy of Gamma(a, b): a - log b + lgamma(a) + (1 - a) psi(a), rewritten with log(a/b) = log1p(s).
    entropy_const = -0.5 * np.log(a) + _HALF_LOG_2PI + stirling_remainder(a) + (1 - a) * digamma_minus_log(a)
    lowest = np.finfo(np.float64).min  # 0 * (-inf) = 0 where a weight pi_k is exactly 0
    q = resp.ravel()
    scale_expected = float(q @ prior.ravel())
    scale_entropy = float(resp.sum(axis=1) @ entropy_const + q @ log1p_s.ravel())
    terms = {
        "log_likelihood": float(np.sum(log_prob_norm) if sample_weight is None else sample_weight @ log_prob_norm),
        "expected_complete": float(q @ np.maximum(gauss, lowest).ravel()) + scale_expected,
        "entropy": -float(q @ np.maximum(log_resp, lowest).ravel()) + scale_entropy,
        "scale_expected": scale_expected,
        "scale_entropy": scale_entropy,
    }
    return terms, resp, s


# --------------------------------------------------------------------------- M-step
def m_step_statistics(XT, weighted_resp, s, dof, covariance_type):
    """Soft counts, u-weighted means, unregularised scatter and the sums the ``nu`` update needs.

    ``mu_k = sum_n r_nk u_nk x_n / sum_n r_nk u_nk`` and
    ``Sigma_k = sum_n r_nk u_nk (x_n - mu_k)(x_n - mu_k)^T / sum_n r_nk`` (Peel & McLachlan's
    M-step; ``r`` the weighted responsibilities, ``u`` the E-step's ``E[u]``).

    Returns
    -------
    nk : ndarray of shape (K,)
        ``sum_n r_nk`` plus scikit-learn's ``10 * eps``.
    means : ndarray of shape (K, d)
    scatter : ndarray, shaped by ``covariance_type``
    scale_sums : dict of ndarray of shape (K,)
        ``log_u``: ``sum_n r_nk E[log u_nk]``; ``s``: ``sum_n r_nk s_nk``; ``gap``:
        ``sum_n r_nk (log1p(s_nk) - s_nk)``, the part of ``E[log u] - E[u] + 1`` that varies
        with the sample (computed apart: it is O(s^2) where the other two are O(s)).
    """
    nk = weighted_resp.sum(axis=1) + 10 * np.finfo(np.float64).eps
    ru = weighted_resp * (1.0 + s)
    means = G.estimate_weighted_moments(XT, ru)[1]
    base = "full" if covariance_type in ("full", "tied") else "diag"
    scatter = G.estimate_covariances(XT, ru, nk, means, base)
    if covariance_type == "tied":
        scatter = np.einsum("k,kij->ij", nk, scatter) / nk.sum()
    elif covariance_type == "spherical":
        scatter = scatter.mean(axis=1)
    counts = nk - 10 * np.finfo(np.float64).eps
    log1p_s = np.log1p(s)
    a = 0.5 * (np.asarray(dof, dtype=np.float64) + XT.shape[0])
    scale_sums = {"log_u": counts * digamma_minus_log(a) + np.einsum("kn,kn->k", weighted_resp, log1p_s),
                  "s": np.einsum("kn,kn->k", weighted_resp, s),
                  "gap": np.einsum("kn,kn->k", weighted_resp, log1p_s - s)}
    return nk, means, scatter, scale_sums


def update_dof(dof, nk, scale_sums, n_features, bounds=DOF_BOUNDS):
    """The degrees of freedom maximising the expected complete log-likelihood: shape (K,).

    Per component, ``nu`` solves ``log(nu/2) - psi(nu/2) + 1 + sum_n r_n (E[log u_n] - E[u_n]) /
    N_k = 0`` (McLachlan & Peel 2000, eq. 7.23), with the expectations from the E-step. Written as
    ``psi(nu/2) - log(nu/2) = target`` (left side increasing in ``nu``, ``target <= 0``) it has at
    most one root; it is found by ``brentq`` in ``log nu``, and ``nu`` is clipped to ``bounds``
    (still an M-step: the objective is concave in ``nu``, so the clipped value is its maximum on
    the interval, which holds the old ``nu``). A component with no weight keeps its ``nu``.

    As ``psi(x) - log x`` increases and ``log1p(s) - s <= 0``, the root is at most
    ``(nu_old + p) / 2``: one update raises ``nu`` by at most ``p``.
    """
    counts = nk - 10 * np.finfo(np.float64).eps
    dof = np.asarray(dof, dtype=np.float64)
    new = dof.copy()
    for k in np.flatnonzero(counts > 0):
        target = float(digamma_minus_log(0.5 * (dof[k] + n_features)) + scale_sums["gap"][k] / counts[k])
        new[k] = _solve_dof(target, bounds)
    return new


def _solve_dof(target, bounds):
    """``nu`` in ``bounds`` with ``psi(nu/2) - log(nu/2) = target`` (clipped to the bounds)."""
    def f(log_dof):
        return float(digamma_minus_log(0.5 * np.exp(log_dof))) - target

    low, high = np.log(bounds)
    if f(low) >= 0:
        return float(bounds[0])
    if f(high) <= 0:
        return float(bounds[1])
    return float(np.exp(brentq(f, low, high, xtol=1e-13, rtol=4 * np.finfo(float).eps)))


def expected_log_joint(nk, weights, scatter, precisions, log_det, covariance_type, n_features, dof, scale_sums):
    """``E_q[log p(x, z, u | theta_new)]`` right after the M-step from ``q``, in closed form.

    The Gaussian part is :func:`gmm._gaussian.expected_log_joint`'s (the M-step's means are the
    ``r u``-weighted means, so its quadratic terms are ``N_k tr(P_k S_k)``) plus
    ``(p/2) sum_n r_n E[log u_n]``; the scale prior adds ``N_k (x log x - lgamma(x)) + (x - 1)
    sum_n r_n E[log u_n] - x sum_n r_n E[u_n]`` with ``x = nu_new / 2``, written without x-sized terms.

    Returns
    -------
    total, scale_part : float
        The whole sum and its scale-prior part ``E_q[log p(u | z, nu_new)]``.
    """
    counts = nk - 10 * np.finfo(np.float64).eps
    x = 0.5 * np.asarray(dof, dtype=np.float64)
    log_det = np.broadcast_to(log_det, nk.shape)
    gauss = G.expected_log_joint(nk, weights, scatter, precisions, log_det, covariance_type, n_features)
    gauss += 0.5 * n_features * float(np.sum(scale_sums["log_u"]))
    per_component = counts * (0.5 * np.log(x) - _HALF_LOG_2PI - stirling_remainder(x))
    scale = float(np.sum(per_component + (x - 1) * scale_sums["log_u"] - x * scale_sums["s"]))
    return gauss + scale, scale

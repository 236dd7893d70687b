"""Notebook 08's experiments: EM against gradient optimisers on one objective, and collapse.

Every function takes the data as ``X`` (n, d) with ``sample_weight`` (n,): for an image, its
distinct colours (``gmm.image.to_features``) weighted by their pixel counts, so that mean values
are per pixel. Parameters travel as :mod:`gmm.gradient`'s unconstrained vector ``theta``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from gmm.gradient import (OptimiserTrace, fit_adam, fit_lbfgs, from_mixture, log_likelihood_and_gradient,
                          mean_log_likelihood, pack, posterior, to_mixture_parameters, unpack)
from gmm.mixture import GaussianMixture


def kmeans_start(X, sample_weight, *, n_components, seed) -> np.ndarray:
    """``theta`` of ``GaussianMixture``'s k-means start (a ``max_iter=0`` fit): the common start."""
    start = GaussianMixture(n_components, max_iter=0, random_state=seed).fit(X, sample_weight=sample_weight)
    return from_mixture(start)


def em_trace(theta0, X, sample_weight, *, n_components, max_iter, reg_covar=0.0, tol=0.0) -> OptimiserTrace:
    """EM (``GaussianMixture``) from ``theta0`` as an :class:`OptimiserTrace`.

    Entry ``i`` is the log-likelihood after ``i`` iterations, which EM learns in its next E-step,
    so it has cost ``i + 1`` passes over the data, as an Adam step or an L-BFGS evaluation does.
    The estimator times only the whole fit, so the per-iteration times are that total spread
    evenly (every EM iteration does the same work).
    """
    model = GaussianMixture(n_components, tol=tol, max_iter=max_iter, reg_covar=reg_covar,
                            **to_mixture_parameters(theta0, n_components, np.shape(X)[1]))
    began = time.perf_counter()
    with warnings.catch_warnings():  # tol=0 never "converges": that is the point here
        warnings.simplefilter("ignore")
        model.fit(X, sample_weight=sample_weight)
    seconds = time.perf_counter() - began
    history = model.history_
    values = np.append(history.log_likelihood, history.log_likelihood_m[-1])
    n = values.size
    return OptimiserTrace(np.linspace(0.0, seconds, n), values, np.arange(1, n + 1), from_mixture(model),
                          bool(model.converged_), f"{model.n_iter_} EM iterations")


def first_reaching(trace: OptimiserTrace, target: float):
    """First iteration whose log-likelihood is at least ``target``, or None."""
    hits = np.flatnonzero(trace.log_likelihood >= target)
    return int(hits[0]) if hits.size else None


def summarise(trace: OptimiserTrace, optimum: float, gap: float) -> dict:
    """Iterations, evaluations and seconds to come within ``gap`` of ``optimum``; final gap."""
    hit = first_reaching(trace, optimum - gap)
    return {"reached": hit is not None, "iterations": hit, "evaluations": None if hit is None else
            int(trace.evaluations[hit]), "seconds": None if hit is None else float(trace.seconds[hit]),
            "final_gap": float(optimum - trace.log_likelihood[-1]), "total_evaluations": int(trace.evaluations[-1]),
            "n_nonfinite": trace.n_nonfinite, "converged": trace.converged, "message": trace.message}


def linear_rate(trace: OptimiserTrace, optimum: float, low=1e-10, high=1e-3) -> float:
    """Median ratio of successive gaps ``(optimum - f_{t+1}) / (optimum - f_t)`` while the gap is in
    ``[low, high]``: the contraction per iteration of a linearly converging method like EM."""
    gaps = optimum - np.asarray(trace.log_likelihood, dtype=np.float64)
    inside = (gaps[:-1] >= low) & (gaps[:-1] <= high) & (gaps[1:] >= low)
    if not inside.any():
        raise ValueError(f"no two successive gaps within [{low:g}, {high:g}]")
    return float(np.median(gaps[1:][inside] / gaps[:-1][inside]))


def compare_optimisers(X, sample_weight, *, n_components, seed, em_max_iter, lbfgs_memories, lbfgs_max_iter,
                       adam_learning_rates, adam_max_iter, gap=1e-6):
    """EM, L-BFGS (one run per memory) and Adam (one run per learning rate) from one k-means start.

    EM runs with ``reg_covar=0`` and ``tol=0`` for ``em_max_iter`` iterations; its last value is
    *the optimum* the others are measured against.

    Returns
    -------
    traces : dict of name -> OptimiserTrace
    optimum : float
    summary : dict of name -> :func:`summarise` of that trace
    """
    theta0 = kmeans_start(X, sample_weight, n_components=n_components, seed=seed)
    traces = {"EM": em_trace(theta0, X, sample_weight, n_components=n_components, max_iter=em_max_iter)}
    optimum = float(traces["EM"].log_likelihood[-1])
    for memory in lbfgs_memories:
        traces[f"L-BFGS, memory {memory}"] = fit_lbfgs(theta0, X, sample_weight, n_components=n_components,
                                                       max_iter=lbfgs_max_iter, memory=memory)
    for rate in adam_learning_rates:
        traces[f"Adam, rate {rate:g}"] = fit_adam(theta0, X, sample_weight, n_components=n_components,
                                                  learning_rate=rate, max_iter=adam_max_iter, target=optimum - gap)
    return traces, optimum, {name: summarise(t, optimum, gap) for name, t in traces.items()}


# ---------------------------------------------------------------------- units and conditioning
def rescale(theta, scale, *, n_components, n_features) -> np.ndarray:
    """The same mixture for data multiplied by ``scale``: means times it, precisions over its square."""
    weights, means, factors = unpack(theta, n_components, n_features)
    return pack(weights, means * scale, np.einsum("kij,klj->kil", factors, factors) / scale**2)


def hessian_condition(theta, X, sample_weight, *, n_components, step=1e-5) -> float:
    """Condition number of the log-likelihood's Hessian at ``theta`` in the ``theta`` coordinates.

    The Hessian is the central difference of the analytic gradient (2 p evaluations). The
    direction that shifts every logit alike is flat (it changes nothing), so it is projected out;
    the condition number is the ratio of the largest to the smallest remaining ``|eigenvalue|``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    columns = [(log_likelihood_and_gradient(theta + step * e, X, sample_weight, n_components=n_components)[1]
                - log_likelihood_and_gradient(theta - step * e, X, sample_weight, n_components=n_components)[1])
               / (2 * step) for e in np.eye(theta.size)]
    hessian = np.array(columns)
    flat = np.zeros(theta.size)
    flat[:n_components] = 1 / np.sqrt(n_components)
    projector = np.eye(theta.size) - np.outer(flat, flat)
    eigenvalues = np.abs(np.linalg.eigvalsh(projector @ (hessian + hessian.T) / 2 @ projector))
    kept = np.sort(eigenvalues)[1:]  # drop the flat direction's zero
    return float(kept[-1] / kept[0])


def condition_numbers(theta_opt, X, sample_weight, *, n_components, scales) -> dict:
    """:func:`hessian_condition` at the optimum with the data in other units (``X * scale``)."""
    n_features = np.shape(X)[1]
    return {scale: hessian_condition(rescale(theta_opt, scale, n_components=n_components, n_features=n_features),
                                     np.asarray(X) * scale, sample_weight, n_components=n_components)
            for scale in scales}


def lbfgs_in_units(X, sample_weight, theta0, optimum, *, n_components, scale, memory, max_iter, gap=1e-6) -> dict:
    """L-BFGS from the same start with the data in other units (``X * scale``): :func:`summarise`
    against ``optimum``. The log-likelihood in those units is the one in ``X``'s minus ``d log(scale)``,
    which is added back, so gaps are in ``X``'s units."""
    n_features = np.shape(X)[1]
    trace = fit_lbfgs(rescale(theta0, scale, n_components=n_components, n_features=n_features),
                      np.asarray(X) * scale, sample_weight, n_components=n_components, max_iter=max_iter,
                      memory=memory)
    shifted = OptimiserTrace(trace.seconds, trace.log_likelihood + n_features * np.log(scale), trace.evaluations,
                             trace.theta, trace.converged, trace.message, trace.n_nonfinite)
    return summarise(shifted, optimum, gap)


# ---------------------------------------------------------------------- collapse
def point_collapse_curve(X, sample_weight, *, n_components, seed, sigmas, index=None, max_iter=500) -> dict:
    """Log-likelihood of a mixture with one component on a single value, as its spread shrinks.

    The other ``K - 1`` components are EM's fit (``reg_covar=0``, k-means start, ``seed``); the
    last sits on ``X[index]`` (default: the heaviest value) with covariance ``sigma^2 I`` and
    weight equal to that value's share ``c`` of the total weight. For small ``sigma`` the value's
    own term dominates: the mean log-likelihood grows by ``d c ln(10)`` per decade of ``sigma``.

    Returns dict with ``sigmas``, ``log_likelihood`` (one per sigma), ``index``, ``share``,
    ``predicted_slope`` and ``measured_slope`` (per decade, between the two smallest sigmas).
    """
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    n_features = X.shape[1]
    index = int(np.argmax(w)) if index is None else int(index)
    share = float(w[index] / w.sum())
    start = kmeans_start(X, w, n_components=n_components - 1, seed=seed)
    rest = em_trace(start, X, w, n_components=n_components - 1, max_iter=max_iter, tol=1e-12).theta
    weights, means, factors = unpack(rest, n_components - 1, n_features)
    precisions = np.einsum("kij,klj->kil", factors, factors)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    values = np.array([mean_log_likelihood(
        pack(np.append(weights * (1 - share), share), np.vstack([means, X[index]]),
             np.concatenate([precisions, np.eye(n_features)[np.newaxis] / sigma**2])),
        X, w, n_components=n_components) for sigma in sigmas])
    order = np.argsort(sigmas)
    decades = np.log10(sigmas[order[1]] / sigmas[order[0]])
    return {"sigmas": sigmas, "log_likelihood": values, "index": index, "share": share,
            "predicted_slope": n_features * share * np.log(10),
            "measured_slope": float((values[order[0]] - values[order[1]]) / decades)}


#: A variance below this (in [0, 1] colour units, squared) is a collapse: a millionth of the
#: variance of rounding to a grey level, 1 / (12 * 255^2) = 1.3e-6.
COLLAPSE_VARIANCE = 1e-12


def iterations_until_collapse(X, sample_weight, *, n_components, seed, max_iter):
    """EM with ``reg_covar=0`` from the k-means start, one iteration at a time: the first iteration
    after which a component's variance along some direction is below :data:`COLLAPSE_VARIANCE` or
    not positive at all (``GaussianMixture`` raises), or None if none does in ``max_iter``."""
    n_features = np.shape(X)[1]
    model = GaussianMixture(n_components, reg_covar=0.0, tol=0.0, max_iter=1, warm_start=True,
                            **to_mixture_parameters(kmeans_start(X, sample_weight, n_components=n_components,
                                                                 seed=seed), n_components, n_features))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for iteration in range(1, max_iter + 1):
            try:
                model.fit(X, sample_weight=sample_weight)
            except ValueError:  # "ill-defined empirical covariance": not positive definite
                return iteration
            if smallest_variance(from_mixture(model), n_components=n_components,
                                 n_features=n_features) < COLLAPSE_VARIANCE:
                return iteration
    return None


def reg_covar_sweep(X, sample_weight, *, n_components, seed, reg_covars, tol, max_iter) -> list[dict]:
    """EM from the k-means start for each ``reg_covar``, and where its narrowest component sits.

    Returns one dict per ``reg_covar`` with the final mean ``log_likelihood``, ``n_iter``, the
    ``smallest_variance`` of any component along any direction, that component's ``weight``
    (pixels), the unit ``direction`` of that variance (d,), and ``spread``: the weighted standard
    deviation of ``direction . x`` over the values the component wins (0: they lie on one plane).
    """
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    theta0 = kmeans_start(X, w, n_components=n_components, seed=seed)
    rows = []
    for reg in reg_covars:
        trace = em_trace(theta0, X, w, n_components=n_components, max_iter=max_iter, reg_covar=reg, tol=tol)
        weights, _, factors = unpack(trace.theta, n_components, X.shape[1])
        eigenvalues, eigenvectors = np.linalg.eigh(np.einsum("kij,klj->kil", factors, factors))
        k = int(np.argmax(eigenvalues[:, -1]))  # the largest precision is the smallest variance
        direction = eigenvectors[k][:, -1] * np.sign(eigenvectors[k][np.argmax(np.abs(eigenvectors[k][:, -1])), -1])
        won = posterior(trace.theta, X, w, n_components=n_components)[1].argmax(axis=1) == k
        projection = X[won] @ direction
        mean = np.average(projection, weights=w[won])
        rows.append({"reg_covar": reg, "log_likelihood": float(trace.log_likelihood[-1]), "n_iter": trace.n_iter,
                     "smallest_variance": float(1.0 / eigenvalues[k, -1]), "weight": float(weights[k] * w.sum()),
                     "direction": direction,
                     "spread": float(np.sqrt(np.average((projection - mean) ** 2, weights=w[won])))})
    return rows


# ---------------------------------------------------------------------- the conjugate prior
def default_prior(X, sample_weight) -> dict:
    """The Normal-inverse-Wishart prior ``BayesianGaussianMixture`` uses by default: mean prior the
    (weighted) data mean, ``kappa = 1``, ``nu = d`` degrees of freedom, scale matrix the data covariance."""
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    mean = w @ X / w.sum()
    return {"mean": mean, "kappa": 1.0, "nu": float(X.shape[1]),
            "scale": (X - mean).T @ ((X - mean) * w[:, np.newaxis]) / (w.sum() - 1)}


def log_prior(theta, prior, *, n_components, n_features) -> float:
    """``sum_k log NIW(mu_k, Sigma_k)`` up to a constant, in precisions ``P_k = L_k L_k^T``."""
    _, means, factors = unpack(theta, n_components, n_features)
    precisions = np.einsum("kij,klj->kil", factors, factors)
    offsets = means - prior["mean"]
    log_det = 2 * np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    return float(np.sum(0.5 * (prior["nu"] + n_features + 2) * log_det
                        - 0.5 * np.einsum("ij,kji->k", prior["scale"], precisions)
                        - 0.5 * prior["kappa"] * np.einsum("ki,kij,kj->k", offsets, precisions, offsets)))


def map_em(theta0, X, sample_weight, prior, *, n_components, tol=1e-8, max_iter=500) -> dict:
    """EM for the posterior mode (MAP) under a Normal-inverse-Wishart prior on each component.

    ``sample_weight`` counts observations (pixels): the prior's ``nu + d + 2`` and ``kappa``
    pseudo-observations compete with them. The M-step is the conjugate update
    ``mu_k = (N_k xbar_k + kappa m) / (N_k + kappa)``,
    ``Sigma_k = (Psi + N_k S_k + kappa N_k / (kappa + N_k) (xbar_k - m)(xbar_k - m)^T) / (nu + N_k + d + 2)``,
    with flat weights ``pi_k = N_k / N``; ``Sigma_k`` stays above ``Psi / (nu + N_k + d + 2)``,
    so no component collapses. Stops when the log posterior per unit weight changes by less than ``tol``.

    Returns dict with ``theta``, ``n_iter`` (M-steps done), ``log_likelihood`` (mean, final) and
    ``log_posterior`` (per unit weight, at the start and after each M-step; it never falls).
    """
    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    total, n_features = w.sum(), X.shape[1]
    theta, history = np.asarray(theta0, dtype=np.float64), []
    for iteration in range(max_iter + 1):
        value, resp = posterior(theta, X, w, n_components=n_components)
        history.append(value + log_prior(theta, prior, n_components=n_components, n_features=n_features) / total)
        if iteration == max_iter or (iteration > 0 and abs(history[-1] - history[-2]) < tol):
            break
        weighted = resp * w[:, np.newaxis]
        nk = weighted.sum(axis=0)
        xbar = weighted.T @ X / nk[:, np.newaxis]
        means = (nk[:, np.newaxis] * xbar + prior["kappa"] * prior["mean"]) / (nk + prior["kappa"])[:, np.newaxis]
        covariances = np.empty((n_components, n_features, n_features))
        for k in range(n_components):
            dev, off = X - xbar[k], xbar[k] - prior["mean"]
            shrink = prior["kappa"] * nk[k] / (prior["kappa"] + nk[k])
            covariances[k] = ((prior["scale"] + dev.T @ (dev * weighted[:, k:k + 1]) + shrink * np.outer(off, off))
                              / (prior["nu"] + nk[k] + n_features + 2))
        theta = pack(nk / total, means, np.linalg.inv(covariances))
    return {"theta": theta, "n_iter": iteration, "log_posterior": np.array(history),
            "log_likelihood": mean_log_likelihood(theta, X, w, n_components=n_components)}


def pixel_subsample(sample_weight, size, seed) -> np.ndarray:
    """Rows of ``X`` for ``size`` pixels drawn without replacement (a row of weight c holds c pixels):
    how a model without ``sample_weight`` (``BayesianGaussianMixture``) sees the image."""
    owners = np.repeat(np.arange(len(sample_weight)), np.asarray(sample_weight, dtype=np.int64))
    return np.sort(np.random.default_rng(seed).choice(owners, size=min(size, owners.size), replace=False))


def smallest_variance(theta, *, n_components, n_features) -> float:
    """The smallest variance of any component along any direction (1 / largest precision eigenvalue)."""
    _, _, factors = unpack(theta, n_components, n_features)
    return float(1.0 / np.linalg.eigvalsh(np.einsum("kij,klj->kil", factors, factors))[:, -1].max())


def prior_comparison(X, sample_weight, *, n_components, seed, reg_covar, tol, max_iter, n_subsample) -> dict:
    """Four fits of one mixture, each scored by the mean log-likelihood of all of ``X``:

    * ``ml``: EM with ``reg_covar=0`` (the maximum-likelihood iteration);
    * ``reg_covar``: EM with the given ``reg_covar``;
    * ``map``: :func:`map_em` with :func:`default_prior`, weights counted in pixels;
    * ``bgm``: scikit-learn's ``BayesianGaussianMixture`` (variational, the same default prior, a
      Dirichlet prior on the weights) on ``n_subsample`` pixels drawn by :func:`pixel_subsample`
      with ``seed``: it takes no sample weights, and a subsample keeps it fast.

    The first three start from the k-means start with ``seed``. Returns name -> dict with
    ``collapsed`` (a variance below :data:`COLLAPSE_VARIANCE`, or a covariance that stopped being
    positive definite, when the other values are None), ``log_likelihood``, ``smallest_variance``
    and ``n_iter``; ``map`` also has ``floor``, the least variance the prior allows any of its
    components, ``min_k lambda_min(Psi) / (nu + N_k + d + 2)``.
    """
    from sklearn.mixture import BayesianGaussianMixture

    X, w = np.asarray(X, dtype=np.float64), np.asarray(sample_weight, dtype=np.float64)
    n_features = X.shape[1]
    theta0 = kmeans_start(X, w, n_components=n_components, seed=seed)
    fits = {}
    for name, reg in (("ml", 0.0), ("reg_covar", reg_covar)):
        try:
            trace = em_trace(theta0, X, w, n_components=n_components, max_iter=max_iter, reg_covar=reg, tol=tol)
            fits[name] = (trace.theta, trace.n_iter)
        except ValueError:  # a covariance stopped being positive definite
            fits[name] = None
    prior = default_prior(X, w)
    result = map_em(theta0, X, w, prior, n_components=n_components, tol=tol, max_iter=max_iter)
    fits["map"] = (result["theta"], result["n_iter"])
    counts = unpack(result["theta"], n_components, n_features)[0] * w.sum()
    floor = float(np.min(np.linalg.eigvalsh(prior["scale"])[0] / (prior["nu"] + counts + n_features + 2)))
    rows = pixel_subsample(w, n_subsample, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgm = BayesianGaussianMixture(n_components=n_components, weight_concentration_prior_type="dirichlet_distribution",
                                      reg_covar=0.0, tol=tol, max_iter=max_iter, random_state=seed).fit(X[rows])
    fits["bgm"] = (from_mixture(bgm), int(bgm.n_iter_))
    rows = {}
    for name, fit in fits.items():
        if fit is None:
            rows[name] = {"collapsed": True, "log_likelihood": None, "smallest_variance": 0.0, "n_iter": None}
            continue
        variance = smallest_variance(fit[0], n_components=n_components, n_features=n_features)
        rows[name] = {"collapsed": variance < COLLAPSE_VARIANCE, "smallest_variance": variance, "n_iter": fit[1],
                      "log_likelihood": mean_log_likelihood(fit[0], X, w, n_components=n_components)}
    rows["map"]["floor"] = floor
    return rows

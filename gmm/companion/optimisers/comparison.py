"""EM against L-BFGS and Adam from one k-means start: the traces, how soon each comes within a
gap of the optimum, EM's linear rate, and the conditioning of the problem in other units.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from gmm.gradient import (OptimiserTrace, fit_adam, fit_lbfgs, from_mixture, log_likelihood_and_gradient, pack,
                          to_mixture_parameters, unpack)
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

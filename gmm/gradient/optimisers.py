"""Two gradient optimisers on the objective, L-BFGS and Adam, and the trace each leaves."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gmm.gradient.objective import _check_data, _value_and_gradient


@dataclass(frozen=True)
class OptimiserTrace:
    """What an optimiser did, one entry per iteration (entry 0 is the start).

    Attributes
    ----------
    seconds : ndarray of shape (n_iter + 1,)
        Wall time since the optimiser started (0 at the start).
    log_likelihood : ndarray of shape (n_iter + 1,)
        Mean log-likelihood after each iteration.
    evaluations : ndarray of shape (n_iter + 1,), int
        Cumulative objective-and-gradient evaluations (passes over the data).
    theta : ndarray
        The last parameters.
    converged : bool
        The optimiser's own stopping rule was met (not the iteration budget); False also when it
        stopped on an error or a non-finite value.
    message : str
    n_nonfinite : int
        Evaluations that gave a non-finite value or gradient (overflow: a step too far).
    """

    seconds: np.ndarray
    log_likelihood: np.ndarray
    evaluations: np.ndarray
    theta: np.ndarray
    converged: bool
    message: str
    n_nonfinite: int = 0

    @property
    def n_iter(self) -> int:
        return self.log_likelihood.shape[0] - 1


def fit_lbfgs(theta0, X, sample_weight=None, *, n_components: int, max_iter: int = 1000,
              gtol: float = 1e-10, ftol: float = 1e-15, memory: int = 10) -> OptimiserTrace:
    """Maximise the mean log-likelihood by L-BFGS (``scipy.optimize.minimize``, analytic gradient).

    ``gtol`` and ``ftol`` are scipy's stopping rules, tight by default so that the run stops at
    the optimum rather than near it; ``memory`` is the number of correction pairs kept.
    """
    from scipy.optimize import minimize

    XT, w = _check_data(X, sample_weight)
    count, nonfinite, history, last = [0], [0], [], {}

    def objective(theta):
        if last.get("theta") is not None and np.array_equal(theta, last["theta"]):
            return last["result"]  # scipy re-asks for the start, which we scored already
        count[0] += 1
        value, gradient = _value_and_gradient(theta, XT, w, n_components)
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            nonfinite[0] += 1
            value, gradient = -np.inf, np.zeros_like(theta)  # the line search backs off from it
        last.update(theta=np.array(theta), result=(-value, -gradient))
        return last["result"]

    def record(intermediate_result):
        history.append((time.perf_counter() - began, -float(intermediate_result.fun), count[0]))

    began = time.perf_counter()
    history.append((0.0, -objective(np.asarray(theta0, dtype=np.float64))[0], count[0]))
    result = minimize(objective, np.asarray(theta0, dtype=np.float64), jac=True, method="L-BFGS-B",
                      callback=record, options={"maxiter": max_iter, "maxfun": 20 * max_iter, "gtol": gtol,
                                                "ftol": ftol, "maxcor": memory})
    seconds, values, evaluations = (np.array(column) for column in zip(*history))
    stopped_by_budget = result.nit >= max_iter or result.nfev >= 20 * max_iter
    return OptimiserTrace(seconds, values, evaluations.astype(np.int64), result.x,
                          bool(result.success and not stopped_by_budget and np.isfinite(result.fun)),
                          str(result.message), nonfinite[0])


def fit_adam(theta0, X, sample_weight=None, *, n_components: int, learning_rate: float = 1e-2,
             max_iter: int = 1000, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
             target: float | None = None) -> OptimiserTrace:
    """Maximise the mean log-likelihood by full-batch Adam (Kingma & Ba 2015), written out.

    Stops after ``max_iter`` steps, at a non-finite value (``converged=False``), or once the
    log-likelihood reaches ``target`` when one is given (``converged=True``): Adam has no
    stopping rule of its own. Every step costs one evaluation.
    """
    XT, w = _check_data(X, sample_weight)
    theta = np.array(theta0, dtype=np.float64)
    first, second = np.zeros_like(theta), np.zeros_like(theta)
    began = time.perf_counter()
    value, gradient = _value_and_gradient(theta, XT, w, n_components)
    history = [(0.0, value)]
    converged, message, nonfinite = False, "iteration budget spent", 0
    for step in range(1, max_iter + 1):
        first = beta1 * first + (1 - beta1) * gradient
        second = beta2 * second + (1 - beta2) * gradient**2
        theta = theta + learning_rate * (first / (1 - beta1**step)) / (np.sqrt(second / (1 - beta2**step)) + eps)
        value, gradient = _value_and_gradient(theta, XT, w, n_components)
        history.append((time.perf_counter() - began, value))
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            message, nonfinite = f"non-finite log-likelihood or gradient at step {step}", 1
            break
        if target is not None and value >= target:
            converged, message = True, f"reached the target at step {step}"
            break
    seconds, values = (np.array(column) for column in zip(*history))
    return OptimiserTrace(seconds, values, np.arange(values.size, dtype=np.int64) + 1, theta, converged, message,
                          nonfinite)

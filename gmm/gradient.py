"""The mixture's log-likelihood as a smooth function of unconstrained parameters, and two
gradient optimisers on it: the comparison with EM (notebook 08).

EM never needs the constraints spelled out: its M-step returns weights on the simplex and
positive-definite covariances by construction. A gradient method needs a parametrisation in
which every vector is a valid mixture. We use the standard one:

* weights ``pi = softmax(a)`` from ``K`` logits ``a`` (adding a constant to every logit changes
  nothing: the objective is flat along that direction and its gradient is orthogonal to it);
* means ``mu_k`` as they are;
* precisions ``P_k = L_k L_k^T`` with ``L_k`` lower triangular and ``diag(L_k) = exp(s_k)``
  (log-Cholesky): any real ``s_k`` and off-diagonal entries give a positive-definite ``P_k``,
  and ``log |P_k|^(1/2) = sum(s_k)``.

The vector ``theta`` stacks ``a`` (K), the means row by row (K d), then for each component the
``d (d + 1) / 2`` entries of ``L_k`` in ``numpy.tril_indices`` order, diagonal entries as logs.
The objective is the *mean* weighted log-likelihood ``sum_n w_n log p(x_n) / sum_n w_n``, the
quantity ``GaussianMixture.history_.log_likelihood`` records, with no ``reg_covar``: the same
function EM with ``reg_covar=0`` climbs. Full covariances only (the others are special cases).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

_LOG_2PI = np.log(2.0 * np.pi)


# ----------------------------------------------------------------------- parameter maps
def n_parameters(n_components: int, n_features: int) -> int:
    """Length of ``theta``: ``K (1 + d + d (d + 1) / 2)``."""
    return n_components * (1 + n_features + n_features * (n_features + 1) // 2)


def pack(weights, means, precisions) -> np.ndarray:
    """``theta`` from a mixture's weights (K,), means (K, d) and precision matrices (K, d, d).

    The factor is the lower Cholesky factor of each precision matrix (the one with a positive
    diagonal, so the map is one-to-one); ``GaussianMixture.precisions_`` can be passed as is.
    Returns an ndarray of shape (n_parameters(K, d),).
    """
    weights, means = np.asarray(weights, dtype=np.float64), np.asarray(means, dtype=np.float64)
    factors = np.linalg.cholesky(np.asarray(precisions, dtype=np.float64))
    n_components, n_features = means.shape
    rows, cols = np.tril_indices(n_features)
    triangles = factors[:, rows, cols]
    on_diagonal = rows == cols
    triangles[:, on_diagonal] = np.log(triangles[:, on_diagonal])
    logits = np.log(weights) - np.log(weights).mean()  # the flat direction's centred representative
    return np.concatenate([logits, means.ravel(), triangles.ravel()])


def unpack(theta, n_components: int, n_features: int):
    """Inverse of :func:`pack`.

    Returns
    -------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    factors : ndarray of shape (K, d, d)
        Lower-triangular ``L_k`` with ``P_k = L_k L_k^T``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_parameters(n_components, n_features),):
        raise ValueError(f"theta must have shape ({n_parameters(n_components, n_features)},) for "
                         f"K={n_components}, d={n_features}; got {theta.shape}")
    logits = theta[:n_components]
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    split = n_components * (1 + n_features)
    means = theta[n_components:split].reshape(n_components, n_features)
    rows, cols = np.tril_indices(n_features)
    triangles = theta[split:].reshape(n_components, rows.size).copy()
    on_diagonal = rows == cols
    triangles[:, on_diagonal] = np.exp(triangles[:, on_diagonal])
    factors = np.zeros((n_components, n_features, n_features))
    factors[:, rows, cols] = triangles
    return weights, means, factors


def to_mixture_parameters(theta, n_components: int, n_features: int) -> dict:
    """``theta`` as ``GaussianMixture`` initial parameters: ``weights_init``, ``means_init``,
    ``precisions_init`` (full), so that ``GaussianMixture(K, **to_mixture_parameters(...))``
    starts from it (and ``max_iter=0`` scores it)."""
    weights, means, factors = unpack(theta, n_components, n_features)
    return {"weights_init": weights, "means_init": means,
            "precisions_init": np.einsum("kij,klj->kil", factors, factors)}


def from_mixture(model) -> np.ndarray:
    """``theta`` of a fitted full-covariance ``GaussianMixture`` (or scikit-learn's)."""
    if model.covariance_type != "full":
        raise ValueError(f"only covariance_type='full' is parametrised here, got {model.covariance_type!r}")
    return pack(model.weights_, model.means_, model.precisions_)


# ----------------------------------------------------------------------- the objective
def _log_joint(XT, weights, means, factors):
    """``log pi_k + log N(x_n | mu_k, P_k^-1)`` (K, n), and per component the deviations
    ``z = x - mu_k`` and whitened deviations ``y = L_k^T z``, each (d, n).

    Samples last and one component at a time, as in :mod:`gmm._gaussian`: every operation then
    runs along long contiguous rows, and the products are small BLAS calls.
    """
    n_features, n_samples = XT.shape
    log_det = np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    with np.errstate(divide="ignore"):  # a weight that underflowed to 0 gives -inf, as it should
        offsets = np.log(weights) + log_det - 0.5 * n_features * _LOG_2PI
    log_joint = np.empty((means.shape[0], n_samples))
    deviations, whitened = [], []
    for k in range(means.shape[0]):
        z = XT - means[k][:, np.newaxis]
        y = factors[k].T @ z
        log_joint[k] = offsets[k] - 0.5 * np.einsum("dn,dn->n", y, y)
        deviations.append(z)
        whitened.append(y)
    return log_joint, deviations, whitened


def _check_data(X, sample_weight):
    """Data samples-last (d, n) and weights normalised to sum to 1 (n,)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features), got {X.shape}")
    weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (X.shape[0],) or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError("sample_weight must be non-negative, one per sample, with a positive sum")
    return np.ascontiguousarray(X.T), weights / weights.sum()


def _log_sum_exp(log_joint):
    """``log sum_k exp(log_joint[k])`` per sample: shape (n,)."""
    top = log_joint.max(axis=0)
    return top + np.log(np.exp(log_joint - top).sum(axis=0))


def mean_log_likelihood(theta, X, sample_weight=None, *, n_components: int) -> float:
    """``sum_n w_n log p(x_n | theta) / sum_n w_n``; X of shape (n, d), sample_weight (n,)."""
    XT, w = _check_data(X, sample_weight)
    log_joint, _, _ = _log_joint(XT, *unpack(theta, n_components, XT.shape[0]))
    return float(w @ _log_sum_exp(log_joint))


def posterior(theta, X, sample_weight=None, *, n_components: int):
    """The E-step at ``theta``: mean weighted log-likelihood and responsibilities.

    Returns
    -------
    value : float
    responsibilities : ndarray of shape (n_samples, n_components)
        ``p(z_n = k | x_n, theta)``; each row sums to 1.
    """
    XT, w = _check_data(X, sample_weight)
    log_joint, _, _ = _log_joint(XT, *unpack(theta, n_components, XT.shape[0]))
    log_norm = _log_sum_exp(log_joint)
    return float(w @ log_norm), np.exp(log_joint - log_norm).T


def log_likelihood_and_gradient(theta, X, sample_weight=None, *, n_components: int):
    """The mean weighted log-likelihood and its gradient with respect to ``theta``.

    With responsibilities ``r_nk``, ``N_k = sum_n w_n r_nk`` (weights normalised to sum to 1),
    ``z = x - mu_k``, ``y = L_k^T z`` and ``S_k = sum_n w_n r_nk z z^T``:

    * ``d/da_k = N_k - pi_k``;
    * ``d/dmu_k = L_k sum_n w_n r_nk y_n``;
    * ``d/dL_k = -S_k L_k + N_k diag(1 / L_ii)``, lower triangle; for a log-diagonal entry
      ``s_i`` the chain rule multiplies by ``L_ii``.

    Parameters
    ----------
    theta : ndarray of shape (n_parameters(K, d),)
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,), optional
    n_components : int

    Returns
    -------
    value : float
    gradient : ndarray of shape (n_parameters(K, d),)
    """
    XT, w = _check_data(X, sample_weight)
    return _value_and_gradient(theta, XT, w, n_components)


def _value_and_gradient(theta, XT, w, n_components):
    """:func:`log_likelihood_and_gradient` on checked data: XT (d, n), w (n,) summing to 1."""
    n_features = XT.shape[0]
    weights, means, factors = unpack(theta, n_components, n_features)
    log_joint, deviations, whitened = _log_joint(XT, weights, means, factors)
    log_norm = _log_sum_exp(log_joint)
    weighted_resp = np.exp(log_joint - log_norm) * w                      # w_n r_nk, (K, n)
    nk = weighted_resp.sum(axis=1)
    grad_means = np.empty_like(means)
    grad_factors = np.empty_like(factors)
    for k in range(n_components):
        weighted_y = whitened[k] * weighted_resp[k]
        grad_means[k] = factors[k] @ weighted_y.sum(axis=1)
        # S_k L_k = sum_n w_n r_nk z_n (L_k^T z_n)^T, without forming S_k.
        grad_factors[k] = -(deviations[k] @ weighted_y.T)
    diagonal = np.arange(n_features)
    grad_factors[:, diagonal, diagonal] += nk[:, np.newaxis] / factors[:, diagonal, diagonal]
    rows, cols = np.tril_indices(n_features)
    grad_triangles = grad_factors[:, rows, cols]
    on_diagonal = rows == cols
    grad_triangles[:, on_diagonal] *= factors[:, rows[on_diagonal], cols[on_diagonal]]
    gradient = np.concatenate([nk - weights, grad_means.ravel(), grad_triangles.ravel()])
    return float(w @ log_norm), gradient


# ----------------------------------------------------------------------- optimisers
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

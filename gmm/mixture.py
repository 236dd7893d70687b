"""``GaussianMixture``: the estimator that owns the EM loop.

A drop-in for ``sklearn.mixture.GaussianMixture`` (same parameters, validation, fitted attributes,
dtypes, warnings and results), plus exact sample weights and the ELBO history (:mod:`gmm.history`).
The maths lives in :mod:`gmm._gaussian` (densities, M-step statistics) and :mod:`gmm._init`; one
EM iteration runs either there (numpy) or in one fused pass over the data (:mod:`gmm._kernels`).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from gmm import _gaussian as G
from gmm import _kernels
from gmm._base import _MixtureBase
from gmm._init import initial_responsibilities
from gmm._validation import (check_initial_parameters, check_n_samples, check_sample_weight, external_stacklevel,
                             validate_samples)
from gmm.history import HistoryRecorder

PARAMETER_NAMES = ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_")


class ComponentCollapseWarning(UserWarning):
    """A component sits on fewer samples than it needs for a covariance: ``reg_covar`` holds it."""


class GaussianMixture(_MixtureBase):
    """Gaussian mixture fitted by EM, with exact sample weights and an ELBO history.

    Parameters, fitted attributes and behaviour are those of ``sklearn.mixture.GaussianMixture``
    (float32 data give float32 attributes and outputs); ``fit``, ``fit_predict``, ``score``,
    ``bic`` and ``aic`` also take ``sample_weight``, which acts exactly as repeated rows.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    tol : float, default=1e-3
        EM stops when the mean log-likelihood changes by less than ``tol`` (strictly) between
        iterations; ``tol=0`` runs ``max_iter`` iterations.
    reg_covar : float, default=1e-6
        Added to the variances so that no covariance becomes singular.
    max_iter : int, default=100
    n_init : int, default=1
        Number of starts; the one with the highest final lower bound is kept (with
        ``max_iter=0``, the last one, as in scikit-learn).
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
    weights_init, means_init, precisions_init : array-like, optional
        Explicit initial parameters; they override the ones derived from ``init_params``.
    random_state : int, RandomState or None, default=None
    warm_start : bool, default=False
        Start each ``fit`` from the previous solution (then ``n_init`` is ignored).
    verbose : int, default=0
    verbose_interval : int, default=10

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shapes by ``covariance_type`` as in scikit-learn.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood (per unit weight) at the start of the last M-step of the best start.
    lower_bounds_ : list of float
        ``lower_bound_`` per iteration of the best start.
    history_ : gmm.history.EMHistory
        Log-likelihood, ELBO, its two terms and the KL gap per iteration of the best start.
    collapsed_components_ : ndarray of int
        Components held by ``reg_covar`` on fewer samples than they need (see ``fit``).
    n_features_in_ : int
    """

    _parameter_names = PARAMETER_NAMES

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6, max_iter=100,
                 n_init=1, init_params="kmeans", weights_init=None, means_init=None, precisions_init=None,
                 random_state=None, warm_start=False, verbose=0, verbose_interval=10):
        super().__init__(n_components, covariance_type=covariance_type, tol=tol, reg_covar=reg_covar,
                         max_iter=max_iter, n_init=n_init, init_params=init_params, weights_init=weights_init,
                         means_init=means_init, precisions_init=precisions_init, random_state=random_state,
                         warm_start=warm_start, verbose=verbose, verbose_interval=verbose_interval)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters by EM. ``sample_weight`` acts exactly as repeated rows.

        Warns with ``ConvergenceWarning`` when the best start did not converge, and with
        :class:`ComponentCollapseWarning` when a component sits on fewer than ``d + 1`` samples
        (in units of weight) and so is held by ``reg_covar`` along a direction in which the data
        spread at least 100 times more. A component on many identical samples (a saturated
        region of a photo) is a point mass the data really have: no warning.
        """
        return super().fit(X, y, sample_weight=sample_weight)

    def _fit(self, X, sample_weight, random_state):
        X = validate_samples(self, X, reset=True, ensure_min_samples=2)
        given = check_sample_weight(sample_weight, X.shape[0])
        check_n_samples(X.shape[0], given, self.n_components)
        self._initial = check_initial_parameters(self, X.shape[1])
        data = _kernels.prepare(X, given)
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        if not do_init:  # continue in float64 from attributes that may have been cast to float32
            self._set_parameters(tuple(np.asarray(p, dtype=np.float64) for p in self._get_parameters()))
        best, max_lower_bound, self.converged_ = None, -np.inf, False
        for init in range(self.n_init if do_init else 1):
            clock = _verbose_start(self, init)
            if do_init:
                self._initialize(data, random_state)
            recorder = HistoryRecorder(data.total)
            if self.max_iter == 0:  # scikit-learn keeps the last start's parameters
                best = dict(params=self._get_parameters(), n_iter=0, bounds=[], recorder=recorder)
                continue
            lower_bound = -np.inf if do_init else self.lower_bound_
            bounds, converged = [], False
            for n_iter in range(1, self.max_iter + 1):
                previous, lower_bound = lower_bound, self._em_iteration(data, recorder)
                bounds.append(lower_bound)
                clock = _verbose_iteration(self, clock, n_iter, lower_bound - previous)
                if abs(lower_bound - previous) < self.tol:
                    converged = True
                    break
            _verbose_end(self, clock, lower_bound, converged)
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound, self.converged_ = lower_bound, converged
                best = dict(params=self._get_parameters(), n_iter=n_iter, bounds=bounds, recorder=recorder)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn("Best performing initialization did not converge. Try different init parameters, "
                          "or increase max_iter, tol, or check for degenerate data.", ConvergenceWarning,
                          stacklevel=external_stacklevel())
        self._set_parameters(best["params"])
        self.n_iter_, self.lower_bound_, self.lower_bounds_ = best["n_iter"], max_lower_bound, best["bounds"]
        # Final E-step: labels agree with fit(X).predict(X), and it scores the last M-step.
        labels, log_likelihood_sum = _kernels.label_and_score(data, self._params())
        best["recorder"].close(log_likelihood_sum / data.total)
        self.history_ = best["recorder"].finish()
        self._warn_about_fit(data.total)
        self._set_parameters(tuple(p.astype(X.dtype, copy=False) for p in self._get_parameters()))
        return labels

    def _warn_about_fit(self, total_weight):
        self.collapsed_components_ = collapsed_components(
            self.weights_, self.means_, self.covariances_, self.covariance_type, self.reg_covar, total_weight)
        if self.collapsed_components_.size and self.max_iter > 0:  # max_iter=0: a start is wanted
            names = ", ".join(str(k) for k in self.collapsed_components_)
            warnings.warn(
                f"Component(s) {names} collapsed: each sits on fewer than n_features + 1 = "
                f"{self.means_.shape[1] + 1} samples (in units of sample weight), so its covariance "
                f"along some direction is reg_covar={self.reg_covar:g} alone while the data spread far "
                "more there; its density and the likelihood are set by reg_covar. Lower n_components, "
                "or try another init_params or random_state.",
                ComponentCollapseWarning, stacklevel=external_stacklevel())

    def _initialize(self, data, random_state):
        initial = self._initial
        if any(v is None for v in initial.values()):
            weighted = initial_responsibilities(data.X, data.weights, self.n_components, self.init_params, random_state)
            # scikit-learn's start: weights N_k / n, which sum to K / n after a one-hot start.
            self._update(*G.m_step_statistics(data.XT, weighted, self.covariance_type, data.weights),
                         weight_total=data.total)
        if initial["weights"] is not None:
            self.weights_ = initial["weights"].copy()
        if initial["means"] is not None:
            self.means_ = initial["means"].copy()
        if initial["precisions"] is not None:
            self.precisions_cholesky_ = G.cholesky_from_precisions(initial["precisions"], self.covariance_type)
            self.covariances_ = G.covariances_from_precisions_cholesky(self.precisions_cholesky_, self.covariance_type)
            self.precisions_ = G.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)

    def _em_iteration(self, data, recorder):
        """One E-step and M-step; records the history and returns the lower bound (mean log-lik)."""
        (log_likelihood, expected, entropy), statistics = _kernels.e_step(data, self._params())
        recorder.record_e_step(log_likelihood, expected, entropy)
        recorder.record_m_step(self._update(*statistics))
        return log_likelihood / data.total

    def _update(self, nk, means, scatter, weight_total=None):
        """Parameters from M-step statistics; returns the new expected complete log-likelihood."""
        self.means_ = means
        (self.covariances_, self.weights_, self.precisions_cholesky_, self.precisions_,
         expected) = _kernels.m_step_parameters(nk, scatter, self.reg_covar, self.covariance_type, means.shape[1],
                                                weight_total)
        return expected

    def _params(self):
        """The parameters in float64, as the density functions take them."""
        cast = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
        return cast(self.weights_), cast(self.means_), cast(self.precisions_cholesky_), self.covariance_type

    # --------------------------------------------------------------- inference
    def _log_joint(self, X):
        """Log joint under the fitted parameters, sample-last: shape (K, n), and the output dtype."""
        X = self._validated(X)
        dtype = np.result_type(X.dtype, self.means_.dtype)  # as numpy would promote in scikit-learn
        return G.log_joint(np.ascontiguousarray(X.T), *self._params()), dtype

    def component_log_densities(self, X):
        """``log pi_k + log N(x_n | mu_k, Sigma_k)`` per sample and component: shape (n_samples, K).

        The responsibilities are their softmax over ``k``, so the largest term wins the sample.
        """
        log_joint, dtype = self._log_joint(X)
        return np.ascontiguousarray(log_joint.T, dtype=dtype)

    def mahalanobis(self, X):
        """Mahalanobis distance of every sample to every component: shape (n_samples, K)."""
        X = self._validated(X)
        weights, means, precisions_chol, covariance_type = self._params()
        distances = G.mahalanobis_sq(np.ascontiguousarray(X.T), means, precisions_chol, covariance_type)
        return np.ascontiguousarray(np.sqrt(distances).T, dtype=np.result_type(X.dtype, self.means_.dtype))

    def predict(self, X):
        """Most probable component per sample (hard clustering), the first one on ties: (n_samples,)."""
        return _kernels.argmax_rows(self._log_joint(X)[0])

    def sample(self, n_samples=1):
        """Draw samples: returns ``(X, labels)`` of shapes (n_samples, d) and (n_samples,)."""
        rng = self._sampling_rng(n_samples)
        counts = rng.multinomial(n_samples, np.asarray(self.weights_, dtype=np.float64))
        d = self.means_.shape[1]
        draws = []
        for k, (mean, count) in enumerate(zip(self.means_, counts)):
            if self.covariance_type in ("full", "tied"):
                cov = self.covariances_[k] if self.covariance_type == "full" else self.covariances_
                draws.append(rng.multivariate_normal(mean, cov, int(count)))
            else:
                scale = np.sqrt(self.covariances_[k]) * np.ones(d)
                draws.append(mean + rng.standard_normal((count, d)) * scale)
        labels = np.repeat(np.arange(self.n_components), counts)
        return np.vstack(draws).astype(np.float64), labels


def collapsed_components(weights, means, covariances, covariance_type, reg_covar, total_weight):
    """Components that ``reg_covar`` holds on too few samples: ndarray of int.

    Component ``k`` is collapsed when it sits on fewer than ``d + 1`` samples (``pi_k`` times the
    total weight: fewer cannot span ``d`` dimensions) and along some direction its own variance is
    at most ``reg_covar`` (the regulariser makes at least half of it) while the data, whose
    covariance is the mixture's own at an M-step, spread at least 100 times more. A tied
    covariance is shared, so no single component can collapse.
    """
    n_components, d = means.shape
    if covariance_type == "tied":
        return np.array([], dtype=np.int64)
    weights, means = np.asarray(weights, np.float64), np.asarray(means, np.float64)
    covariances = G.full_matrices(covariances, covariance_type, n_components, d)
    mean = weights @ means
    second = np.einsum("k,kij->ij", weights, covariances + np.einsum("ki,kj->kij", means, means))
    spread = second - np.outer(mean, mean) - reg_covar * np.eye(d)
    floor = 1e-12 * max(float(np.trace(spread)), 0.0)  # rounding in a direction the data lack
    collapsed = []
    for k in np.flatnonzero(weights * total_weight < d + 1):
        values, vectors = np.linalg.eigh(covariances[k] - reg_covar * np.eye(d))
        held = vectors[:, values <= reg_covar]
        if held.shape[1] and np.linalg.eigvalsh(held.T @ spread @ held)[-1] > 100 * (2 * reg_covar + floor):
            collapsed.append(k)
    return np.array(collapsed, dtype=np.int64)


def _verbose_start(model, init):
    if model.verbose:
        print(f"Initialization {init}")
    return time.time(), time.time()


def _verbose_iteration(model, clock, n_iter, change):
    start, previous = clock
    if model.verbose and n_iter % model.verbose_interval == 0:
        if model.verbose == 1:
            print(f"  Iteration {n_iter}")
        else:
            now = time.time()
            print(f"  Iteration {n_iter}\t time lapse {now - previous:.5f}s\t ll change {change:.5f}")
            return start, now
    return clock


def _verbose_end(model, clock, lower_bound, converged):
    message = "converged" if converged else "did not converge"
    if model.verbose == 1:
        print(f"Initialization {message}.")
    elif model.verbose >= 2:
        print(f"Initialization {message}. time lapse {time.time() - clock[0]:.5f}s\t lower bound {lower_bound:.5f}.")

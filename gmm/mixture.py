"""``GaussianMixture``: the estimator that owns the EM loop.

The maths lives in :mod:`gmm._gaussian` (densities, M-step) and :mod:`gmm._init`; this class
validates input, runs EM from one or more starts, keeps the best, and records the ELBO history
(:mod:`gmm.history`). Parameters and fitted attributes follow ``sklearn.mixture.GaussianMixture``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from gmm import _gaussian as G
from gmm._init import INIT_METHODS, initial_responsibilities
from gmm._threads import single_threaded
from gmm._validation import check_enough_distinct, check_initial_parameters, check_sample_weight
from gmm.history import HistoryRecorder


class ComponentCollapseWarning(UserWarning):
    """A component's spread fell below ``reg_covar``: it sits on (nearly) one value."""


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with exact sample weights and an ELBO history.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    tol : float, default=1e-3
        EM stops when the mean log-likelihood changes by less than ``tol`` between iterations.
    reg_covar : float, default=1e-6
        Added to the variances so that no covariance becomes singular.
    max_iter : int, default=100
    n_init : int, default=1
        Number of starts; the one with the highest final lower bound is kept.
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
        Components whose smallest variance is below ``reg_covar`` (held by the regulariser).
    n_features_in_ : int
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # ------------------------------------------------------------------ checks
    def _check_parameters(self, n_features):
        def positive_int(name, minimum):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")

        positive_int("n_components", 1)
        positive_int("n_init", 1)
        positive_int("max_iter", 0)
        if self.covariance_type not in G.COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {G.COVARIANCE_TYPES}, got {self.covariance_type!r}.")
        if self.init_params not in INIT_METHODS:
            raise ValueError(f"init_params must be one of {INIT_METHODS}, got {self.init_params!r}.")
        for name in ("tol", "reg_covar"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
        self._initial = check_initial_parameters(self, n_features)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters by EM. ``sample_weight`` acts exactly as repeated rows."""
        self.fit_predict(X, y, sample_weight=sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each sample: shape (n_samples,)."""
        with single_threaded():
            return self._fit(X, sample_weight)

    def _fit(self, X, sample_weight):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self._check_parameters(X.shape[1])
        given = check_sample_weight(sample_weight, X.shape[0])
        check_enough_distinct(X, given, self.n_components)
        weights = np.ones(X.shape[0]) if given is None else given
        total = float(weights.sum())
        XT = np.ascontiguousarray(X.T)  # sample-last layout, see gmm._gaussian

        do_init = not (self.warm_start and hasattr(self, "converged_"))
        random_state = check_random_state(self.random_state)
        best = None
        for init in range(self.n_init if do_init else 1):
            if do_init:
                self._initialize(X, XT, given, random_state)
            recorder = HistoryRecorder(weights, total)
            lower_bound = -np.inf if do_init else self.lower_bound_
            bounds, converged, n_iter = [], False, 0
            for n_iter in range(1, self.max_iter + 1):
                previous = lower_bound
                log_joint, log_prob_norm, resp, log_resp = self._e_step(XT)
                weighted_resp = _weigh(resp, given)
                recorder.record_e_step(log_joint, log_prob_norm, weighted_resp, log_resp)
                self._m_step(XT, weighted_resp)
                lower_bound = float(weights @ log_prob_norm / total)
                bounds.append(lower_bound)
                if self.verbose >= 2 and n_iter % self.verbose_interval == 0:
                    print(f"  init {init} iteration {n_iter}: change {lower_bound - previous:.6g}")
                if abs(lower_bound - previous) < self.tol:
                    converged = True
                    break
            if best is None or lower_bound > best["lower_bound"]:
                best = dict(lower_bound=lower_bound, params=self._get_parameters(), n_iter=n_iter,
                            bounds=bounds, converged=converged, recorder=recorder)
            if self.verbose:
                print(f"Initialization {init}: converged={converged} lower bound={lower_bound:.6g}")

        self._set_parameters(best["params"])
        self.converged_, self.n_iter_ = best["converged"], best["n_iter"]
        self.lower_bound_, self.lower_bounds_ = best["lower_bound"], best["bounds"]
        # Final E-step: labels agree with fit(X).predict(X), and it scores the last M-step.
        log_joint, log_prob_norm, _, _ = self._e_step(XT)
        best["recorder"].record_e_step(log_joint, log_prob_norm, None, None, last=True)
        self.history_ = best["recorder"].finish()
        self._warn_about_fit()
        return _argmax_rows(log_joint)

    def _warn_about_fit(self):
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                f"EM did not converge in max_iter={self.max_iter} iterations (tol={self.tol}) for "
                "the best initialization. Increase max_iter or tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        unregularised = G.smallest_variances(self.covariances_, self.covariance_type) - self.reg_covar
        self.collapsed_components_ = np.flatnonzero(unregularised < self.reg_covar)
        if self.covariance_type != "tied" and self.collapsed_components_.size:
            names = ", ".join(str(k) for k in self.collapsed_components_)
            warnings.warn(
                f"Component(s) {names} collapsed onto (nearly) a single value: their spread is below "
                f"reg_covar={self.reg_covar:g}, which now holds the covariance. Their likelihood is "
                "not meaningful; consider fewer components.",
                ComponentCollapseWarning,
            )

    def _initialize(self, X, XT, given, random_state):
        initial = self._initial
        if any(v is None for v in initial.values()):
            resp = initial_responsibilities(X, given, self.n_components, self.init_params, random_state)
            self._m_step(XT, _weigh(np.ascontiguousarray(resp.T), given))
        if initial["weights"] is not None:
            self.weights_ = initial["weights"].copy()
        if initial["means"] is not None:
            self.means_ = initial["means"].copy()
        if initial["precisions"] is not None:
            self.precisions_cholesky_ = G.cholesky_from_precisions(initial["precisions"], self.covariance_type)
            self.covariances_ = G.covariances_from_precisions_cholesky(self.precisions_cholesky_, self.covariance_type)
            self.precisions_ = G.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)

    def _e_step(self, XT):
        log_joint = G.log_joint(XT, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)
        return (log_joint, *G.normalize_log_joint(log_joint))

    def _m_step(self, XT, weighted_resp):
        nk, means = G.estimate_weighted_moments(XT, weighted_resp)
        covariances = G.estimate_covariances(XT, weighted_resp, nk, means, self.covariance_type)
        self.covariances_ = G.regularize(covariances, self.reg_covar, self.covariance_type)
        self.weights_ = nk / nk.sum()
        self.means_ = means
        self.precisions_cholesky_ = G.precisions_cholesky(self.covariances_, self.covariance_type)
        self.precisions_ = G.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)

    def _get_parameters(self):
        return (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_, self.precisions_)

    def _set_parameters(self, params):
        (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_, self.precisions_) = params

    # --------------------------------------------------------------- inference
    def _log_joint(self, X):
        """Log joint under the fitted parameters, sample-last: shape (K, n)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        XT = np.ascontiguousarray(X.T)
        return G.log_joint(XT, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)

    def component_log_densities(self, X):
        """``log pi_k + log N(x_n | mu_k, Sigma_k)`` per sample and component: shape (n_samples, K).

        The responsibilities are their softmax over ``k``, so the largest term wins the sample.
        """
        return np.ascontiguousarray(self._log_joint(X).T)

    def mahalanobis(self, X):
        """Mahalanobis distance of every sample to every component: shape (n_samples, K)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        XT = np.ascontiguousarray(X.T)
        distances = G.mahalanobis_sq(XT, self.means_, self.precisions_cholesky_, self.covariance_type)
        return np.ascontiguousarray(np.sqrt(distances).T)

    def score_samples(self, X):
        """``log p(x_n | theta)`` per sample: shape (n_samples,)."""
        return G.normalize_log_joint(self._log_joint(X))[0]

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per unit weight."""
        log_prob = self.score_samples(X)
        weights = check_sample_weight(sample_weight, log_prob.shape[0])
        return float(log_prob.mean() if weights is None else weights @ log_prob / weights.sum())

    def predict(self, X):
        """Most probable component per sample (hard clustering): shape (n_samples,)."""
        return _argmax_rows(self._log_joint(X))

    def predict_proba(self, X):
        """Responsibilities ``p(z_n = k | x_n)`` (soft clustering): shape (n_samples, K)."""
        return np.ascontiguousarray(G.normalize_log_joint(self._log_joint(X))[1].T)

    def _n_parameters(self):
        n_features = self.means_.shape[1]
        cov_params = {
            "full": self.n_components * n_features * (n_features + 1) / 2.0,
            "diag": self.n_components * n_features,
            "tied": n_features * (n_features + 1) / 2.0,
            "spherical": self.n_components,
        }[self.covariance_type]
        return int(cov_params + self.n_components * n_features + self.n_components - 1)

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion (lower is better); ``n`` is the total weight."""
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return -2 * self.score(X, sample_weight=sample_weight) * n + self._n_parameters() * np.log(n)

    def aic(self, X, sample_weight=None):
        """Akaike information criterion (lower is better)."""
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return -2 * self.score(X, sample_weight=sample_weight) * n + 2 * self._n_parameters()

    def sample(self, n_samples=1):
        """Draw samples: returns ``(X, labels)`` of shapes (n_samples, d) and (n_samples,)."""
        check_is_fitted(self)
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
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
        return np.vstack(draws), labels


def _weigh(resp, sample_weight):
    """Responsibilities (K, n) times sample weights, in place (unweighted: unchanged)."""
    if sample_weight is not None:
        resp *= sample_weight
    return resp


def _argmax_rows(per_component):
    """Index of the largest row per column of a (K, n) array, first one on ties, as int64."""
    best = per_component[0].copy()
    labels = np.zeros(per_component.shape[1], dtype=np.int64)
    for k, row in enumerate(per_component[1:], start=1):
        better = row > best
        labels[better] = k
        np.maximum(best, row, out=best)
    return labels

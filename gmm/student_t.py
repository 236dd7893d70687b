"""``StudentTMixture``: a mixture of multivariate t distributions fitted by EM.

The estimator API is :class:`gmm.GaussianMixture`'s (parameters, fitted attributes, exact
``sample_weight``, the ELBO history), plus the degrees of freedom ``nu_k``. The maths lives in
:mod:`gmm._student_t`; validation, starts and the Gaussian helpers are the Gaussian mixture's, and
the API the two share is :class:`gmm._base._MixtureBase`'s.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from gmm import _gaussian as G
from gmm import _student_t as T
from gmm._base import _MixtureBase
from gmm._init import initial_responsibilities
from gmm._validation import (check_initial_parameters, check_n_samples, check_sample_weight, external_stacklevel,
                             validate_samples)
from gmm.history import EMHistory, HistoryRecorder

PARAMETER_NAMES = ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_", "degrees_of_freedom_")


@dataclass(frozen=True)
class StudentTHistory(EMHistory):
    """:class:`gmm.history.EMHistory` plus the latent scales' share of it, per unit weight.

    Attributes
    ----------
    scale_expected : ``E_{q_t}[log p(u | z, nu_t)]``, included in ``expected_complete``.
    scale_entropy : ``E_{q_t(z)}[H(q_t(u | z))]``, included in ``entropy``.
    scale_expected_m : ``E_{q_t}[log p(u | z, nu_{t+1})]``, included in ``expected_complete_m``.
    degrees_of_freedom : ``nu_t``, shape (n_iter, n_components).
    """

    scale_expected: np.ndarray
    scale_entropy: np.ndarray
    scale_expected_m: np.ndarray
    degrees_of_freedom: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The 1-D columns by name (for tables and JSON): ``nu`` as one column per component."""
        columns = super().as_dict()
        dof = columns.pop("degrees_of_freedom")
        columns.update({f"degrees_of_freedom_{k}": dof[:, k] for k in range(dof.shape[1])})
        return columns


class StudentTMixture(_MixtureBase):
    """Mixture of multivariate Student-t distributions fitted by EM, robust to outliers.

    Each component is ``t(mu_k, Sigma_k, nu_k)``, a Gaussian whose precision is scaled by a latent
    ``u ~ Gamma(nu_k/2, nu_k/2)``; EM treats the component and the scale as missing (Peel &
    McLachlan 2000). A sample far from ``mu_k`` gets a small ``E[u]`` and so little weight in
    ``mu_k`` and ``Sigma_k``. The update of ``nu_k`` is the ECM one of Peel & McLachlan (the
    root of eq. 7.23 of McLachlan & Peel 2000, with the E-step's expectations). Because the
    expected complete log-likelihood separates into ``pi``, ``(mu, Sigma)`` and ``nu`` terms, it
    is an exact M-step: the algorithm is EM, and the log-likelihood never falls (up to rounding
    and the ``reg_covar`` caveat of :mod:`gmm.history`). ECME (Liu & Rubin 1995), which instead
    maximises the observed log-likelihood in ``nu``, is not used: in a mixture that couples all
    ``nu_k`` through the log-sum-exp. The price: ``nu_k`` rises by at most ``p`` (the number of
    features) per iteration (see :func:`gmm._student_t.update_dof`), so on Gaussian-like data it
    creeps up towards the bound while the log-likelihood, nearly flat in large ``nu``, has long
    met ``tol``; for a converged ``nu``, lower ``tol`` (1e-5 in the benchmark). A component on a
    point mass (many identical samples, e.g. saturated pixels), held by ``reg_covar`` as in the
    Gaussian mixture, drives its ``nu`` to the lower bound: with ``p >= 3`` the t density at its
    centre grows without bound as ``nu -> 0``.

    Parameters
    ----------
    n_components, covariance_type, tol, reg_covar, max_iter, n_init, init_params, weights_init,
    means_init, precisions_init, random_state, warm_start, verbose, verbose_interval
        As in :class:`gmm.GaussianMixture`; the initial parameters are those of its first M-step
        (the t mixture starts from the Gaussian one).
    dof : "estimate" or float > 0, default="estimate"
        ``"estimate"``: one ``nu_k`` per component, fitted by EM; a number: every ``nu_k`` fixed.
    dof_init : float > 0, default=100.0
        The starting ``nu_k`` when ``dof="estimate"`` (estimates are kept in
        ``gmm._student_t.DOF_BOUNDS`` = [0.01, 1e6]). Near-Gaussian, so the first iterations
        follow the Gaussian mixture's from the shared start. Measured on the fox
        (``benchmarks/student_t_images.py``): from ``nu = 10`` a heavy-tailed grass component
        first absorbs the animal, a plateau on which ``tol=1e-3`` stops.

    Attributes
    ----------
    weights_, means_, precisions_cholesky_, precisions_, converged_, n_iter_, lower_bound_,
    lower_bounds_, n_features_in_
        As in :class:`gmm.GaussianMixture`.
    covariances_ : ndarray
        The scale matrices ``Sigma_k`` (the covariance is ``nu/(nu-2) Sigma_k`` for ``nu > 2``).
    degrees_of_freedom_ : ndarray of shape (n_components,)
    history_ : StudentTHistory
        Log-likelihood, ELBO over ``(z, u)`` and its terms per iteration of the best start.
    """

    _parameter_constraints: dict = {
        **_MixtureBase._parameter_constraints,
        "dof": [Interval(Real, 0.0, np.inf, closed="neither"), StrOptions({"estimate"})],
        "dof_init": [Interval(Real, 0.0, np.inf, closed="neither")],
    }
    _parameter_names = PARAMETER_NAMES

    def __init__(self, n_components=1, *, covariance_type="full", dof="estimate", dof_init=100.0, tol=1e-3,
                 reg_covar=1e-6, max_iter=100, n_init=1, init_params="kmeans", weights_init=None, means_init=None,
                 precisions_init=None, random_state=None, warm_start=False, verbose=0, verbose_interval=10):
        super().__init__(n_components, covariance_type=covariance_type, tol=tol, reg_covar=reg_covar,
                         max_iter=max_iter, n_init=n_init, init_params=init_params, weights_init=weights_init,
                         means_init=means_init, precisions_init=precisions_init, random_state=random_state,
                         warm_start=warm_start, verbose=verbose, verbose_interval=verbose_interval)
        self.dof = dof
        self.dof_init = dof_init

    # ------------------------------------------------------------------ fitting
    def _fit(self, X, sample_weight, random_state):
        X = validate_samples(self, X, reset=True, ensure_min_samples=2).astype(np.float64, copy=False)
        weights = check_sample_weight(sample_weight, X.shape[0])
        check_n_samples(X.shape[0], weights, self.n_components)
        T.check_distinct_samples(X, weights, self.n_components)
        self._initial = check_initial_parameters(self, X.shape[1])
        XT, total = np.ascontiguousarray(X.T), float(X.shape[0] if weights is None else weights.sum())
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        if not do_init and self.dof != "estimate":  # a fixed nu, changed since, applies to a warm start too
            self.degrees_of_freedom_ = np.full(self.n_components, float(self.dof))
        best, max_lower_bound, self.converged_ = None, -np.inf, False
        for init in range(self.n_init if do_init else 1):
            if self.verbose:
                print(f"Initialization {init}")
            if do_init:
                self._initialize(X, XT, weights, total, random_state)
            recorder, scales = HistoryRecorder(total), []
            lower_bound, bounds, converged, n_iter = (-np.inf if do_init else self.lower_bound_), [], False, 0
            for n_iter in range(1, self.max_iter + 1):
                previous, lower_bound = lower_bound, self._em_iteration(XT, weights, total, recorder, scales)
                bounds.append(lower_bound)
                if self.verbose and n_iter % self.verbose_interval == 0:
                    print(f"  Iteration {n_iter}\t ll change {lower_bound - previous:.5f}")
                if abs(lower_bound - previous) < self.tol:
                    converged = True
                    break
            # max_iter=0 keeps the last start, as scikit-learn does; otherwise the best lower bound.
            if self.max_iter == 0 or lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound, self.converged_ = lower_bound, converged
                best = dict(params=self._get_parameters(), n_iter=n_iter, bounds=bounds, recorder=recorder,
                            scales=scales)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn("Best performing initialization did not converge. Try different init parameters, "
                          "or increase max_iter, tol, or check for degenerate data.", ConvergenceWarning,
                          stacklevel=external_stacklevel())
        self._set_parameters(best["params"])
        self.n_iter_, self.lower_bound_, self.lower_bounds_ = best["n_iter"], max_lower_bound, best["bounds"]
        joint = T.log_joint(XT, *self._params())[0]  # final E-step: scores the last M-step
        log_prob = G.normalize_log_joint(joint)[0]
        best["recorder"].close(float(np.sum(log_prob) if weights is None else weights @ log_prob) / total)
        base = best["recorder"].finish().as_dict()
        scale_columns = {name: np.array([row[name] for row in best["scales"]], dtype=np.float64)
                         for name in ("scale_expected", "scale_entropy", "scale_expected_m", "degrees_of_freedom")}
        scale_columns["degrees_of_freedom"] = scale_columns["degrees_of_freedom"].reshape(-1, self.n_components)
        self.history_ = StudentTHistory(**base, **scale_columns)
        return np.argmax(joint, axis=0)

    def _initialize(self, X, XT, weights, total, random_state):
        """The Gaussian mixture's start (its first M-step from k-means etc.) and ``nu = dof_init``."""
        initial = self._initial
        if any(v is None for v in initial.values()):
            weighted = initial_responsibilities(X, weights, self.n_components, self.init_params, random_state)
            nk, means, scatter = G.m_step_statistics(XT, weighted, self.covariance_type, weights)
            self._update(nk, means, scatter, weight_total=total)
        if initial["weights"] is not None:
            self.weights_ = initial["weights"].copy()
        if initial["means"] is not None:
            self.means_ = initial["means"].copy()
        if initial["precisions"] is not None:
            self.precisions_cholesky_ = G.cholesky_from_precisions(initial["precisions"], self.covariance_type)
            self.covariances_ = G.covariances_from_precisions_cholesky(self.precisions_cholesky_, self.covariance_type)
            self.precisions_ = G.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)
        start = self.dof_init if self.dof == "estimate" else self.dof
        self.degrees_of_freedom_ = np.full(self.n_components, float(start))

    def _em_iteration(self, XT, weights, total, recorder, scales):
        """One E-step and M-step; records the history and returns the mean log-likelihood."""
        dof = self.degrees_of_freedom_
        terms, resp, s = T.e_step(XT, weights, *self._params())
        recorder.record_e_step(terms["log_likelihood"], terms["expected_complete"], terms["entropy"])
        nk, means, scatter, sums = T.m_step_statistics(XT, resp, s, self.degrees_of_freedom_, self.covariance_type)
        if self.dof == "estimate":
            self.degrees_of_freedom_ = T.update_dof(self.degrees_of_freedom_, nk, sums, XT.shape[0])
        self._update(nk, means, scatter)
        log_det = G.log_det_cholesky(self.precisions_cholesky_, self.covariance_type, XT.shape[0])
        expected, scale = T.expected_log_joint(nk, self.weights_, scatter, self.precisions_, log_det,
                                               self.covariance_type, XT.shape[0], self.degrees_of_freedom_, sums)
        recorder.record_m_step(expected)
        scales.append({"scale_expected": terms["scale_expected"] / total,
                       "scale_entropy": terms["scale_entropy"] / total, "scale_expected_m": scale / total,
                       "degrees_of_freedom": dof})
        return terms["log_likelihood"] / total

    def _update(self, nk, means, scatter, weight_total=None):
        self.covariances_ = G.regularize(scatter, self.reg_covar, self.covariance_type)
        self.weights_ = nk / (nk.sum() if weight_total is None else weight_total)
        self.means_ = means
        self.precisions_cholesky_ = G.precisions_cholesky(self.covariances_, self.covariance_type)
        self.precisions_ = G.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)

    def _params(self):
        return self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type, self.degrees_of_freedom_

    # --------------------------------------------------------------- inference
    def _log_joint_and_distances(self, X):
        """``log pi_k + log t(x_n | k)`` and squared Mahalanobis distances, each (K, n)."""
        X = self._validated(X)
        return T.log_joint(np.ascontiguousarray(X.T, dtype=np.float64), *self._params())

    def _log_joint(self, X):
        """``log pi_k + log t(x_n | k)``: shape (K, n), and the output dtype (always float64)."""
        return self._log_joint_and_distances(X)[0], np.float64

    def component_log_densities(self, X):
        """``log pi_k + log t(x_n | mu_k, Sigma_k, nu_k)``: shape (n_samples, K), as GaussianMixture's."""
        return np.ascontiguousarray(self._log_joint(X)[0].T)

    def mahalanobis(self, X):
        """Mahalanobis distance of every sample to every component (in ``Sigma_k``): (n_samples, K)."""
        return np.ascontiguousarray(np.sqrt(self._log_joint_and_distances(X)[1]).T)

    def predict(self, X):
        """Most probable component per sample, the first one on ties: shape (n_samples,)."""
        return np.argmax(self._log_joint(X)[0], axis=0)

    def expected_scales(self, X):
        """``E[u | x_n, z_n = k] = (nu_k + p) / (nu_k + delta_nk)``: shape (n_samples, K).

        The weight a sample gets in component ``k``'s mean and scale; far below 1 for an outlier.
        """
        maha = self._log_joint_and_distances(X)[1]
        nu = self.degrees_of_freedom_[:, np.newaxis]
        return np.ascontiguousarray(((nu + self.means_.shape[1]) / (nu + maha)).T)

    def _n_parameters(self):
        return super()._n_parameters() + (self.n_components if self.dof == "estimate" else 0)

    def sample(self, n_samples=1):
        """Draw ``(X, labels)``: ``x = mu_k + e / sqrt(u)``, ``e ~ N(0, Sigma_k)``, ``u ~ Gamma(nu/2, nu/2)``."""
        rng = self._sampling_rng(n_samples)
        counts = rng.multinomial(n_samples, self.weights_)
        d = self.means_.shape[1]
        covariances = G.full_matrices(self.covariances_, self.covariance_type, self.n_components, d)
        draws = [mean + rng.multivariate_normal(np.zeros(d), cov, int(n))
                 / np.sqrt(rng.gamma(nu / 2, 2 / nu, size=int(n)))[:, np.newaxis]
                 for mean, cov, nu, n in zip(self.means_, covariances, self.degrees_of_freedom_, counts)]
        return np.vstack(draws), np.repeat(np.arange(self.n_components), counts)

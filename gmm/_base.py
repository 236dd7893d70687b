"""``_MixtureBase``: what :class:`gmm.GaussianMixture` and :class:`gmm.StudentTMixture` share.

As scikit-learn's ``sklearn.mixture._base.BaseMixture``: the hyper-parameters common to both and
their validation, ``fit`` / ``fit_predict`` around the estimator's own ``_fit``, the fitted
parameters as one tuple (to keep the best start), and the inference methods that only need the
estimator's ``_log_joint``. Each estimator keeps what differs: its EM loop, start, E- and M-steps,
densities and history.
"""

from __future__ import annotations

import functools
import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from gmm import _gaussian as G
from gmm._random import random_state_for_fit
from gmm._threads import single_threaded
from gmm._validation import check_sample_weight, validate_samples


@functools.cache
def _init_parameter_names(cls):
    """scikit-learn's parameter names of an estimator class (sorted), read once per class."""
    return tuple(BaseEstimator._get_param_names.__func__(cls))


class _MixtureBase(DensityMixin, BaseEstimator):
    """Base of the mixtures fitted by EM; not an estimator by itself.

    A subclass defines ``__init__`` with its full signature (scikit-learn reads the parameters
    from it) and calls this one, and it provides:

    - ``_parameter_names``: the fitted parameter attributes, in the order of ``_get_parameters``;
    - ``_fit(X, sample_weight)``: the EM fit, returning the labels of the samples;
    - ``_log_joint(X)``: ``log pi_k + log p(x_n | k)`` of shape (K, n) in float64, and the dtype
      of the outputs.
    """

    _parameter_constraints: dict = {  # scikit-learn's GaussianMixture's, key for key
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
    }
    _parameter_names: tuple[str, ...] = ()

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature on every get_params, which every fit calls
        # (about 20 us, a sixtieth of a grey photo's whole fit); a class's signature never changes.
        return list(_init_parameter_names(cls))

    def __init__(self, n_components, *, covariance_type, tol, reg_covar, max_iter, n_init, init_params,
                 weights_init, means_init, precisions_init, random_state, warm_start, verbose, verbose_interval):
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

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters by EM; ``sample_weight`` acts exactly as repeated rows."""
        self.fit_predict(X, y, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the most probable component of each sample: shape (n_samples,)."""
        with single_threaded(), random_state_for_fit(self.random_state) as random_state:
            return self._fit(X, sample_weight, random_state)

    def _fit(self, X, sample_weight, random_state):
        raise NotImplementedError

    def _get_parameters(self):
        return tuple(getattr(self, name) for name in self._parameter_names)

    def _set_parameters(self, params):
        for name, value in zip(self._parameter_names, params):
            setattr(self, name, value)

    # --------------------------------------------------------------- inference
    def _validated(self, X):
        """``X`` checked against the fitted model: shape (n_samples, n_features), float64 or float32."""
        check_is_fitted(self)
        return validate_samples(self, X, reset=False)

    def _log_joint(self, X):
        raise NotImplementedError

    def score_samples(self, X):
        """``log p(x_n | theta)`` per sample: shape (n_samples,)."""
        log_joint, dtype = self._log_joint(X)
        return G.normalize_log_joint(log_joint)[0].astype(dtype, copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per unit weight."""
        log_prob = self.score_samples(X).astype(np.float64)
        weights = check_sample_weight(sample_weight, log_prob.shape[0])
        return float(log_prob.mean() if weights is None else weights @ log_prob / weights.sum())

    def predict_proba(self, X):
        """Responsibilities ``p(z_n = k | x_n)`` (soft clustering): shape (n_samples, K)."""
        log_joint, dtype = self._log_joint(X)
        return np.ascontiguousarray(G.normalize_log_joint(log_joint)[1].T, dtype=dtype)

    def _n_parameters(self):
        """Free parameters of the weights, means and covariances (a subclass adds its own)."""
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

    def _sampling_rng(self, n_samples):
        """The random state ``sample`` draws from, once the model and ``n_samples`` are checked."""
        check_is_fitted(self)
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(  # scikit-learn's words
                f"Invalid value for 'n_samples': {n_samples!r} . The sampling requires at least one sample.")
        return check_random_state(self.random_state)

"""``SpatialGaussianMixture``: a Gaussian mixture with a Potts prior on the labels of a grid.

The model (a hidden Markov random field) on sites ``i`` of an H x W grid with features ``y_i``:

    p(z) ∝ prod_i pi_{z_i} * exp(beta * sum_{i~j} [z_i = z_j]),   y_i | z_i = k ~ N(mu_k, Sigma_k),

with ``i ~ j`` the 4- or 8-neighbourhood. ``beta = 0`` is the independent mixture of
:class:`gmm.GaussianMixture`; ``beta > 0`` rewards neighbours that share a label, which removes
the speckle of per-pixel segmentation.

Inference is mean-field EM (Zhang 1992; Celeux, Forbes & Peyrard 2003): ``q(z) = prod_i q_i(z_i)``
and the estimator ascends, by coordinates, the free energy (per site)

    F(q, theta) = E_q[log p(y | z, theta)] + sum_ik q_ik log pi_k
                  + beta * sum_{i~j} sum_k q_ik q_jk + H(q).

**The Potts normaliser.** ``F`` is the mean-field lower bound on ``log p(y | theta, beta)`` *plus*
``log Z(pi, beta)``, the log partition function of the prior, which is intractable. Like the
mean-field EM procedures above we do not evaluate it: for fixed ``(pi, beta)`` it is a constant
and ``F`` is an exact bound up to it. The E-step (checkerboard sweeps, :mod:`gmm._potts`) and
the M-step of ``(mu, Sigma)`` maximise ``F`` exactly, and ``pi_k = N_k / N`` maximises its
``pi`` term: so ``F`` never decreases for fixed ``beta`` (up to the ``reg_covar`` caveat of
:mod:`gmm.history`), which is what ``history_`` records. Because ``log Z`` is left out, this
``pi`` is exact only at ``beta = 0`` (where ``Z = 1``); for ``beta > 0`` it is the usual
mean-field approximation, and ``F`` cannot be used to choose ``beta`` (it grows with it).

**Estimating beta** (``beta="auto"``): after each M-step ``beta`` maximises Besag's (1974,
1975) pseudo-likelihood of the labels, on a coding set of sites, with the neighbours replaced by
their mean-field values: the "mean-field-like" estimate of Celeux, Forbes & Peyrard (2003); see
:func:`gmm._potts.pseudo_likelihood_beta`. ``F`` is then monotone only between two changes of
``beta``; ``history_.beta`` says which ``beta`` each row used.

Cost: each sweep is O(H W K) (shifted-slice neighbour sums, one softmax per site); densities
and the M-step run on the distinct feature values when sites share them (a uint8 image has a
few hundred thousand colours for millions of pixels, see :meth:`SpatialGaussianMixture.fit_sites`).
Sample weights: the distinct-value path weighs each value by its count, exactly; weights of
single sites do not apply (a site carries one label, so it is not a repeated sample).

References: J. Besag, "Spatial interaction and the statistical analysis of lattice systems",
J. R. Stat. Soc. B 36 (1974); J. Besag, "Statistical analysis of non-lattice data", The
Statistician 24 (1975);
J. Zhang, "The mean field theory in EM procedures for Markov random fields", IEEE Trans. Signal
Processing 40 (1992); G. Celeux, F. Forbes, N. Peyrard, "EM procedures using mean field-like
approximations for Markov model-based image segmentation", Pattern Recognition 36 (2003).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import fields

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from gmm import _gaussian as G
from gmm import _potts as P
from gmm._potts import SpatialHistory
from gmm._threads import single_threaded
from gmm.model_selection import CANDIDATES, EFFECTIVE_SIZE, select_n_components

#: With one feature row per site, K is chosen and EM started on a regular sub-grid of at most about
#: this many sites: a start needs no more, and mean-field EM then runs on every site.
_SUBGRID_SITES = 1 << 15
_PARAMETERS = ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_")


class SpatialGaussianMixture(BaseEstimator):
    """Gaussian mixture with a Potts prior on a grid's labels, fitted by mean-field EM.

    Parameters
    ----------
    n_components : int or "auto", default=1
        "auto" chooses K among ``candidates`` by :func:`gmm.model_selection.select_n_components`
        (effective-size ICL of the independent mixtures) before the spatial fit.
    beta : float >= 0 or "auto", default=1.0
        Potts interaction per neighbour pair; 0 gives :class:`gmm.GaussianMixture` exactly.
        "auto" estimates it by the mean-field-like pseudo-likelihood (see the module docstring).
    connectivity : {4, 8}, default=4
    n_sweeps : int, default=1
        Checkerboard sweeps per E-step.
    beta_max : float, default=4.0
        Upper bound of an estimated beta.
    candidates : sequence of int, default=1..8
    effective_size : float, default=300
        The ICL's effective sample size, for ``n_components="auto"``.
    covariance_type, tol, reg_covar, max_iter, n_init, init_params, random_state
        As :class:`gmm.GaussianMixture`; the independent mixture fitted with them is the start
        (and, at ``beta = 0``, the result). ``tol`` also stops mean-field EM (free energy per site).
        With one feature row per site (:meth:`fit`) on more than 2**15 sites, K is chosen and
        the start fitted on a regular sub-grid of at most 2**15 sites (every s-th row and
        column); at ``beta = 0`` the result is then refitted on all sites.

    Attributes
    ----------
    weights_, means_, covariances_, precisions_cholesky_, precisions_ : ndarray
    n_components_ : int
        The number of components used (the chosen one for "auto").
    selection_ : gmm.model_selection.ComponentSelection
        Only for ``n_components="auto"``.
    beta_ : float
        The beta of the last E-step (the fitted one when ``beta="auto"``).
    labels_ : ndarray of shape (H, W), int64
        Most probable label of each site under the final ``q``.
    history_ : SpatialHistory, or the independent mixture's ``EMHistory`` when ``beta == 0``
    mixture_ : gmm.GaussianMixture
        The independent mixture the fit started from.
    n_iter_ : int
    converged_ : bool
    n_features_in_ : int
    """

    def __init__(self, n_components=1, *, beta=1.0, connectivity=4, n_sweeps=1, beta_max=4.0,
                 candidates=CANDIDATES, effective_size=EFFECTIVE_SIZE, covariance_type="full", tol=1e-3,
                 reg_covar=1e-6, max_iter=100, n_init=1, init_params="kmeans", random_state=None):
        self.n_components = n_components
        self.beta = beta
        self.connectivity = connectivity
        self.n_sweeps = n_sweeps
        self.beta_max = beta_max
        self.candidates = candidates
        self.effective_size = effective_size
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _check_parameters(self):
        beta = self.beta
        if not (beta == "auto" if isinstance(beta, str) else
                isinstance(beta, numbers.Real) and not isinstance(beta, bool) and np.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0 or 'auto', got {beta!r}.")
        if self.connectivity not in P.HALF_OFFSETS:
            raise ValueError(f"connectivity must be 4 or 8, got {self.connectivity!r}.")
        if not isinstance(self.n_sweeps, numbers.Integral) or isinstance(self.n_sweeps, bool) or self.n_sweeps < 1:
            raise ValueError(f"n_sweeps must be an integer >= 1, got {self.n_sweeps!r}.")
        if not isinstance(self.beta_max, numbers.Real) or not np.isfinite(self.beta_max) or self.beta_max <= 0:
            raise ValueError(f"beta_max must be a finite number > 0, got {self.beta_max!r}.")

    def _mixture_params(self):
        return dict(covariance_type=self.covariance_type, tol=self.tol, reg_covar=self.reg_covar,
                    max_iter=self.max_iter, n_init=self.n_init, init_params=self.init_params,
                    random_state=self.random_state)

    def _start(self, values, counts):
        """The independent mixture the fit starts from (or, at beta = 0, ends with)."""
        from gmm.mixture import GaussianMixture

        if not isinstance(self.n_components, str):
            return GaussianMixture(self.n_components, **self._mixture_params()).fit(values, sample_weight=counts)
        if self.n_components != "auto":
            raise ValueError(f"n_components must be an integer >= 1 or 'auto', got {self.n_components!r}.")
        self.selection_ = select_n_components(values, counts, candidates=self.candidates,
                                              effective_size=self.effective_size, **self._mixture_params())
        return self.selection_.models[int(np.argmax(self.selection_.score))]

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Fit to a grid ``X`` of shape (H, W, n_features)."""
        self.fit_predict(X)
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the most probable label of each site: shape (H, W)."""
        X = P.check_grid(X)
        H, W, d = X.shape
        return self.fit_sites(X.reshape(H * W, d), None, (H, W))

    def fit_sites(self, values, index, shape, counts=None):
        """Fit to a grid whose sites hold rows of ``values``: the distinct-value path.

        Parameters
        ----------
        values : ndarray of shape (m, n_features)
            Feature rows; with ``index=None`` one per site in row-major order (m = H * W).
        index : ndarray of shape (H, W) of int, or None
            Row of ``values`` held by each site (e.g. :class:`gmm.DistinctPixels`'s ``index``).
        shape : (H, W)
        counts : ndarray of shape (m,), optional
            Sites per row of ``values`` (computed from ``index`` when omitted).

        Returns
        -------
        labels : ndarray of shape (H, W), int64
        """
        self._check_parameters()
        values, index, shape = P.check_sites(values, index, shape)
        if index is not None and counts is None:
            counts = np.bincount(np.asarray(index).ravel(), minlength=values.shape[0])
        sample = values
        if counts is None and values.shape[0] > _SUBGRID_SITES:
            # One row per site: K is chosen, and for beta > 0 EM is started, on a regular sub-grid.
            stride = int(np.ceil(np.sqrt(values.shape[0] / _SUBGRID_SITES)))
            sample = values.reshape(*shape, -1)[::stride, ::stride].reshape(-1, values.shape[1])
        with single_threaded(), warnings.catch_warnings():
            if self.beta != 0:  # only the start of mean-field EM: it need not have converged
                warnings.simplefilter("ignore", ConvergenceWarning)
            if self.beta == 0 and not isinstance(self.n_components, str):
                sample = values  # beta = 0 is GaussianMixture on every site, exactly
            mixture = self._start(sample, counts)
            if self.beta == 0 and sample is not values:
                mixture = clone(mixture).fit(values)
        self.mixture_, self.n_features_in_, self.n_components_ = mixture, values.shape[1], mixture.n_components
        for name in _PARAMETERS:
            setattr(self, name, getattr(mixture, name))
        if self.beta == 0:
            self.beta_, self.history_ = 0.0, mixture.history_
            self.n_iter_, self.converged_ = mixture.n_iter_, mixture.converged_
            with single_threaded():
                labels = mixture.predict(values)
            self.labels_ = labels.reshape(shape) if index is None else labels[index]
            return self.labels_
        with single_threaded():
            self.labels_ = self._mean_field_em(values, index, shape, counts)
        return self.labels_

    def _mean_field_em(self, values, index, shape, counts):
        VT = np.ascontiguousarray(values.T)
        n = shape[0] * shape[1]
        beta = 1.0 if self.beta == "auto" else float(self.beta)
        log_joint = self._log_joint(VT)
        q = P.to_sites(G.normalize_log_joint(log_joint)[1], index, shape)
        rows, previous, self.converged_ = [], -np.inf, False
        for _ in range(self.max_iter):
            entropy = self._e_step(q, P.to_sites(log_joint, index, shape), beta)
            resp = P.to_values(q, index, values.shape[0])
            row = dict(beta=beta, agreement=beta * P.agreement(q, self.connectivity) / n, entropy=entropy / n)
            row.update(self._expected_terms(resp, log_joint, n, ""))
            self._m_step(VT, resp, counts)
            log_joint = self._log_joint(VT)
            row.update(self._expected_terms(resp, log_joint, n, "_m"))
            row["free_energy"] = row["data"] + row["prior"] + row["agreement"] + row["entropy"]
            row["free_energy_m"] = row["data_m"] + row["prior_m"] + row["agreement"] + row["entropy"]
            rows.append(row)
            if self.beta == "auto":
                beta = P.pseudo_likelihood_beta(q, np.log(self.weights_), self.connectivity, beta,
                                                beta_max=self.beta_max)
            if abs(row["free_energy"] - previous) < self.tol:
                self.converged_ = True
                break
            previous = row["free_energy"]
        self.n_iter_, self.beta_ = len(rows), beta
        self.history_ = SpatialHistory(**{f.name: np.array([r[f.name] for r in rows]) for f in fields(SpatialHistory)})
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(f"Mean-field EM did not converge in max_iter={self.max_iter} iterations "
                          f"(tol={self.tol}). Increase max_iter or tol.", ConvergenceWarning)
        # A last E-step, so that the labels are those of the final parameters.
        self._e_step(q, P.to_sites(log_joint, index, shape), beta)
        return P.argmax_first(q)

    def _e_step(self, q, log_joint_sites, beta):
        for _ in range(self.n_sweeps):
            entropy = P.sweep(q, log_joint_sites, beta, self.connectivity)
        return entropy

    def _expected_terms(self, resp, log_joint, n, suffix):
        """``E_q`` of the data and prior terms, per site, from the per-value responsibilities."""
        total = float(resp.ravel() @ log_joint.ravel())
        prior = float(resp.sum(axis=1) @ np.log(self.weights_))
        return {"data" + suffix: (total - prior) / n, "prior" + suffix: prior / n}

    def _log_joint(self, VT):
        return G.log_joint(VT, self.weights_, self.means_, self.precisions_cholesky_, self.covariance_type)

    def _m_step(self, VT, resp, counts):
        nk, means = G.estimate_weighted_moments(VT, resp)
        covariances = G.estimate_covariances(VT, resp, nk, means, self.covariance_type, sample_weight=counts)
        self.covariances_ = G.regularize(covariances, self.reg_covar, self.covariance_type)
        self.weights_, self.means_ = nk / nk.sum(), means
        self.precisions_cholesky_ = G.precisions_cholesky(self.covariances_, self.covariance_type)
        self.precisions_ = G.precisions_from_cholesky(self.precisions_cholesky_, self.covariance_type)

    # --------------------------------------------------------------- inference
    def predict_proba(self, X, n_sweeps=20):
        """Mean-field ``q`` of a grid under the fitted parameters and ``beta_``: shape (H, W, K).

        Starts from the independent posterior and runs ``n_sweeps`` checkerboard sweeps.
        """
        check_is_fitted(self)
        X = P.check_grid(X)
        H, W, d = X.shape
        if d != self.n_features_in_:
            raise ValueError(f"X has {d} features per site, the model was fitted with {self.n_features_in_}.")
        with single_threaded():
            log_joint = self._log_joint(np.ascontiguousarray(X.reshape(H * W, d).T)).reshape(-1, H, W)
            q = G.normalize_log_joint(log_joint.reshape(self.n_components_, -1))[1].reshape(log_joint.shape)
            for _ in range(n_sweeps if self.beta_ > 0 else 0):
                P.sweep(q, log_joint, self.beta_, self.connectivity)
        return np.moveaxis(q, 0, -1)

    def predict(self, X, n_sweeps=20):
        """Most probable label of each site under :meth:`predict_proba`: shape (H, W)."""
        return np.argmax(self.predict_proba(X, n_sweeps), axis=-1)


def grid_features(image, color_space="lab", *, blur=0.0, texture=0.0, window=7):
    """Per-pixel features of an image for :class:`SpatialGaussianMixture`: shape (H, W, d).

    Colour features of ``color_space`` (:func:`gmm.image.to_features`), each channel smoothed
    by a Gaussian of standard deviation ``blur`` pixels, then, when ``texture > 0``, one
    texture channel: ``texture`` times the local standard deviation of the first colour
    feature (lightness for 'lab', grey level for 'grey') over a ``window`` x ``window`` box.
    Texture separates, e.g., grass from a flat wall of the same mean colour.
    """
    from scipy import ndimage as ndi

    from gmm.distinct import distinct_pixels
    from gmm.image import load_image, to_features, to_grey

    image = load_image(image)
    image = to_grey(image) if color_space in ("grey", "gray") else image
    pixels = distinct_pixels(image)
    colour = pixels.expand(to_features(pixels.values, color_space))
    if blur > 0:
        colour = np.stack([ndi.gaussian_filter(c, blur) for c in np.moveaxis(colour, -1, 0)], axis=-1)
    if texture <= 0:
        return colour
    first = colour[..., 0]
    mean = ndi.uniform_filter(first, window)
    spread = np.sqrt(np.maximum(ndi.uniform_filter(first * first, window) - mean * mean, 0.0))
    return np.concatenate([colour, texture * spread[..., np.newaxis]], axis=-1)

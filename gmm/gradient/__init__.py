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

The modules: :mod:`~gmm.gradient.parameters` (``theta`` and the maps to and from a mixture),
:mod:`~gmm.gradient.objective` (the log-likelihood, its E-step and gradient) and
:mod:`~gmm.gradient.optimisers` (L-BFGS, Adam); every name is imported from ``gmm.gradient``.
"""

from gmm.gradient.objective import log_likelihood_and_gradient, mean_log_likelihood, posterior
from gmm.gradient.optimisers import OptimiserTrace, fit_adam, fit_lbfgs
from gmm.gradient.parameters import from_mixture, n_parameters, pack, to_mixture_parameters, unpack

__all__ = ["OptimiserTrace", "fit_adam", "fit_lbfgs", "from_mixture", "log_likelihood_and_gradient",
           "mean_log_likelihood", "n_parameters", "pack", "posterior", "to_mixture_parameters", "unpack"]

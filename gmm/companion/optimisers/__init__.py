"""Notebook 08's experiments: EM against gradient optimisers on one objective, and collapse.

Every function takes the data as ``X`` (n, d) with ``sample_weight`` (n,): for an image, its
distinct colours (``gmm.image.to_features``) weighted by their pixel counts, so that mean values
are per pixel. Parameters travel as :mod:`gmm.gradient`'s unconstrained vector ``theta``.

The modules: :mod:`~gmm.companion.optimisers.comparison` (EM against L-BFGS and Adam, and the
conditioning), :mod:`~gmm.companion.optimisers.collapse` (components that collapse) and
:mod:`~gmm.companion.optimisers.prior` (the conjugate prior against it); every name is imported
from ``gmm.companion.optimisers``.
"""

from gmm.companion.optimisers.collapse import (COLLAPSE_VARIANCE, iterations_until_collapse, point_collapse_curve,
                                               reg_covar_sweep, smallest_variance)
from gmm.companion.optimisers.comparison import (compare_optimisers, condition_numbers, em_trace, first_reaching,
                                                 hessian_condition, kmeans_start, lbfgs_in_units, linear_rate, rescale,
                                                 summarise)
from gmm.companion.optimisers.prior import default_prior, log_prior, map_em, pixel_subsample, prior_comparison

__all__ = ["COLLAPSE_VARIANCE", "compare_optimisers", "condition_numbers", "default_prior", "em_trace",
           "first_reaching", "hessian_condition", "iterations_until_collapse", "kmeans_start", "lbfgs_in_units",
           "linear_rate", "log_prior", "map_em", "pixel_subsample", "point_collapse_curve", "prior_comparison",
           "reg_covar_sweep", "rescale", "smallest_variance", "summarise"]

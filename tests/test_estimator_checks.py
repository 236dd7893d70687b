"""scikit-learn's own estimator checks, run on ``gmm.GaussianMixture``.

Every check that is expected to fail or is skipped is listed below with its reason; the
expected failures run in strict mode, so a check listed here that starts to pass fails the suite
(and the entry must go).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_estimator,
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

import gmm

#: Checks expected to fail, with the reason, for a mixture of two or more components whose
#: initial parameters come from ``init_params`` (not given explicitly).
#:
#: The EM itself is exact for integer weights: test_sample_weight_equivalence_with_explicit_init
#: runs the same check from explicit initial parameters and it passes. Every random
#: initialisation draws differently from n weighted rows than from the repeated rows: KMeans and
#: kmeans_plusplus (scikit-learn lists KMeans, BisectingKMeans and MiniBatchKMeans as expected
#: failures of this very check), 'random' draws an (n_samples, K) matrix, 'random_from_data'
#: samples rows with probabilities. sklearn.mixture.GaussianMixture takes no sample_weight, so
#: the check does not run for it.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "random initialisation (k-means, k-means++, random, random_from_data) draws differently "
        "from weighted rows than from repeated rows; the EM from explicit initial parameters passes"
    ),
}

#: Checks that skip themselves here, with the reason (scikit-learn raises SkipTest).
SKIPPED_CHECKS = {
    "check_sample_weights_pandas_series": "pandas is not a dependency of the project.",
    "check_array_api_input": "runs only with SCIPY_ARRAY_API=1; the estimator is NumPy-only, "
    "as is sklearn.mixture.GaussianMixture.",
}

ESTIMATORS = [
    gmm.GaussianMixture(),
    *(
        gmm.GaussianMixture(n_components=2, covariance_type=cov, max_iter=20, random_state=0)
        for cov in ("full", "tied", "diag", "spherical")
    ),
    *(
        gmm.GaussianMixture(n_components=3, init_params=init, n_init=2, max_iter=20, random_state=0)
        for init in ("k-means++", "random", "random_from_data")
    ),
]


def expected_failed_checks(estimator):
    explicit = estimator.means_init is not None and estimator.precisions_init is not None
    if estimator.n_components > 1 and not explicit:
        return EXPECTED_FAILED_CHECKS
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::gmm.ComponentCollapseWarning")
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_only_listed_checks_are_skipped():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(gmm.GaussianMixture(random_state=0), on_fail=None)
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed == set()
    assert skipped <= set(SKIPPED_CHECKS), skipped - set(SKIPPED_CHECKS)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("max_iter", [3, 100])
def test_sample_weight_equivalence_with_explicit_init(covariance_type, max_iter):
    """The expected failure above is the initialisation only: from given parameters it passes."""
    n_features, k = 30, 2  # the check's data: rng.rand(15, 30) with integer weights 0..4
    precisions = {
        "full": np.stack([10 * np.eye(n_features)] * k),
        "tied": 10 * np.eye(n_features),
        "diag": np.full((k, n_features), 10.0),
        "spherical": np.full(k, 10.0),
    }[covariance_type]
    estimator = gmm.GaussianMixture(
        k,
        covariance_type=covariance_type,
        max_iter=max_iter,
        weights_init=[0.5, 0.5],
        means_init=np.vstack([np.full(n_features, 0.3), np.full(n_features, 0.7)]),
        precisions_init=precisions,
    )
    assert expected_failed_checks(estimator) == {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", gmm.ComponentCollapseWarning)
        check_sample_weight_equivalence_on_dense_data("GaussianMixture", estimator)

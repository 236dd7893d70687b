"""The compiled kernels' own arithmetic: fused multiply-add, and the vectorisable exp and log."""

from fractions import Fraction

import numpy as np
import pytest

numba = pytest.importorskip("numba")
from gmm._fma import exp_nonpositive, fma, log_at_least_one  # noqa: E402


@numba.njit
def _fma_many(a, b, c):
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = fma(a[i], b[i], c[i])
    return out


@numba.njit
def _exp_many(x, floor):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i], floor)
    return out


@numba.njit
def _log_many(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = log_at_least_one(x[i])
    return out


def ulps(got, expected):
    return np.abs(got - expected) / np.spacing(np.abs(expected))


def test_fma_rounds_once():
    """(1 + 2^-30)(1 - 2^-30) - 1 = -2^-60 exactly: a product rounded first gives 0. In a
    vectorised loop (1,000 copies) as in one lane, and integer arguments are cast."""
    eps = 2.0 ** -30
    n = 1000
    got = _fma_many(np.full(n, 1 + eps), np.full(n, 1 - eps), np.full(n, -1.0))
    assert np.all(got == -(2.0 ** -60))
    assert (1 + eps) * (1 - eps) - 1.0 == 0.0
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 2000))
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]  # rounded once
    np.testing.assert_array_equal(_fma_many(a, b, c), exact)
    np.testing.assert_array_equal(_fma_many(np.arange(5), np.full(5, 0.5), np.ones(5)), 1.0 + 0.5 * np.arange(5))


def test_exp_nonpositive_is_within_one_ulp_and_zero_below_the_floor():
    x = np.concatenate([-np.geomspace(1e-300, 707.0, 400_000), [0.0, -0.0, -np.log(2) / 2, -np.log(2)]])
    got = _exp_many(x, -708.0)
    assert np.max(ulps(got, np.exp(x))) <= 1.0
    assert _exp_many(np.array([0.0]), -708.0)[0] == 1.0
    below = _exp_many(np.array([-709.0, -1e4, -np.inf]), -708.0)
    assert np.all(below == 0.0) and not np.signbit(below).any()


def test_log_at_least_one_is_within_two_ulp():
    x = np.concatenate([np.geomspace(1.0, 1e300, 400_000), 1.0 + np.arange(1, 1000) * 2.0 ** -52,
                        [np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 3.0), 2.0, 4.0, 3.0]])
    got = _log_many(x)
    assert _log_many(np.array([1.0]))[0] == 0.0
    expected = np.log(x)
    # near 1 the log is tiny: count the error in ulps of the value, with an absolute floor
    error = np.abs(got - expected) / np.maximum(np.spacing(expected), np.spacing(1.0) * 2.0 ** -52)
    assert np.max(error) <= 2.0

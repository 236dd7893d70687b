"""Confidence intervals for the mean of paired differences, and a claim's verdict from one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The verdicts of the claims table.
VERDICTS = ("reproduced", "partly", "not reproduced", "open")


@dataclass(frozen=True)
class PairedInterval:
    """Mean of paired differences ``a - b`` and its confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    level: float
    method: str

    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of zero."""
        return self.low > 0 or self.high < 0


def paired_interval(a, b, *, level=0.95, method="t", n_boot=10_000, seed=0) -> PairedInterval:
    """Confidence interval for the mean of the paired differences ``a - b``.

    Parameters
    ----------
    a, b : array-like of float, same length n >= 2
        Scores of two methods on the same units (frames); pairing removes the frames' own
        difficulty, which both methods share.
    level : float in (0, 1)
    method : {'t', 'bootstrap'}
        ``'t'``: Student's t interval, ``mean +- t_{n-1} * sd / sqrt(n)``. ``'bootstrap'``: the
        percentile interval of ``n_boot`` means of differences resampled with replacement.
    n_boot : int
    seed : int
        Seed of the bootstrap's resampling (unused by ``'t'``).

    Returns
    -------
    PairedInterval
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"a and b must be 1-d of the same length >= 2, got shapes {a.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d = a - b
    mean = float(d.mean())
    if method == "t":
        half = float(stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
        low, high = mean - half, mean + half
    elif method == "bootstrap":
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
        low, high = (float(q) for q in np.quantile(means, [0.5 - level / 2, 0.5 + level / 2]))
    else:
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    return PairedInterval(mean, float(low), float(high), int(d.size), float(level), method)


def verdict_from_interval(interval: PairedInterval, claimed_sign: int = 1) -> str:
    """A claim's verdict from the interval of (claimed better) - (claimed worse).

    ``'reproduced'`` when the interval lies on the claimed side of zero, ``'not reproduced'``
    when it lies on the other side, ``'open'`` when it contains zero (the data cannot tell).
    """
    if claimed_sign not in (1, -1):
        raise ValueError(f"claimed_sign must be 1 or -1, got {claimed_sign}")
    low, high = claimed_sign * interval.low, claimed_sign * interval.high
    low, high = min(low, high), max(low, high)
    if low > 0:
        return "reproduced"
    if high < 0:
        return "not reproduced"
    return "open"

"""The Potts mixture's mean-field update of one sublattice in one pass: four passes per sweep.

The library sweeps with :func:`gmm._fused_potts.sweep` (one pass per sweep); this kernel stays as
the reference that sweep must equal bit for bit (tests/test_spatial.py) and as the baseline of
``benchmarks/bench_sweep.py``. It walks the sublattice row by row and computes, for the row's
sites at once (contiguous scratch arrays that LLVM vectorises), the neighbour sums, the field, the
log-sum-exp, the new ``q`` and its entropy: the arithmetic of :func:`gmm._potts.update_sublattice`
(numpy), in the same order, except the field's multiply-add (fused: one rounding), ``exp`` and
``log`` (the vectorised polynomials of :mod:`gmm._fma`, within 1-2 ulp) and the order of the
entropy's sum.

Imported only by the tests and the benchmark; ``cache=True`` keeps the machine code.
"""

from __future__ import annotations

import numba
import numpy as np

from gmm._fma import exp_nonpositive, fma, log_at_least_one
from gmm._fused import column_max


@numba.njit(cache=True, nogil=True, error_model="numpy")
def update_sublattice(q, log_joint, beta, row_start, col_start, offsets, floor):
    """Mean-field update of the sites ``(row_start + 2a, col_start + 2b)`` of ``q`` in place.

    Parameters
    ----------
    q, log_joint : ndarray of shape (K, H, W), float64, C-contiguous
    beta : float
    row_start, col_start : int (0 or 1)
    offsets : ndarray of shape (n_neighbours, 2), int64: the (drow, dcol) of the neighbourhood
    floor : responsibilities with a log below it are set to exactly zero

    Returns
    -------
    float
        Entropy ``-sum q log q`` of the sublattice's new ``q``.
    """
    K, H, W = q.shape
    w = (W - col_start + 1) // 2
    field, resp = np.empty((K, w)), np.empty((K, w))
    top, total, log_total, shifted = np.empty(w), np.empty(w), np.empty(w), np.empty(w)
    entropy = 0.0
    for i in range(row_start, H, 2):
        for k in range(K):
            f = field[k]
            for s in range(w):
                f[s] = 0.0
            for o in range(offsets.shape[0]):
                ii, dx = i + offsets[o, 0], offsets[o, 1]
                if ii < 0 or ii >= H:
                    continue
                row = q[k, ii]
                # the sites s whose neighbour column col_start + 2s + dx lies inside the image
                base = col_start + dx
                first = max(0, (1 - base) // 2)
                last = min(w, (W - 1 - base) // 2 + 1)
                for s in range(first, last):
                    f[s] += row[base + 2 * s]
            lj = log_joint[k, i]
            for s in range(w):
                f[s] = fma(f[s], beta, lj[col_start + 2 * s])
        column_max(field, top, w)
        for s in range(w):
            total[s] = 0.0
        for k in range(K):
            f, r = field[k], resp[k]
            for s in range(w):
                f[s] = f[s] - top[s]  # now the log responsibility before normalisation
            for s in range(w):
                r[s] = exp_nonpositive(f[s], floor)
                total[s] += r[s]
        for s in range(w):
            log_total[s] = log_at_least_one(total[s])
            shifted[s] = 1.0 / total[s]
        for k in range(K):
            f, r, out = field[k], resp[k], q[k, i]
            block = 0.0
            for s in range(w):
                r[s] *= shifted[s]
                block += r[s] * (f[s] - log_total[s])
                out[col_start + 2 * s] = r[s]
            entropy -= block
    return entropy

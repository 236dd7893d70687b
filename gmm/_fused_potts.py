"""Numba kernels of the Potts mixture's mean-field sweep: one pass over the arrays per sweep.

A checkerboard sweep updates the four sublattices (:data:`gmm._potts.SUBLATTICES`) in turn, each
site from its log joint and its neighbours' ``q``. :func:`gmm._fused_potts_four_pass.update_sublattice`
does one sublattice in one strided pass (four passes over the memory per sweep), as
:func:`gmm._potts.update_sublattice` does in numpy.

:func:`sweep` does the whole sweep in one pass, and gives the same ``q`` bit for bit. A site's
update reads only its neighbours, and must see those of earlier sublattices already updated and
those of later ones not yet: any order of the updates that puts the earlier of two neighbours
first gives the same result. Step ``t`` of :func:`sweep_rows` updates sublattice ``p``'s sites
in row ``t - lags[p]`` (:func:`wavefront_lags`: (0, 0, 1, 1) for the 4-neighbourhood, (0, 1, 2,
3) for the 8), so that each row is read once into a ring of a few rows, split by column parity
so that every loop runs over contiguous memory, and written back once. The per-site arithmetic
is the four-pass kernel's, in the same order, with the same fused multiply-adds and polynomials
(:mod:`gmm._fma`); only the entropy's sum is reassociated. Rows are shared out on threads
(:mod:`gmm._threads`); the result does not depend on their number. tests/test_spatial.py
compares the kernels.

Imported only when a spatial fit first needs it; ``cache=True`` keeps the machine code.
"""

from __future__ import annotations

import numba
import numpy as np

from gmm._fma import exp_nonpositive, fma, log_at_least_one

# ------------------------------------------------------------------ the one-pass sweep
#: Ring slots (a power of two): a step needs rows ``t - max(lags) - 1 .. t + 1``, at most 6.
RING = 8
#: Sites per chunk of a half row (the scratch rows' length).
CHUNK = 1024
#: Fewest rows per thread: the deferred strips about two boundaries (8 rows each) stay apart.
MIN_ROWS_PER_PART = 16


def wavefront_lags(sublattices, offsets):
    """Smallest row lag per sublattice (int64 array) for which the wavefront is the four passes.

    Step ``t`` updates, for each sublattice ``p`` in order, its sites in row ``t - lags[p]``. A
    site of ``b`` must come after its neighbours of every earlier sublattice ``a`` (which it must
    see updated, and which must see it old): ``lags[b] >= dy + lags[a]`` for every offset
    ``(dy, dx)`` in ``offsets`` from a site of ``b`` to one of ``a`` (on equal steps the order
    of ``p`` decides). ``sublattices``: (row parity, column parity) pairs in sweep order.
    """
    lags = [0] * len(sublattices)
    for b, (row_b, col_b) in enumerate(sublattices):  # edges run from a < b: one pass in order
        for a, (row_a, col_a) in enumerate(sublattices[:b]):
            for dy, dx in offsets:
                if (row_b + dy) % 2 == row_a and (col_b + dx) % 2 == col_a:
                    lags[b] = max(lags[b], dy + lags[a])
    return np.array(lags, dtype=np.int64)


# The ring is a 2-D array of half rows padded with a zero at each end: line ``slot * 2K + 2k +
# parity`` holds ``q[k, row, parity::2]`` from index 1. The kernels index it with unsigned
# offsets: numba wraps negative signed indices around, a select that turns vector loads into
# gathers; and views would each cost a reference count (atomic operations) per call.
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _move_row(q, log_joint, ring, lj_ring, row, line, into_ring):
    """Split row ``row`` of every ``q[k]`` and ``log_joint[k]`` by column parity into the rings,
    or write ``q``'s back."""
    K, _, W = q.shape
    one = np.uint64(1)
    for k in range(K):
        e, o = line + 2 * k, line + 2 * k + 1
        for s in range(W // 2):  # both parities in one loop: LLVM vectorises the (un)zipping
            u = np.uint64(s) + one
            if into_ring:
                ring[e, u], ring[o, u] = q[k, row, 2 * s], q[k, row, 2 * s + 1]
                lj_ring[e, u], lj_ring[o, u] = log_joint[k, row, 2 * s], log_joint[k, row, 2 * s + 1]
            else:
                q[k, row, 2 * s], q[k, row, 2 * s + 1] = ring[e, u], ring[o, u]
        if W % 2:
            u = np.uint64(W // 2) + one
            if into_ring:
                ring[e, u], lj_ring[e, u] = q[k, row, W - 1], log_joint[k, row, W - 1]
            else:
                q[k, row, W - 1] = ring[e, u]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _field(ring, lines, first, lj_ring, lj_line, beta, k, field, top, n):
    """``field[k] = beta * (sum of the neighbours' q_k) + log_joint_k`` and ``top = max(top, it)``
    over ``n`` sites; neighbour ``o`` of site ``s`` is ``ring[lines[o] + 2k, first[o] + s]``.

    The neighbours are added from ``0.0`` in the offsets' order, as in :func:`update_sublattice`;
    the padding's zeros stand for those outside the image (``x + 0.0 == x`` for ``x >= +0``).
    """
    eight, j = lines.shape[0] == 8, lines.shape[0] - 1  # else 4: e..i repeat d, unused
    a, b, c, d = lines[0] + 2 * k, lines[1] + 2 * k, lines[2] + 2 * k, lines[3] + 2 * k
    e, g, h, i = lines[min(4, j)] + 2 * k, lines[min(5, j)] + 2 * k, lines[min(6, j)] + 2 * k, lines[j] + 2 * k
    ha, hb, hc, hd = np.uint64(first[0]), np.uint64(first[1]), np.uint64(first[2]), np.uint64(first[3])
    he, hg = np.uint64(first[min(4, j)]), np.uint64(first[min(5, j)])
    hh, hi = np.uint64(first[min(6, j)]), np.uint64(first[j])
    own = np.uint64(first[j + 1])
    for s in range(n):
        u = np.uint64(s)
        x = (((0.0 + ring[a, ha + u]) + ring[b, hb + u]) + ring[c, hc + u]) + ring[d, hd + u]
        if eight:
            x = (((x + ring[e, he + u]) + ring[g, hg + u]) + ring[h, hh + u]) + ring[i, hi + u]
        x = fma(x, beta, lj_ring[lj_line, own + u])
        field[k, s] = x
        top[s] = x if k == 0 else max(top[s], x)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"}, error_model="numpy")
def _normalise(resp, inverse, field, log_total, k, ring, line, first, n):
    """``ring[line, first + s] = resp[k, s] * inverse[s]``; returns ``sum q (field[k] - log_total)``.

    Only that sum is reassociated (vectorised): a product is one rounding whatever the flags.
    """
    total = 0.0
    for s in range(n):
        x = resp[k, s] * inverse[s]
        ring[line, first + np.uint64(s)] = x
        total += x * (field[k, s] - log_total[s])
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _exp_shifted(field, k, top, resp, total, n, floor):
    """``field[k] -= top``, ``resp[k] = exp(field[k])``, ``total += resp[k]`` over ``n`` sites:
    :func:`gmm._fma.exp_nonpositive` in one loop."""
    for s in range(n):
        x = field[k, s] - top[s]
        field[k, s] = x
        e = exp_nonpositive(x, floor)
        resp[k, s] = e
        total[s] += e


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _log_inverse(total, log_total, inverse, n):
    """``log_total = log(total)`` (:func:`gmm._fma.log_at_least_one`, in one loop) and
    ``inverse = 1 / total`` over ``n`` sites, ``total >= 1``."""
    for s in range(n):
        t = total[s]
        log_total[s] = log_at_least_one(t)
        inverse[s] = 1.0 / t


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _update_half_row(ring, lines, first, lj_ring, own, col, n, beta, floor, field, resp, rows):
    """:func:`update_sublattice`'s update of the ``n`` sites of one row of column parity ``col``.

    ``lines[o]``, ``first[o]``: ring line (for k = 0) and index of offset ``o``'s neighbour of
    site 0 (``first`` has one more entry, overwritten); ``own``: the row's line (k = 0, parity
    0) in both rings. Returns ``sum q log q`` over these sites.
    """
    K = field.shape[0]
    top, total, log_total, inverse = rows[0], rows[1], rows[2], rows[3]
    first[lines.shape[0]] = 1  # the sites' own index
    plogp = 0.0
    for s0 in range(0, n, field.shape[1]):
        m = min(field.shape[1], n - s0)
        for k in range(K):
            _field(ring, lines, first, lj_ring, own + col + 2 * k, beta, k, field, top, m)
        for s in range(m):
            total[s] = 0.0
        for k in range(K):
            _exp_shifted(field, k, top, resp, total, m, floor)
        _log_inverse(total, log_total, inverse, m)
        for k in range(K):
            plogp += _normalise(resp, inverse, field, log_total, k, ring, own + col + 2 * k, np.uint64(1 + s0), m)
        first += field.shape[1]
    return plogp


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sweep_rows(q, log_joint, beta, sublattices, offsets, lags, split, deferred, rows, loaded, floor, entropy):
    """Update rows ``rows[0]..rows[1]-1`` as the four passes would, reading each row once.

    Step ``t`` reads row ``t + 1`` into the rings, updates sublattice ``p``'s sites of row
    ``t - lags[p]`` (:func:`wavefront_lags`) if ``p < split[row]`` (``p >= split[row]`` when
    ``deferred``), and writes row ``t - max(lags)`` back to ``q``. Rows outside ``loaded``
    read as zeros. ``entropy[row, parity]`` receives ``-sum q log q`` of each half row updated.
    ``sublattices``, ``offsets``: int64 arrays of shape (4, 2) and (4 or 8, 2).
    """
    K, H, W = q.shape
    n_off, size = offsets.shape[0], 2 * K
    ring = np.zeros(((RING + 1) * size, (W + 1) // 2 + 2))  # slot RING: zeros, rows outside
    lj_ring = np.zeros((RING * size, (W + 1) // 2 + 2))  # the log joint's, alike
    field, resp, scratch = np.empty((K, CHUNK)), np.empty((K, CHUNK)), np.empty((4, CHUNK))
    parity, first = np.empty((2, n_off), dtype=np.int64), np.empty((2, n_off), dtype=np.int64)
    for c in range(2):
        for o in range(n_off):
            column = c + offsets[o, 1]  # of site 0's neighbour (-1: the padding)
            parity[c, o] = column & 1
            first[c, o] = 1 + (column - (column & 1)) // 2
    lines, start = np.empty(n_off, dtype=np.int64), np.empty(n_off + 1, dtype=np.int64)
    (row_lo, row_hi), (load_lo, load_hi) = rows, loaded
    mask, max_lag = RING - 1, lags.max()
    for r in range(load_lo, min(row_lo + 1, load_hi)):
        _move_row(q, log_joint, ring, lj_ring, r, (r & mask) * size, True)
    for t in range(row_lo, row_hi + max_lag):
        if load_lo <= t + 1 < load_hi:
            _move_row(q, log_joint, ring, lj_ring, t + 1, ((t + 1) & mask) * size, True)
        for p in range(lags.shape[0]):
            r = t - lags[p]
            if r < row_lo or r >= row_hi or r % 2 != sublattices[p, 0] or (p >= split[r]) != deferred:
                continue
            c = sublattices[p, 1]
            for o in range(n_off):
                neighbour = r + offsets[o, 0]
                slot = neighbour & mask if load_lo <= neighbour < load_hi else RING
                lines[o] = slot * size + parity[c, o]
            start[:n_off] = first[c]
            entropy[r, c] = -_update_half_row(ring, lines, start, lj_ring, (r & mask) * size, c,
                                              (W - c + 1) // 2, beta, floor, field, resp, scratch)
        if t - max_lag >= row_lo:
            _move_row(q, log_joint, ring, lj_ring, t - max_lag, ((t - max_lag) & mask) * size, False)


def sweep(q, log_joint, beta, sublattices, offsets, floor, min_rows_per_part=64):
    """One checkerboard sweep in one pass over the arrays, rows shared out on threads.

    Gives the ``q`` of :func:`update_sublattice` run on each sublattice in turn, bit for bit,
    whatever the number of threads. The parts of rows (at least ``min_rows_per_part``) run
    :func:`sweep_rows` at once, but for the sites that depend, through a chain of neighbours of
    earlier sublattices, on another part: in the row at distance ``d`` from the two rows about
    a boundary, sublattices ``p >= d``. Those strips of 8 rows run after.

    Parameters
    ----------
    q, log_joint : ndarray of shape (K, H, W), float64, C-contiguous; ``q`` updated in place
    beta, floor : float
    sublattices : sequence of 4 (row parity, column parity), in sweep order
    offsets : sequence of 4 or 8 (drow, dcol), the whole neighbourhood

    Returns
    -------
    float
        Entropy ``-sum q log q`` of the new ``q``, summed per row and column parity in order.
    """
    from gmm import _threads
    from gmm._fused import sum_in_order

    K, H, W = q.shape
    order, table = np.array(sublattices, dtype=np.int64), np.array(offsets, dtype=np.int64)
    lags, entropy = wavefront_lags(sublattices, offsets), np.zeros((H, 2))
    parts = _threads.block_parts(H, max(min_rows_per_part, MIN_ROWS_PER_PART))
    split, rows = np.full(H, len(order), dtype=np.int64), np.arange(H)
    for m, _ in parts[1:]:  # the boundary between rows m - 1 and m
        split = np.minimum(split, np.maximum(m - 1 - rows, rows - m))

    def run(lo, hi, deferred, loaded):
        sweep_rows(q, log_joint, float(beta), order, table, lags, split, deferred, (lo, hi), loaded, floor, entropy)

    _threads.run_parts(lambda part, lo, hi: run(lo, hi, False, (lo, hi)), parts)
    strips = [(max(m - len(order), 0), min(m + len(order), H)) for m, _ in parts[1:]]
    if strips:
        _threads.run_parts(lambda part, lo, hi: run(lo, hi, True, (max(lo - 1, 0), min(hi + 1, H))), strips)
    return sum_in_order(entropy.ravel())

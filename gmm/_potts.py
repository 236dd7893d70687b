"""Pure functions of the Potts (hidden Markov random field) mixture's mean-field maths.

Layout: per-site arrays are component-first on the grid, ``q`` and the log joint of shape
``(K, H, W)``, so that a neighbour sum is a few additions of shifted slices (no convolution,
no loop over pixels) and every operation runs along contiguous image rows.

Update order: the grid is split into four *sublattices* by the parity of (row, column). No two
sites of one sublattice are neighbours in the 4- or the 8-neighbourhood, so updating a whole
sublattice at once is an exact block-coordinate ascent step on the mean-field free energy
(a checkerboard schedule): the free energy can never fall during an E-step, unlike the
synchronous ("Jacobi") update, which can oscillate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from gmm import _gaussian as G

#: One offset per undirected edge: the 4-neighbourhood (right, down), the 8 adds the diagonals.
HALF_OFFSETS = {4: ((0, 1), (1, 0)), 8: ((0, 1), (1, 0), (1, 1), (1, -1))}
#: Sublattices (row parity, column parity) in sweep order.
SUBLATTICES = ((0, 0), (1, 1), (0, 1), (1, 0))


def neighbour_offsets(connectivity):
    """Every (drow, dcol) of a site's neighbourhood: 4 or 8 offsets."""
    half = HALF_OFFSETS[connectivity]
    return half + tuple((-dy, -dx) for dy, dx in half)


def _strided_pair(n, start, offset):
    """Slices pairing sublattice sites ``start + 2r`` with their neighbours ``start + 2r + offset``.

    Returns ``(target, source)``: ``target`` indexes the sublattice (``r``), ``source`` the full
    axis of length ``n``; both cover only the ``r`` whose neighbour lies inside the axis (free
    boundary). ``None`` when no site has that neighbour.
    """
    s = start + offset
    first = (1 - s) // 2 if s < 0 else 0
    last = min((n - 1 - s) // 2, (n - 1 - start) // 2)
    if last < first:
        return None
    return slice(first, last + 1), slice(s + 2 * first, s + 2 * last + 1, 2)


def sublattice_field(q, start, offsets):
    """Sum of the neighbours' ``q`` for every site of one sublattice: shape (K, h, w).

    Parameters
    ----------
    q : ndarray of shape (K, H, W)
    start : (row parity, column parity)
    offsets : sequence of (drow, dcol), from :func:`neighbour_offsets`
    """
    K, H, W = q.shape
    out = np.zeros((K, (H - start[0] + 1) // 2, (W - start[1] + 1) // 2))
    for dy, dx in offsets:
        rows, cols = _strided_pair(H, start[0], dy), _strided_pair(W, start[1], dx)
        if rows is not None and cols is not None:
            out[:, rows[0], cols[0]] += q[:, rows[1], cols[1]]
    return out


def update_sublattice(q, log_joint, beta, start, offsets):
    """Mean-field update of one sublattice in place: ``q_ik ∝ exp(log_joint_ik + beta n_ik)``.

    ``n_ik`` is the sum of the neighbours' ``q_jk``. This is the exact maximiser of the free
    energy over the sublattice's ``q`` with every other site held.

    Parameters
    ----------
    q : ndarray of shape (K, H, W), updated in place
    log_joint : ndarray of shape (K, H, W)
        ``log pi_k + log N(y_i | mu_k, Sigma_k)``.
    beta : float
    start : (row parity, column parity)
    offsets : sequence of (drow, dcol)

    Returns
    -------
    float
        Entropy ``-sum q log q`` of the sublattice's new ``q``.
    """
    field = sublattice_field(q, start, offsets)
    field *= beta
    field += log_joint[:, start[0] :: 2, start[1] :: 2]
    K, h, w = field.shape
    _, resp, log_resp = G.normalize_log_joint(field.reshape(K, h * w))
    q[:, start[0] :: 2, start[1] :: 2] = resp.reshape(K, h, w)
    return -float(resp.ravel() @ log_resp.ravel())


def sweep(q, log_joint, beta, connectivity):
    """One checkerboard sweep: every sublattice updated once, in :data:`SUBLATTICES` order.

    Runs the numba kernel (:func:`gmm._fused_potts.sweep`: the whole sweep in one pass over
    the arrays, rows shared out on threads) when it can, else :func:`update_sublattice` in
    numpy; they agree to rounding.

    Returns
    -------
    float
        Entropy ``-sum q log q`` of the new ``q`` (each sublattice's entropy after its update,
        which later updates of the other sublattices leave unchanged).
    """
    offsets = neighbour_offsets(connectivity)
    kernel = _fused_update()
    if kernel is not None and q.flags.c_contiguous and log_joint.flags.c_contiguous \
            and q.dtype == log_joint.dtype == np.float64:
        return kernel(q, log_joint, float(beta), SUBLATTICES, offsets, G._LOG_RESP_FLOOR)
    return sum(update_sublattice(q, log_joint, beta, start, offsets) for start in SUBLATTICES)


def _fused_update():
    """:func:`gmm._fused_potts.sweep` (one pass per sweep), or None without numba (or with
    ``gmm._kernels.USE_NUMBA = False``): then :func:`update_sublattice` in numpy."""
    from gmm import _kernels

    if not _kernels.USE_NUMBA:
        return None
    try:
        from gmm._fused_potts import sweep as kernel
    except ImportError:  # numba is missing
        return None
    return kernel


def agreement(q, connectivity):
    """Expected number of agreeing neighbour pairs, ``sum_{i~j} sum_k q_ik q_jk`` (each edge once)."""
    K, H, W = q.shape
    total = 0.0
    for dy, dx in HALF_OFFSETS[connectivity]:
        a = q[:, : H - dy, max(-dx, 0) : W - max(dx, 0)]
        b = q[:, dy:, max(dx, 0) : W + min(dx, 0)]
        total += float(np.einsum("kij,kij->", a, b))
    return total


def pseudo_likelihood_beta(q, log_weights, connectivity, beta, *, beta_max, n_newton=20, tol=1e-6):
    """Maximise the mean-field-like pseudo-likelihood of the Potts prior over ``beta``.

    With the neighbours replaced by their mean-field values ``n_ik = sum_{j~i} q_jk``
    (Celeux, Forbes & Peyrard 2003), Besag's pseudo-likelihood of the labels is

        PL(beta) = sum_i sum_k q_ik [log pi_k + beta n_ik] - sum_i log sum_l pi_l exp(beta n_il),

    a concave function of ``beta`` (its second derivative is minus a sum of variances), so
    Newton's method from the current value converges; the result is clipped to [0, beta_max].
    The sum runs over the sites of one sublattice (even rows, even columns), no two of which
    are neighbours: Besag's (1974) *coding* estimator, whose terms are conditionally
    independent; it costs a quarter of the full sum in time and memory.

    Parameters
    ----------
    q : ndarray of shape (K, H, W)
    log_weights : ndarray of shape (K,)
    connectivity : {4, 8}
    beta : float
        Starting point.
    beta_max : float

    Returns
    -------
    float
    """
    K = q.shape[0]
    n = sublattice_field(q, (0, 0), neighbour_offsets(connectivity)).reshape(K, -1)
    observed = float(np.ascontiguousarray(q[:, ::2, ::2]).ravel() @ n.ravel())
    for _ in range(n_newton):
        _, p, _ = G.normalize_log_joint(beta * n + log_weights[:, np.newaxis])
        p *= n
        mean = p.sum(axis=0)  # E_p[n_i], per site
        gradient = observed - float(mean.sum())
        curvature = float(p.ravel() @ n.ravel() - mean @ mean)  # sum of Var_p[n_i] >= 0
        if curvature <= 0:
            break
        new = min(max(beta + gradient / curvature, 0.0), beta_max)
        done = abs(new - beta) < tol
        beta = new
        if done:
            break
    return float(beta)


# --------------------------------------------------------------------------- records, grid layout
@dataclass(frozen=True)
class SpatialHistory:
    """Per-iteration record of a mean-field EM fit; every array has shape (n_iter,), per site.

    Iteration ``t`` sweeps ``q`` under ``theta_t`` (E-step), then re-estimates ``theta_{t+1}``
    (M-step). After the E-step: ``data`` = ``E_q log p(y | z, theta_t)``, ``prior`` =
    ``sum_k qbar_k log pi_k``, ``agreement`` = ``beta_t * E_q[agreeing neighbour pairs]``,
    ``entropy`` = ``H(q)``, ``free_energy`` their sum. After the M-step, with the same ``q``
    and ``beta_t``: ``data_m``, ``prior_m``, ``free_energy_m``. For fixed beta the sequence
    ``free_energy[0] <= free_energy_m[0] <= free_energy[1] <= ...`` never decreases.
    """

    beta: np.ndarray
    data: np.ndarray
    prior: np.ndarray
    agreement: np.ndarray
    entropy: np.ndarray
    free_energy: np.ndarray
    data_m: np.ndarray
    prior_m: np.ndarray
    free_energy_m: np.ndarray

    @property
    def n_iter(self) -> int:
        return self.beta.shape[0]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def check_grid(X):
    """Validate grid data: shape (H, W, n_features), finite; returned as float64."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(
            f"a spatial prior needs grid data of shape (H, W, n_features), got shape {X.shape}; "
            "pass a grey image as (H, W, 1), and fit independent samples with gmm.GaussianMixture."
        )
    if X.shape[0] * X.shape[1] < 2 or X.shape[2] < 1:
        raise ValueError(f"the grid must have at least 2 sites and 1 feature, got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
    X = X.astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    return X


def check_sites(values, index, shape):
    """Validate the distinct-value layout of a grid: (values float64 (m, d), index or None, (H, W))."""
    try:
        height, width = (int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (H, W), got {shape!r}.") from None
    values = np.asarray(values)
    if values.ndim != 2 or values.dtype.kind not in "biuf" or not np.all(np.isfinite(values)):
        raise ValueError(f"values must be a finite numeric array of shape (m, n_features), got {values.dtype} {values.shape}.")
    if height * width < 2:
        raise ValueError(f"the grid must have at least 2 sites, got shape {(height, width)}.")
    if index is None:
        if values.shape[0] != height * width:
            raise ValueError(f"values must have one row per site ({height * width}) when index is None, got {values.shape[0]}.")
    else:
        index = np.asarray(index)
        if index.shape != (height, width) or index.dtype.kind not in "iu" or index.min() < 0 or index.max() >= values.shape[0]:
            raise ValueError(f"index must be an integer array of shape {(height, width)} indexing the rows of values.")
    return values.astype(np.float64, copy=False), index, (height, width)


def to_sites(per_value, index, shape):
    """(K, m) per distinct value to (K, H, W) per site."""
    if index is None:
        return per_value.reshape(-1, *shape)
    return np.take(per_value, index, axis=1)


def to_values(q, index, m):
    """(K, H, W) per site to (K, m) summed per distinct value: the M-step's weighted responsibilities."""
    K = q.shape[0]
    if index is None:
        return q.reshape(K, -1)
    flat = index.ravel()
    return np.stack([np.bincount(flat, weights=q[k].ravel(), minlength=m) for k in range(K)])


def argmax_first(q):
    """Index of the largest ``q_k`` per site, first on ties: (K, H, W) to (H, W) int64."""
    best, labels = q[0].copy(), np.zeros(q.shape[1:], dtype=np.int64)
    for k in range(1, q.shape[0]):
        better = q[k] > best
        labels[better] = k
        np.maximum(best, q[k], out=best)
    return labels

"""The spatial (Potts) mixture's mean-field sweep against a memory-bandwidth bound (issue 13).

One checkerboard sweep (:func:`gmm._potts.sweep`) updates every site's ``q`` (K, H, W) from the
log joint (K, H, W) and the neighbours' ``q``. However it is computed, it must at least read the
log joint once, read ``q`` once and write ``q`` once: ``3 * K * H * W * 8`` bytes. The bound is
that traffic at the machine's streaming bandwidth, measured here with numpy (a copy
``b[:] = a`` and a triad ``a = b + s * c`` over 256 MB arrays, counting bytes read and written,
best of several runs) on one thread, and on two threads at once for the two-thread sweep (two
cores stream about twice what one does on this machine). The sweep's time over the bound is the
ratio issue 13 asks to keep within 2.

Timed, best of several runs, 4-neighbourhood, beta = 2:

* ``sweep_s``: the sweep as the library runs it (:func:`gmm._fused_potts.sweep`, one pass over
  the arrays) on one thread (``GMM_NUM_THREADS=1``), and ``sweep_2_threads_s`` on two (against
  the two-thread bound, ``bound_2_threads_s``).
* ``four_pass_s``: the previous kernel, :func:`gmm._fused_potts_four_pass.update_sublattice` once per
  sublattice (four strided passes over the arrays), one thread.
* ``moves_s``: every row of ``q`` and the log joint moved into the ring and ``q`` moved back, as
  the sweep moves them, with none of its arithmetic (one thread): the part that carries the
  traffic to memory. The rest of the sweep's time is arithmetic on rows in cache.
* ``arithmetic_s``: the sweep's arithmetic alone, one thread, every half row updated on rows that
  stay in cache (none moved): what the sweep would cost if memory cost nothing, and
  ``arithmetic_ratio`` its ratio to the bound. Where that is above 2, no memory traffic, however
  well hidden, brings the sweep within 2x of the bound on this core.
* ``exp_s``, ``log_s``: what the sweep's ``K * H * W`` exponentials and ``H * W`` logarithms (with
  the reciprocals) cost alone, as the kernel computes them, on a block in cache, scaled: the
  polynomials of :mod:`gmm._fma` (Horner's scheme with fused multiply-adds).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sweep.py      # about 20 seconds

Writes ``benchmarks/results/bench_sweep.json``.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_sweep.json"
SIZES = {"481x321": (321, 481), "1920x1080": (1080, 1920)}
K, BETA, CONNECTIVITY = 4, 2.0, 4


def best_of(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def bandwidth(n_bytes=256 * 2**20, repeats=7, threads=1):
    """Streaming bandwidth in GB/s (bytes read + written per second): copy and triad, each run by
    ``threads`` threads at once on arrays of their own (numpy releases the GIL), timed from the
    common start to the last one's end."""
    n = n_bytes // 8
    arrays = [np.random.RandomState(i).random_sample((4, n)) for i in range(threads)]

    def copy(a, b, c, scratch):
        np.copyto(b, a)

    def triad(a, b, c, scratch):  # a = b + s * c, without a temporary
        np.multiply(c, 3.0, out=scratch)
        np.add(b, scratch, out=a)

    def timed(kernel):
        def together():
            workers = [threading.Thread(target=kernel, args=tuple(x)) for x in arrays]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        return best_of(together, repeats)

    # copy: read a, write b; triad: read c, write scratch, read b and scratch, write a
    return {"copy_gb_s": threads * 2 * n * 8 / timed(copy) / 1e9,
            "triad_gb_s": threads * 6 * n * 8 / timed(triad) / 1e9}


def sweep_seconds(shape, threads, repeats=7):
    from gmm import _potts

    os.environ["GMM_NUM_THREADS"] = str(threads)
    rng = np.random.RandomState(0)
    log_joint = np.log(rng.dirichlet(np.ones(K), size=shape).transpose(2, 0, 1).copy())
    q = np.exp(log_joint)
    q /= q.sum(axis=0)
    _potts.sweep(q, log_joint, BETA, CONNECTIVITY)  # warm-up
    return best_of(lambda: _potts.sweep(q, log_joint, BETA, CONNECTIVITY), repeats)


def four_pass_seconds(shape, repeats=5):
    from gmm import _fused_potts_four_pass, _gaussian, _potts

    rng = np.random.RandomState(0)
    log_joint = np.log(rng.dirichlet(np.ones(K), size=shape).transpose(2, 0, 1).copy())
    q = np.exp(log_joint)
    q /= q.sum(axis=0)
    table = np.array(_potts.neighbour_offsets(CONNECTIVITY), dtype=np.int64)

    def run():
        for row, col in _potts.SUBLATTICES:
            _fused_potts_four_pass.update_sublattice(q, log_joint, BETA, row, col, table, _gaussian._LOG_RESP_FLOOR)

    run()
    return best_of(run, repeats)


def moves_seconds(shape, repeats=7):
    """One thread moving every row of ``q`` and the log joint into the ring and ``q`` back out, as
    :func:`gmm._fused_potts.sweep_rows` does, with none of the sweep's arithmetic: the part of
    the sweep that carries its traffic to memory."""
    import numba

    from gmm import _fused_potts

    @numba.njit(error_model="numpy")
    def run(q, log_joint):
        size = 2 * q.shape[0]
        ring = np.zeros(((_fused_potts.RING + 1) * size, (q.shape[2] + 1) // 2 + 2))
        lj_ring = np.zeros((_fused_potts.RING * size, (q.shape[2] + 1) // 2 + 2))
        mask = _fused_potts.RING - 1
        for row in range(q.shape[1]):
            _fused_potts._move_row(q, log_joint, ring, lj_ring, row, (row & mask) * size, True)
            _fused_potts._move_row(q, log_joint, ring, lj_ring, row, (row & mask) * size, False)

    rng = np.random.RandomState(0)
    log_joint = np.log(rng.dirichlet(np.ones(K), size=shape).transpose(2, 0, 1).copy())
    q = np.exp(log_joint)
    run(q, log_joint)
    return best_of(lambda: run(q, log_joint), repeats)


def arithmetic_seconds(shape, repeats=7):
    """One thread's sweep with memory costing nothing: every half row's update
    (:func:`gmm._fused_potts._update_half_row`, the sweep's arithmetic, neighbour sums to entropy)
    run on rows that stay in the ring, in cache, none moved. The sweep cannot run faster than
    this on one core, whatever its memory traffic."""
    import numba

    from gmm import _fused_potts, _gaussian, _potts

    H, W = shape
    offsets = np.array(_potts.neighbour_offsets(CONNECTIVITY), dtype=np.int64)
    size, mask = 2 * K, _fused_potts.RING - 1
    rng = np.random.RandomState(0)
    ring = 0.25 * rng.random_sample(((_fused_potts.RING + 1) * size, (W + 1) // 2 + 2))
    lj_ring = np.log(rng.random_sample((_fused_potts.RING * size, (W + 1) // 2 + 2)))
    row = 2  # an inner row: all its neighbours in the ring
    lines, firsts = np.empty((2, len(offsets)), dtype=np.int64), np.empty((2, len(offsets) + 1), dtype=np.int64)
    for c in range(2):  # as sweep_rows computes them
        for o, (dy, dx) in enumerate(offsets):
            column = c + dx
            lines[c, o] = ((row + dy) & mask) * size + (column & 1)
            firsts[c, o] = 1 + (column - (column & 1)) // 2

    @numba.njit(error_model="numpy")
    def run(ring, lj_ring, lines, firsts, H, W, floor, field, resp, scratch):
        total = 0.0
        for _ in range(H):
            for c in range(2):
                start = firsts[c].copy()
                total += _fused_potts._update_half_row(ring, lines[c], start, lj_ring, (row & mask) * size, c,
                                                        (W - c + 1) // 2, BETA, floor, field, resp, scratch)
        return total

    buffers = (np.empty((K, _fused_potts.CHUNK)), np.empty((K, _fused_potts.CHUNK)), np.empty((4, _fused_potts.CHUNK)))
    arguments = (ring, lj_ring, lines, firsts, H, W, _gaussian._LOG_RESP_FLOOR) + buffers
    run(*arguments)
    return best_of(lambda: run(*arguments), repeats)


def exp_log_seconds_per_value(n=1024, repeats=2000):
    """Seconds per ``exp`` and per ``log`` as the one-pass kernel computes them (its loops
    :func:`gmm._fused_potts._exp_shifted` and ``_log_inverse``, the latter with ``1 / total``),
    on a block in L1."""
    import numba

    from gmm import _fused_potts

    @numba.njit(error_model="numpy")
    def run_exp(field, top, resp, total, repeats):
        for _ in range(repeats):
            _fused_potts._exp_shifted(field, 0, top, resp, total, field.shape[1], -700.0)

    @numba.njit(error_model="numpy")
    def run_log(total, log_total, inverse, repeats):
        for _ in range(repeats):
            _fused_potts._log_inverse(total, log_total, inverse, total.shape[0])

    rng = np.random.RandomState(0)
    field, top, resp, total = -20.0 * rng.random_sample((1, n)), np.zeros(n), np.empty((1, n)), np.zeros(n)
    ones, log_total, inverse = 1.0 + 3.0 * rng.random_sample(n), np.empty(n), np.empty(n)
    run_exp(field, top, resp, total, 1)  # top = 0: field -= top leaves it unchanged
    run_log(ones, log_total, inverse, 1)
    exp = best_of(lambda: run_exp(field, top, resp, total, repeats), 5) / (n * repeats)
    log = best_of(lambda: run_log(ones, log_total, inverse, repeats), 5) / (n * repeats)
    return exp, log


def main():
    measured, measured_2 = bandwidth(), bandwidth(threads=2)
    stream, stream_2 = max(measured.values()), max(measured_2.values())
    exp, log = exp_log_seconds_per_value()
    rows = []
    for name, shape in SIZES.items():
        one, two, four = sweep_seconds(shape, 1), sweep_seconds(shape, 2), four_pass_seconds(shape)
        moves, arithmetic = moves_seconds(shape), arithmetic_seconds(shape)
        traffic = 3 * K * shape[0] * shape[1] * 8
        bound, bound_2 = traffic / (stream * 1e9), traffic / (stream_2 * 1e9)
        sites = shape[0] * shape[1]
        rows.append({"size": name, "k": K, "sweep_s": one, "sweep_2_threads_s": two, "four_pass_s": four,
                     "moves_s": moves, "arithmetic_s": arithmetic, "arithmetic_ratio": arithmetic / bound,
                     "exp_s": exp * K * sites, "log_s": log * sites,
                     "min_traffic_mb": traffic / 2**20, "bound_s": bound, "bound_2_threads_s": bound_2,
                     "ratio": one / bound, "ratio_2_threads": two / bound_2, "four_pass_ratio": four / bound})
        print(f"{name}: sweep {one * 1e3:.1f} ms on 1 thread, {two * 1e3:.1f} ms on 2; four passes "
              f"{four * 1e3:.1f} ms; bound {bound * 1e3:.1f} ms on 1 thread ({traffic / 2**20:.0f} MB at "
              f"{stream:.1f} GB/s), {bound_2 * 1e3:.1f} ms on 2 ({stream_2:.1f} GB/s): {one / bound:.1f}x, "
              f"{two / bound_2:.1f}x, {four / bound:.1f}x the bound; its arithmetic alone (rows in cache) "
              f"{arithmetic * 1e3:.1f} ms ({arithmetic / bound:.1f}x), its row moves alone "
              f"{moves * 1e3:.1f} ms, exps {exp * K * sites * 1e3:.1f} ms, logs {log * sites * 1e3:.1f} ms")
    document = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(),
                         "cpus": os.cpu_count(), "numpy": np.__version__,
                         "threads": os.environ.get("OMP_NUM_THREADS", "unset"), "beta": BETA,
                         "connectivity": CONNECTIVITY},
                "bandwidth": measured, "bandwidth_2_threads": measured_2, "exp_s_per_value": exp,
                "log_s_per_value": log, "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, RESULTS)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

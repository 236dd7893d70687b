"""The spatial (Potts) mixture's mean-field sweep against a memory-bandwidth bound (issue 13).

One checkerboard sweep (:func:`gmm._potts.sweep`) updates every site's ``q`` (K, H, W) from the
log joint (K, H, W) and the neighbours' ``q``. However it is computed, it must at least read the
log joint once, read ``q`` once and write ``q`` once: ``3 * K * H * W * 8`` bytes. The bound is
that traffic at the machine's streaming bandwidth, measured here with numpy on one thread (a
copy ``b[:] = a`` and a triad ``a = b + s * c`` over 256 MB arrays, counting bytes read and
written, best of several runs). The sweep's time over the bound is the ratio issue 13 asks to
keep within 2.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sweep.py      # about 30 seconds

Writes ``benchmarks/results/bench_sweep.json``.
"""

from __future__ import annotations

import json
import os
import platform
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


def bandwidth(n_bytes=256 * 2**20, repeats=7):
    """Streaming bandwidth in GB/s (bytes read + written per second): copy and triad."""
    n = n_bytes // 8
    a, b, c = np.random.RandomState(0).random_sample((3, n))
    copy = best_of(lambda: np.copyto(b, a), repeats)
    scratch = np.empty(n)

    def triad():  # a = b + s * c, without a temporary
        np.multiply(c, 3.0, out=scratch)
        np.add(b, scratch, out=a)

    triad_seconds = best_of(triad, repeats)
    # copy: read a, write b; triad: read c, write scratch, read b and scratch, write a
    return {"copy_gb_s": 2 * n * 8 / copy / 1e9, "triad_gb_s": 6 * n * 8 / triad_seconds / 1e9}


def sweep_seconds(shape, repeats=7):
    from gmm import _potts

    rng = np.random.RandomState(0)
    log_joint = np.log(rng.dirichlet(np.ones(K), size=shape).transpose(2, 0, 1).copy())
    q = np.exp(log_joint)
    q /= q.sum(axis=0)
    _potts.sweep(q, log_joint, BETA, CONNECTIVITY)  # warm-up
    return best_of(lambda: _potts.sweep(q, log_joint, BETA, CONNECTIVITY), repeats)


def main():
    measured = bandwidth()
    stream = max(measured.values())
    rows = []
    for name, shape in SIZES.items():
        seconds = sweep_seconds(shape)
        traffic = 3 * K * shape[0] * shape[1] * 8
        bound = traffic / (stream * 1e9)
        rows.append({"size": name, "k": K, "sweep_s": seconds, "min_traffic_mb": traffic / 2**20,
                     "bound_s": bound, "ratio": seconds / bound})
        print(f"{name}: sweep {seconds * 1e3:.1f} ms, bound {bound * 1e3:.1f} ms "
              f"({traffic / 2**20:.0f} MB at {stream:.1f} GB/s): {seconds / bound:.1f}x the bound")
    document = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(),
                         "cpus": os.cpu_count(), "numpy": np.__version__,
                         "threads": os.environ.get("OMP_NUM_THREADS", "unset"), "beta": BETA,
                         "connectivity": CONNECTIVITY},
                "bandwidth": measured, "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, RESULTS)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

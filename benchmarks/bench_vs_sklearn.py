"""gmm against scikit-learn on real photos, side by side in one run.

For each case both libraries fit the same pixels (full covariance, k-means initialisation,
tol 1e-3, same K), then compute the full-size label map. Each measurement runs in a fresh
subprocess so that its peak memory (VmHWM) is its own; the baseline is the resident size
after the interpreter started, imported everything and loaded the input array. Times are the
best of ``--repeats`` runs after one warm-up run (scikit-learn runs once on the large images).
A gmm fit under 20 ms is timed again over 20 runs, and so is scikit-learn on that case: the best
of three runs right after a process starts measures its cold caches and first allocations more
than the fit (the moose: 13.1 ms, against 11.2 ms over 20 runs).

    .venv/bin/python benchmarks/bench_vs_sklearn.py            # all cases (about 10 minutes)
    .venv/bin/python benchmarks/bench_vs_sklearn.py --quick    # fox and moose only (about 2 minutes)
    .venv/bin/python benchmarks/bench_vs_sklearn.py --only 'fox grey'   # rerun cases, keep the others' rows

gmm runs twice per case: with float64 features (the default) and float32 ones (``dtype``).

Writes ``benchmarks/results/bench_vs_sklearn.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gmm.companion.paths import BENCHMARK_RESULTS_DIR

CASES = [
    # name, image, size (W, H) or None, colour, K, target speed-up (issue 13) or None
    ("fox", "fox", None, "rgb", 3, 100),
    ("fox", "fox", None, "rgb", 4, 100),
    ("moose", "moose", None, "rgb", 3, 50),
    ("fox 1920x1080", "fox", (1920, 1080), "rgb", 3, None),
    ("fox 1920x1080", "fox", (1920, 1080), "rgb", 4, None),
    ("fox 3840x2160", "fox", (3840, 2160), "rgb", 3, None),
    ("fox 3840x2160", "fox", (3840, 2160), "rgb", 4, 150),  # and peak memory <= 250 MB
    ("fox grey", "fox", None, "grey", 3, 300),
    ("moose grey", "moose", None, "grey", 3, None),
    ("fox 3840x2160 grey", "fox", (3840, 2160), "grey", 3, None),
]
QUICK = {"fox", "moose", "fox grey", "moose grey"}
SHORT_FIT_S, SHORT_FIT_REPEATS = 0.02, 20  # both libraries get the same number of runs


def prepare_image(name, size, colour):
    """The input array: a registered photo, optionally resized (bilinear), RGB or grey uint8."""
    from skimage.transform import resize

    from gmm.data import load_image
    from gmm.image import to_grey

    image = load_image(name)
    if size is not None:
        width, height = size
        image = np.round(resize(image, (height, width), order=1, anti_aliasing=True, preserve_range=True))
        image = image.clip(0, 255).astype(np.uint8)
    return to_grey(image) if colour == "grey" else image


def _status_bytes(field):
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak).

    VmHWM belongs to the address space, which exec replaces: unlike getrusage's ru_maxrss it does
    not inherit the peak of the parent that forked this child.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(library, path, k, repeats, seed=0):
    """Run in a child: fit + label map on the array at ``path``; print one JSON line.

    ``library``: 'gmm' (float64 features), 'gmm32' (float32 features, ``fit_image(dtype=...)``)
    or 'sklearn'. One warm-up run first (imports, numba's kernels loaded from its cache), timed
    apart as ``first_seconds``, then the best of ``repeats`` timed runs. The peak memory covers
    all runs of the child.
    """
    import warnings

    warnings.simplefilter("ignore")
    image = np.load(path)
    before_imports = _status_bytes("VmRSS")
    if library.startswith("gmm"):
        import gmm
        from gmm import _kernels, distinct

        # numba (a dependency, imported on first use) and its cached kernels count as imports:
        # one fit of a tiny image of the same kind loads them. All imports together are reported
        # apart as import_mb (numba's share, LLVM and the loaded kernels: about 70 MB).
        _kernels._fused()
        distinct._counting_kernels()
        tiny = np.random.RandomState(0).randint(0, 256, size=(8, 8) + image.shape[2:], dtype=np.uint8)
        gmm.fit_image(tiny, k, random_state=0, dtype=np.float32 if library == "gmm32" else np.float64)
    else:
        from sklearn.mixture import GaussianMixture
    baseline = _status_bytes("VmRSS")
    dtype = np.float32 if library == "gmm32" else np.float64

    def once():
        if library.startswith("gmm"):
            fit = gmm.fit_image(image, k, covariance_type="full", init_params="kmeans", tol=1e-3, random_state=seed,
                                dtype=dtype)
            return fit.model, fit.labels, lambda: fit.model.score(fit.features, sample_weight=fit.pixels.counts)
        X = image.reshape(image.shape[0] * image.shape[1], -1).astype(np.float64)
        model = GaussianMixture(k, covariance_type="full", init_params="kmeans", tol=1e-3, random_state=seed).fit(X)
        return model, model.predict(X).reshape(image.shape[:2]), lambda: model.score(X)

    first = None
    if repeats > 1:
        start = time.perf_counter()
        once()
        first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        result = None  # drop the previous run's arrays before the next run starts
        start = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - start)
    model, labels, score = result
    peak = _status_bytes("VmHWM")
    print(json.dumps({"seconds": min(times), "first_seconds": first, "repeats": repeats, "n_iter": int(model.n_iter_),
                      "mean_log_likelihood": float(score()), "peak_mb_above_start": (peak - baseline) / 2**20,
                      "import_mb": (baseline - before_imports) / 2**20,
                      "labels_shape": list(labels.shape)}))


def run_child(library, path, k, repeats):
    out = subprocess.run([sys.executable, __file__, "--child", library, str(path), str(k), str(repeats)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the original-size photos")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case for gmm (best time kept)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md table from the saved .json")
    parser.add_argument("--only", nargs="+", metavar="CASE", help="only these cases (by name, e.g. 'fox grey')")
    parser.add_argument("--out", type=Path, default=BENCHMARK_RESULTS_DIR, help="folder of the .json and .md results")
    parser.add_argument("--child", nargs=4, metavar=("LIBRARY", "PATH", "K", "REPEATS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return measure(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
    if args.report_only:
        return write_results(json.loads((args.out / "bench_vs_sklearn.json").read_text())["rows"], args.out)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, image_name, size, colour, k, target in CASES:
            if (args.quick and label not in QUICK) or (args.only and label not in args.only):
                continue
            image = prepare_image(image_name, size, colour)
            path = Path(tmp) / "image.npy"
            np.save(path, image)
            big = image.shape[0] * image.shape[1] > 1_000_000
            repeats = args.repeats
            ours = run_child("gmm", path, k, repeats)
            if ours["seconds"] < SHORT_FIT_S and not big and repeats < SHORT_FIT_REPEATS:
                repeats = SHORT_FIT_REPEATS
                ours = run_child("gmm", path, k, repeats)
            ours32 = run_child("gmm32", path, k, repeats)
            theirs = run_child("sklearn", path, k, 1 if big else repeats)
            row = {"case": label, "colour": colour, "k": k, "pixels": int(image.shape[0] * image.shape[1]),
                   "distinct_values": int(len(np.unique(image.reshape(-1, 1 if image.ndim == 2 else 3), axis=0))),
                   "gmm": ours, "gmm_float32": ours32, "sklearn": theirs, "target_speedup": target,
                   "speedup": theirs["seconds"] / ours["seconds"], "measured": time.strftime("%Y-%m-%d %H:%M"),
                   "delta_mean_log_likelihood": ours["mean_log_likelihood"] - theirs["mean_log_likelihood"]}
            rows.append(row)
            print(f"{label:>20} K={k}: gmm {ours['seconds']:.3f} s ({ours['n_iter']} it, {ours['peak_mb_above_start']:.0f} MB)"
                  f"  sklearn {theirs['seconds']:.2f} s ({theirs['n_iter']} it, {theirs['peak_mb_above_start']:.0f} MB)"
                  f"  x{row['speedup']:.0f}  dLL {row['delta_mean_log_likelihood']:+.2e}"
                  f"  (float32: {ours32['seconds']:.3f} s, dLL vs float64 {ours32['mean_log_likelihood'] - ours['mean_log_likelihood']:+.1e})",
                  flush=True)
    if args.only:  # the other cases keep their rows from the last run, in the order of CASES
        rows = _merged(rows, args.out / "bench_vs_sklearn.json")
    write_results(rows, args.out)


def _merged(new_rows, previous_file):
    """The previous run's rows with ``new_rows`` in place of those of the same case and K."""
    previous = json.loads(previous_file.read_text())["rows"] if previous_file.exists() else []
    by_case = {(r["case"], r["k"]): r for r in previous}
    by_case.update({(r["case"], r["k"]): r for r in new_rows})
    order = [(label, k) for label, _, _, _, k, _ in CASES]
    return [by_case[key] for key in order if key in by_case]


def write_results(rows, out=BENCHMARK_RESULTS_DIR):
    import sklearn

    out.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "threads": {v: os.environ.get(v, "unset") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}
    payload = json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n"
    lines = ["| case | K | pixels | distinct | gmm s (iter) | gmm float32 s | sklearn s (iter) | speed-up (target) "
             "| per iteration | gmm MB | sklearn MB | mean log-lik gmm − sklearn |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        g, s, g32 = r["gmm"], r["sklearn"], r.get("gmm_float32")
        per_iteration = (s["seconds"] / s["n_iter"]) / (g["seconds"] / g["n_iter"])
        target = f" (≥ {r['target_speedup']}×)" if r.get("target_speedup") else ""
        f32 = f"{g32['seconds']:.3f}" if g32 else "–"
        lines.append(f"| {r['case']} | {r['k']} | {r['pixels']:,} | {r['distinct_values']:,} | {g['seconds']:.3f} ({g['n_iter']}) "
                     f"| {f32} | {s['seconds']:.2f} ({s['n_iter']}) | {r['speedup']:.0f}×{target} | {per_iteration:.0f}× "
                     f"| {g['peak_mb_above_start']:.0f} | {s['peak_mb_above_start']:.0f} | {r['delta_mean_log_likelihood']:+.1e} |")
    for name, text in (("bench_vs_sklearn.json", payload), ("bench_vs_sklearn.md", "\n".join(lines) + "\n")):
        target = out / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, target)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""gmm against scikit-learn on real photos, side by side in one run.

For each case both libraries fit the same pixels (full covariance, k-means initialisation,
tol 1e-3, same K), then compute the full-size label map. Each measurement runs in a fresh
subprocess so that its peak memory (VmHWM) is its own; the baseline is the resident size
after the interpreter started, imported everything and loaded the input array. Times are the
best of ``--repeats`` runs after one warm-up run (scikit-learn runs once on the large images).

    .venv/bin/python benchmarks/bench_vs_sklearn.py            # all cases (about 5 minutes)
    .venv/bin/python benchmarks/bench_vs_sklearn.py --quick    # fox and moose only

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
    # name, image, size (W, H) or None, colour, K
    ("fox", "fox", None, "rgb", 3),
    ("fox", "fox", None, "rgb", 4),
    ("moose", "moose", None, "rgb", 3),
    ("fox 1920x1080", "fox", (1920, 1080), "rgb", 3),
    ("fox 1920x1080", "fox", (1920, 1080), "rgb", 4),
    ("fox 3840x2160", "fox", (3840, 2160), "rgb", 3),
    ("fox 3840x2160", "fox", (3840, 2160), "rgb", 4),
    ("fox grey", "fox", None, "grey", 3),
    ("moose grey", "moose", None, "grey", 3),
    ("fox 3840x2160 grey", "fox", (3840, 2160), "grey", 3),
]
QUICK = {"fox", "moose", "fox grey", "moose grey"}


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

    One untimed warm-up run first (imports, first-touch of tables), then the best of
    ``repeats`` timed runs. The peak memory covers all runs of the child.
    """
    import warnings

    warnings.simplefilter("ignore")
    image = np.load(path)
    if library == "gmm":
        import gmm
    else:
        from sklearn.mixture import GaussianMixture
    baseline = _status_bytes("VmRSS")

    def once():
        if library == "gmm":
            fit = gmm.fit_image(image, k, covariance_type="full", init_params="kmeans", tol=1e-3, random_state=seed)
            return fit.model, fit.labels, lambda: fit.model.score(fit.features, sample_weight=fit.pixels.counts)
        X = image.reshape(image.shape[0] * image.shape[1], -1).astype(np.float64)
        model = GaussianMixture(k, covariance_type="full", init_params="kmeans", tol=1e-3, random_state=seed).fit(X)
        return model, model.predict(X).reshape(image.shape[:2]), lambda: model.score(X)

    if repeats > 1:
        once()
    times = []
    for _ in range(repeats):
        result = None  # drop the previous run's arrays before the next run starts
        start = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - start)
    model, labels, score = result
    peak = _status_bytes("VmHWM")
    print(json.dumps({"seconds": min(times), "repeats": repeats, "n_iter": int(model.n_iter_),
                      "mean_log_likelihood": float(score()), "peak_mb_above_start": (peak - baseline) / 2**20,
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
    parser.add_argument("--child", nargs=4, metavar=("LIBRARY", "PATH", "K", "REPEATS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return measure(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
    if args.report_only:
        return write_results(json.loads((BENCHMARK_RESULTS_DIR / "bench_vs_sklearn.json").read_text())["rows"])

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, image_name, size, colour, k in CASES:
            if args.quick and label not in QUICK:
                continue
            image = prepare_image(image_name, size, colour)
            path = Path(tmp) / "image.npy"
            np.save(path, image)
            big = image.shape[0] * image.shape[1] > 1_000_000
            ours = run_child("gmm", path, k, args.repeats)
            theirs = run_child("sklearn", path, k, 1 if big else args.repeats)
            row = {"case": label, "colour": colour, "k": k, "pixels": int(image.shape[0] * image.shape[1]),
                   "distinct_values": int(len(np.unique(image.reshape(-1, 1 if image.ndim == 2 else 3), axis=0))),
                   "gmm": ours, "sklearn": theirs, "speedup": theirs["seconds"] / ours["seconds"],
                   "delta_mean_log_likelihood": ours["mean_log_likelihood"] - theirs["mean_log_likelihood"]}
            rows.append(row)
            print(f"{label:>20} K={k}: gmm {ours['seconds']:.3f} s ({ours['n_iter']} it, {ours['peak_mb_above_start']:.0f} MB)"
                  f"  sklearn {theirs['seconds']:.2f} s ({theirs['n_iter']} it, {theirs['peak_mb_above_start']:.0f} MB)"
                  f"  x{row['speedup']:.0f}  dLL {row['delta_mean_log_likelihood']:+.2e}", flush=True)
    write_results(rows)


def write_results(rows):
    import sklearn

    BENCHMARK_RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "threads": {v: os.environ.get(v, "unset") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}
    payload = json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n"
    lines = ["| case | K | pixels | distinct | gmm s (iter) | sklearn s (iter) | speed-up | per iteration | gmm MB | sklearn MB | mean log-lik gmm − sklearn |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        g, s = r["gmm"], r["sklearn"]
        per_iteration = (s["seconds"] / s["n_iter"]) / (g["seconds"] / g["n_iter"])
        lines.append(f"| {r['case']} | {r['k']} | {r['pixels']:,} | {r['distinct_values']:,} | {g['seconds']:.3f} ({g['n_iter']}) "
                     f"| {s['seconds']:.2f} ({s['n_iter']}) | {r['speedup']:.0f}× | {per_iteration:.0f}× | {g['peak_mb_above_start']:.0f} "
                     f"| {s['peak_mb_above_start']:.0f} | {r['delta_mean_log_likelihood']:+.1e} |")
    for name, text in (("bench_vs_sklearn.json", payload), ("bench_vs_sklearn.md", "\n".join(lines) + "\n")):
        target = BENCHMARK_RESULTS_DIR / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, target)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

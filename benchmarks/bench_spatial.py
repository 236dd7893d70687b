"""Speed and memory of the spatial (Potts) mixture, and K chosen on synthetic football frames.

Speed: a BSDS500 val image (481 x 321) and the fox photo resized to 1920 x 1080, K = 4, Lab,
beta = 2 (and "auto"), the distinct-colour path (what ``gmm.segment(..., smoothing=beta)``
runs): distinct colours, features, independent start, mean-field EM, labels. Wall time is the
best of ``--repeats`` runs after a warm-up, CPU time is the process time of that run (the
machine is shared: CPU time is the steadier figure). Targets: 0.5 s and 5 s.

Memory: the peak of numpy's allocations during one fit (``tracemalloc``, which numpy reports
to), against the target of 10 times the image's float64 size (H * W * 3 * 8 bytes).

K from the data: :func:`gmm.model_selection.select_n_components` on the distinct colours of
synthetic football frames (:func:`gmm.data.football_frame`, whose classes are known), with the
chosen K per effective sample size next to the number of classes and of classes covering at
least 1% and 5% of the frame.

    .venv/bin/python benchmarks/bench_spatial.py        # about 2-4 minutes on 2 cores

Writes ``benchmarks/results/bench_spatial.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_spatial.json"
TARGET_SECONDS = {"bsds 481x321": 0.5, "fox 1920x1080": 5.0}
MEMORY_FACTOR = 10


def images():
    from skimage.transform import resize

    from gmm.data import bsds_ids, load_bsds, load_image

    bsds = load_bsds(bsds_ids("val")[0])[0]
    fox = resize(load_image("fox"), (1080, 1920), order=1, anti_aliasing=True, preserve_range=True)
    return {"bsds 481x321": bsds, "fox 1920x1080": np.round(fox).clip(0, 255).astype(np.uint8)}


def fit(image, k, beta):
    """The distinct-colour path end to end; returns the fitted model."""
    from gmm.distinct import distinct_pixels
    from gmm.image import to_features
    from gmm.spatial import SpatialGaussianMixture

    pixels = distinct_pixels(image)
    features = to_features(pixels.values, "lab")
    model = SpatialGaussianMixture(k, beta=beta, random_state=0)
    model.fit_sites(features, pixels.index, pixels.shape, pixels.counts)
    return model


def measure(image, k, beta, repeats):
    fit(image, k, beta)  # warm-up: imports, scratch tables
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        model = fit(image, k, beta)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    tracemalloc.start()
    fit(image, k, beta)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    wall, cpu = min(runs)
    image_bytes = image.shape[0] * image.shape[1] * 3 * 8
    history = model.history_
    return dict(height=image.shape[0], width=image.shape[1], k=k, beta=beta, seconds=wall, cpu_seconds=cpu,
                all_runs_seconds=[r[0] for r in runs], n_iter=int(model.n_iter_), start_iter=int(model.mixture_.n_iter_),
                beta_fitted=float(model.beta_), free_energy_last=float(history.free_energy[-1]),
                peak_numpy_mb=peak / 2**20, image_float64_mb=image_bytes / 2**20,
                memory_ratio=peak / image_bytes)


def football_k(seeds, size):
    from gmm.data import FOOTBALL_CLASSES, football_frame
    from gmm.distinct import distinct_pixels
    from gmm.image import to_features
    from gmm.model_selection import icl_score, select_n_components

    rows = []
    for seed in seeds:
        image, truth = football_frame(seed, size=size)
        share = np.bincount(truth.ravel(), minlength=len(FOOTBALL_CLASSES)) / truth.size
        pixels = distinct_pixels(image)
        for space in ("rgb", "lab"):
            start = time.perf_counter()
            table = select_n_components(to_features(pixels.values, space), pixels.counts,
                                        candidates=range(1, 13), random_state=0)
            seconds = time.perf_counter() - start
            by_size = {str(n): int(table.candidates[np.argmax(icl_score(table.log_likelihood, table.entropy,
                                                                           table.n_parameters, n))])
                       for n in (100, 300, 1000, 3000, 10000, truth.size)}
            rows.append(dict(seed=seed, color_space=space, chosen=table.n_components, seconds=seconds,
                             classes_present=int(np.sum(share > 0)), classes_over_1pc=int(np.sum(share >= 0.01)),
                             classes_over_5pc=int(np.sum(share >= 0.05)), chosen_by_effective_size=by_size,
                             class_shares={c: float(s) for c, s in zip(FOOTBALL_CLASSES, share)}))
            print(f"  football seed {seed} {space}: K = {table.n_components} ({by_size}), classes >= 1%: "
                  f"{rows[-1]['classes_over_1pc']}, >= 5%: {rows[-1]['classes_over_5pc']}", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--football-seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from gmm._threads import single_threaded

    speed = []
    with single_threaded():
        for name, image in images().items():
            for beta in (2.0, "auto"):
                entry = dict(case=name, target_seconds=TARGET_SECONDS[name], **measure(image, 4, beta, args.repeats))
                entry["meets_time"] = entry["seconds"] <= entry["target_seconds"]
                entry["meets_memory"] = entry["memory_ratio"] <= MEMORY_FACTOR
                speed.append(entry)
                print(f"  {name} beta={beta}: {entry['seconds']:.2f} s wall, {entry['cpu_seconds']:.2f} s CPU, "
                      f"{entry['n_iter']} iterations, peak {entry['peak_numpy_mb']:.0f} MB = "
                      f"{entry['memory_ratio']:.1f}x the float64 image", flush=True)
        football = football_k(range(args.football_seeds), (360, 640))
    import sklearn

    out = dict(doc=__doc__, speed=speed, football_k=football, memory_factor_target=MEMORY_FACTOR,
               environment=dict(python=platform.python_version(), numpy=np.__version__, sklearn=sklearn.__version__,
                                machine=platform.machine(), processor=platform.processor()),
               date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               command="python benchmarks/bench_spatial.py " + f"--repeats {args.repeats} --football-seeds {args.football_seeds}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

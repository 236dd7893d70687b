"""BSDS500: the spatial (Potts) mixture's regions against per-pixel mixtures and classic segmenters.

Protocol. Every knob is tuned on BSDS500 *train* only, on a seeded random subset of it (the
compute budget: 2 shared cores), and every method is then run on all 100 *val* images with its
ONE best train parameter set. The selection score is ``PRI - VI / 10`` (VI in bits): one tenth
of a bit of VI weighs as much as 0.01 of PRI, so neither score is bought with the other.
PRI (probabilistic Rand index) and VI (variation of information, bits) come from
:mod:`gmm.metrics`, averaged over the annotators of each image, then over images.

The spatial method is tuned in two stages, at K = 4 first (colour space, blur, texture, beta
rule, connectivity), then the K rule (fixed K, or ICL with an effective sample size over K
from 1 or from 2 to 8, see :mod:`gmm.model_selection`) jointly with the region minimum size.
Two ablations run on val with the chosen parameters: beta = 0 (the same features, K rule and
regions without the Potts prior), and for both, the scores of the raw connected pieces of the
label map (no small-region merging: ``pri_pieces``, ``vi_pieces``, ``segments_pieces``). Baselines, each on its own
grid: ``gmm.segment`` per pixel (RGB, Lab, grey; colour classes, as the library returns them),
k-means on Lab, scikit-image's felzenszwalb, slic, quickshift (on a smaller subset: it is
slow; it runs on the image halved) and watershed on a Sobel gradient. Quoted figures (Arbelaez et al., TPAMI 2011,
Table 2, BSDS500 test, ODS) are listed as quoted, not measured: they use another split and
score each measure at its own optimal scale.

Tuning scores use an exact contingency-table formula (:func:`fast_scores`), checked against
:mod:`gmm.metrics` on the first images of every run; val scores use :mod:`gmm.metrics` itself.

    .venv/bin/python benchmarks/bsds_eval.py                 # about 10-20 minutes on 2 cores
    .venv/bin/python benchmarks/bsds_eval.py --tune-images 8 --val-images 10   # a smoke run

Writes ``benchmarks/results/bsds500.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bsds500.json"
QUOTED = [  # Arbelaez, Maire, Fowlkes & Malik, TPAMI 33(5) 2011, Table 2 (BSDS500 test, ODS)
    dict(method="gPb-owt-ucm (quoted)", pri=0.83, vi=1.69),
    dict(method="mean shift (quoted)", pri=0.79, vi=1.85),
    dict(method="Felzenszwalb-Huttenlocher (quoted)", pri=0.80, vi=2.21),
    dict(method="NCuts (quoted)", pri=0.78, vi=2.23),
]
SPATIAL_STAGE1 = (  # colour space and features at beta = 2, then the beta rule and 8-connectivity
    [dict(color_space=c, blur=0.0, texture=0.0, beta=2.0, connectivity=4) for c in ("lab", "rgb")]
    + [dict(color_space="lab", blur=1.0, texture=t, beta=2.0, connectivity=4) for t in (0.0, 1.0)]
    + [dict(color_space="lab", blur=1.0, texture=1.0, beta=beta, connectivity=4) for beta in (1.0, "auto")]
    + [dict(color_space="lab", blur=1.0, texture=1.0, beta=2.0, connectivity=8)]
)
STAGE1_MIN_SIZE = 1500
FIXED_K = (3, 4, 5, 6)
EFFECTIVE_SIZES = (100, 150, 200, 250, 300, 400, 500, 700)
K_MINS = (1, 2)
MIN_SIZES = (250, 500, 1000, 2000, 3000, 5000)
BASELINES = {
    "gmm_rgb": [dict(k=k) for k in (2, 3, 4, 5, 6, 8)],
    "gmm_lab": [dict(k=k) for k in (2, 3, 4, 5, 6, 8)],
    "gmm_grey": [dict(k=k) for k in (2, 3, 4, 5, 6, 8)],
    "kmeans_lab": [dict(k=k) for k in (2, 3, 4, 5, 6, 8)],
    "felzenszwalb": [dict(scale=s, sigma=0.8, min_size=m) for s in (300, 1000, 3000) for m in (500, 2000)],
    "slic": [dict(n_segments=n, compactness=c) for n in (10, 20, 40) for c in (10.0, 30.0)],
    "quickshift": [dict(kernel_size=k, max_dist=d, ratio=0.5) for k, d in ((5, 20), (7, 40), (10, 80))],
    "watershed": [dict(markers=m, compactness=c) for m in (10, 25, 50, 100) for c in (0.0, 0.001)],
}
QUICKSHIFT_TUNE_IMAGES = 15


# ------------------------------------------------------------------------------ the methods
def spatial_fit(image, params, k, seed=0):
    """Labels (colour classes) of the spatial mixture, and the fitted model."""
    from gmm.distinct import distinct_pixels
    from gmm.image import to_features
    from gmm.spatial import SpatialGaussianMixture, grid_features

    model = SpatialGaussianMixture(k, beta=params["beta"], connectivity=params["connectivity"],
                                   effective_size=params.get("effective_size", 300.0),
                                   candidates=range(params.get("k_min", 1), 9), random_state=seed)
    if params["blur"] == 0 and params["texture"] == 0:  # colour only: the distinct-colour path
        pixels = distinct_pixels(image)
        features = to_features(pixels.values, params["color_space"])
        return model.fit_sites(features, pixels.index, pixels.shape, pixels.counts), model
    X = grid_features(image, params["color_space"], blur=params["blur"], texture=params["texture"])
    return model.fit_predict(X), model


def baseline(image, method, p):
    """The label map of one baseline method with parameters ``p``."""
    from skimage import color, filters, segmentation

    if method.startswith("gmm_"):
        import gmm

        return gmm.segment(image, p["k"], color_space=method[4:], random_state=0).labels
    if method == "kmeans_lab":
        from sklearn.cluster import KMeans

        from gmm.distinct import distinct_pixels
        from gmm.image import to_features

        pixels = distinct_pixels(image)  # exact: k-means on distinct colours weighted by counts
        fit = KMeans(p["k"], n_init=1, random_state=0).fit(to_features(pixels.values, "lab"), sample_weight=pixels.counts)
        return pixels.expand(fit.labels_)
    if method == "felzenszwalb":
        return segmentation.felzenszwalb(image, scale=p["scale"], sigma=p["sigma"], min_size=p["min_size"])
    if method == "slic":
        return segmentation.slic(image, n_segments=p["n_segments"], compactness=p["compactness"], start_label=1)
    if method == "quickshift":  # on the image halved (its cost), labels brought back by nearest neighbour
        half = image[::2, ::2]
        small = segmentation.quickshift(half, kernel_size=p["kernel_size"], max_dist=p["max_dist"], ratio=p["ratio"])
        return np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)[: image.shape[0], : image.shape[1]]
    if method == "watershed":
        gradient = filters.sobel(color.rgb2gray(image))
        return segmentation.watershed(gradient, markers=p["markers"], compactness=p["compactness"])
    raise ValueError(method)


# ------------------------------------------------------------------------------- the scores
def fast_scores(annotations, labels):
    """(PRI, VI in bits) averaged over annotators, from contingency tables (exact)."""
    _, labels = np.unique(labels, return_inverse=True)
    labels = labels.ravel()
    n, pri, vi = labels.size, [], []
    for truth in annotations:
        _, truth = np.unique(truth, return_inverse=True)
        joint = np.bincount(truth.ravel() * (labels.max() + 1) + labels).astype(np.float64)
        a = np.bincount(truth.ravel()).astype(np.float64)
        b = np.bincount(labels).astype(np.float64)
        pairs = lambda c: float((c * (c - 1)).sum() / 2)  # noqa: E731
        total = n * (n - 1) / 2
        pri.append((total + 2 * pairs(joint) - pairs(a) - pairs(b)) / total)
        entropy = lambda c: float(-(c[c > 0] / n * np.log2(c[c > 0] / n)).sum())  # noqa: E731
        vi.append(2 * entropy(joint) - entropy(a) - entropy(b))
    return float(np.mean(pri)), float(np.mean(vi))


def library_scores(annotations, labels):
    from gmm import metrics

    labels = np.asarray(labels).astype(np.int64)
    vi = lambda t, s: metrics.variation_of_information(t, s, unit="bits")  # noqa: E731
    return (metrics.probabilistic_rand_index(annotations, labels),
            metrics.mean_over_annotators(vi, annotations, labels))


def row(image_id, method, params, labels, seconds, cpu, scorer):
    pri, vi = scorer(annotations_of(image_id), labels)
    return dict(id=image_id, method=method, params=params, pri=pri, vi=vi,
                segments=int(np.unique(labels).size), seconds=seconds, cpu_seconds=cpu)


_ANNOTATIONS = {}


def annotations_of(image_id):
    if image_id not in _ANNOTATIONS:
        from gmm.data import load_bsds

        _ANNOTATIONS.clear()
        _ANNOTATIONS[image_id] = load_bsds(image_id)[1]
    return _ANNOTATIONS[image_id]


def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = function(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


# ---------------------------------------------------------------------------------- tasks
def spatial_method(image, params):
    """The spatial method end to end: features, mixture with the K rule, regions. Returns (regions, model)."""
    from gmm.regions import connected_regions

    rule = params["k_rule"].split(":")  # "fixed:K" or "icl:EFFECTIVE_SIZE:K_MIN"
    if rule[0] == "fixed":
        labels, model = spatial_fit(image, params, int(rule[1]))
    else:
        labels, model = spatial_fit(image, dict(params, effective_size=float(rule[1]), k_min=int(rule[2])), "auto")
    return connected_regions(labels, params["min_size"]), model


def task_stage1(image_id):
    from gmm.data import load_bsds
    from gmm.regions import connected_regions

    image, annotations = load_bsds(image_id)
    _ANNOTATIONS.clear()
    _ANNOTATIONS[image_id] = annotations
    rows = []
    for config in SPATIAL_STAGE1:
        (labels, _), seconds, cpu = timed(spatial_fit, image, config, 4)
        regions = connected_regions(labels, STAGE1_MIN_SIZE)
        rows.append(row(image_id, "spatial", dict(config, k_rule="fixed:4", min_size=STAGE1_MIN_SIZE),
                        regions, seconds, cpu, fast_scores))
    return rows


def task_stage2(image_id, config):
    """Every K rule x region size for one configuration, each distinct K fitted once."""
    from gmm.data import load_bsds
    from gmm.model_selection import icl_score
    from gmm.regions import connected_regions

    image, annotations = load_bsds(image_id)
    _ANNOTATIONS.clear()
    _ANNOTATIONS[image_id] = annotations
    labels_auto, model = spatial_fit(image, dict(config, effective_size=300.0), "auto")
    table = model.selection_
    rules = {f"fixed:{k}": k for k in FIXED_K}
    for n_e in EFFECTIVE_SIZES:
        score = icl_score(table.log_likelihood, table.entropy, table.n_parameters, n_e)
        for k_min in K_MINS:  # the candidate range k_min..8, read off the same table
            allowed = table.candidates >= k_min
            rules[f"icl:{n_e}:{k_min}"] = int(table.candidates[allowed][int(np.argmax(score[allowed]))])
    fitted = {model.n_components_: labels_auto}
    rows = []
    for rule, k in rules.items():
        if k not in fitted:
            fitted[k] = spatial_fit(image, config, k)[0]
        for min_size in MIN_SIZES:
            regions = connected_regions(fitted[k], min_size)
            rows.append(row(image_id, "spatial", dict(config, k_rule=rule, min_size=min_size),
                            regions, None, None, fast_scores))
            rows[-1]["k"] = k
    return rows


def task_baseline(image_id, method, grid, scorer="fast"):
    from gmm.data import load_bsds

    image, annotations = load_bsds(image_id)
    _ANNOTATIONS.clear()
    _ANNOTATIONS[image_id] = annotations
    rows = []
    for params in grid:
        labels, seconds, cpu = timed(baseline, image, method, params)
        rows.append(row(image_id, method, params, labels, seconds, cpu,
                        fast_scores if scorer == "fast" else library_scores))
        if scorer != "fast":
            rows[-1]["labels"] = rle(labels)
    return rows


def task_val_spatial(image_id, params, method="spatial"):
    from gmm.data import load_bsds
    from gmm.regions import connected_regions

    image, annotations = load_bsds(image_id)
    _ANNOTATIONS.clear()
    _ANNOTATIONS[image_id] = annotations
    (regions, model), seconds, cpu = timed(spatial_method, image, params)
    out = row(image_id, method, params, regions, seconds, cpu, library_scores)
    pieces = connected_regions(model.labels_)  # every connected piece, none merged: the speckle
    pri, vi = library_scores(annotations, pieces)
    out.update(k=int(model.n_components_), beta=float(model.beta_), labels=rle(regions),
               classes=rle(model.labels_), pri_pieces=pri, vi_pieces=vi, segments_pieces=int(pieces.max()))
    return out


def rle(labels):
    """Run-length code of a label map in raster order: {shape, values, runs} (decode: np.repeat)."""
    flat = np.asarray(labels).ravel()
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    runs = np.diff(np.r_[starts, flat.size])
    return dict(shape=list(np.shape(labels)), values=flat[starts].tolist(), runs=runs.tolist())


# ------------------------------------------------------------------------------ the protocol
def mean_by_params(rows):
    """Mean PRI, VI, segments, seconds per distinct parameter set, best score first."""
    groups = {}
    for r in rows:
        groups.setdefault(json.dumps(r["params"], sort_keys=True), []).append(r)
    table = []
    for key, members in groups.items():
        entry = dict(params=json.loads(key), n_images=len(members))
        for name in ("pri", "vi", "segments", "seconds", "cpu_seconds"):
            values = [m[name] for m in members if m.get(name) is not None]
            entry[name] = float(np.mean(values)) if values else None
        entry["score"] = entry["pri"] - entry["vi"] / 10
        table.append(entry)
    return sorted(table, key=lambda e: -e["score"])


def gather(client, futures, label):
    from dask.distributed import as_completed

    out, start = [], time.perf_counter()
    for i, future in enumerate(as_completed(futures), 1):
        result = future.result()
        out.extend(result if isinstance(result, list) else [result])
        if i % 20 == 0 or i == len(futures):
            print(f"  {label}: {i}/{len(futures)} tasks, {time.perf_counter() - start:.0f} s", flush=True)
    return out


def check_fast_scores(image_id):
    """The tuning scorer equals gmm.metrics on real label maps (else the run stops)."""
    from gmm.data import load_bsds

    image, annotations = load_bsds(image_id)
    for labels in (baseline(image, "felzenszwalb", BASELINES["felzenszwalb"][0]), annotations[0]):
        fast, library = fast_scores(annotations, labels), library_scores(annotations, labels)
        assert np.allclose(fast, library, rtol=0, atol=1e-9), (fast, library)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune-images", type=int, default=30, help="train images drawn for tuning")
    parser.add_argument("--val-images", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="seed of the train subset draw")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # workers inherit it: one thread each, results independent of the machine
    from dask.distributed import Client, LocalCluster

    from gmm.data import bsds_ids

    started = time.perf_counter()
    train = bsds_ids("train")
    tune = sorted(np.random.default_rng(args.seed).choice(train, args.tune_images, replace=False).tolist())
    val = bsds_ids("val")[: args.val_images]
    check_fast_scores(tune[0])
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster, Client(cluster) as client:
        print(f"tuning on {len(tune)} train images, {args.workers} workers", flush=True)
        futures = [client.submit(task_stage1, i, pure=False) for i in tune]
        for method, grid in BASELINES.items():
            ids = tune[:QUICKSHIFT_TUNE_IMAGES] if method == "quickshift" else tune
            futures += [client.submit(task_baseline, i, method, grid, pure=False) for i in ids]
        stage_a = gather(client, futures, "stage 1 + baselines")
        stage1 = mean_by_params([r for r in stage_a if r["method"] == "spatial"])
        config = {k: v for k, v in stage1[0]["params"].items() if k not in ("k_rule", "min_size")}
        print("stage 1 best:", config, round(stage1[0]["pri"], 3), round(stage1[0]["vi"], 3), flush=True)
        stage2 = mean_by_params(gather(client, [client.submit(task_stage2, i, config, pure=False) for i in tune], "stage 2"))
        best = stage2[0]["params"]
        print("spatial best:", best, round(stage2[0]["pri"], 3), round(stage2[0]["vi"], 3), flush=True)
        tuned = {m: mean_by_params([r for r in stage_a if r["method"] == m]) for m in BASELINES}
        chosen = {m: table[0]["params"] for m, table in tuned.items()}

        print(f"val: {len(val)} images", flush=True)
        futures = [client.submit(task_val_spatial, i, best, pure=False) for i in val]
        ablation = dict(best, beta=0.0)
        futures += [client.submit(task_val_spatial, i, ablation, "spatial_beta0", pure=False) for i in val]
        futures += [client.submit(task_baseline, i, m, [p], "library", pure=False) for m, p in chosen.items() for i in val]
        val_rows = gather(client, futures, "val")
    write_results(args, tune, val, stage1, stage2, tuned, best, ablation, chosen, val_rows, started)


def write_results(args, tune, val, stage1, stage2, tuned, best, ablation, chosen, val_rows, started):
    import dask
    import skimage
    import sklearn

    order = ["spatial", "spatial_beta0", *BASELINES]
    params = dict(chosen, spatial=best, spatial_beta0=ablation)
    table = []
    for method in order:
        rows = [r for r in val_rows if r["method"] == method]
        entry = dict(method=method, params=params[method], n_images=len(rows))
        for name in ("pri", "vi", "segments", "seconds", "cpu_seconds"):
            entry[name] = float(np.mean([r[name] for r in rows]))
        if method.startswith("spatial"):
            for name in ("pri_pieces", "vi_pieces", "segments_pieces"):
                entry[name] = float(np.mean([r[name] for r in rows]))
            entry["k_counts"] = {str(k): int(n) for k, n in zip(*np.unique([r["k"] for r in rows], return_counts=True))}
        table.append(entry)
    spatial = sorted((r for r in val_rows if r["method"] == "spatial"), key=lambda r: r["pri"])
    shown = [spatial[int(q * (len(spatial) - 1))]["id"] for q in (0.1, 0.5, 0.9)]
    # The spatial regions and classes, and the regions without the Potts prior; the per-pixel
    # mixture's labels are one call away (gmm.segment(image, **chosen_params["gmm_lab"])).
    label_maps = {i: {r["method"]: {k: r[k] for k in (("labels", "classes") if r["method"] == "spatial" else ("labels",))}
                      for r in val_rows if r["id"] == i and r["method"] in ("spatial", "spatial_beta0")}
                  for i in shown}
    per_image = [{k: v for k, v in r.items() if k not in ("labels", "classes")} for r in val_rows]
    out = dict(
        protocol=__doc__, selection_score="pri - vi / 10 (vi in bits), mean over tuning images",
        tune_ids=tune, tune_seed=args.seed, quickshift_tune_ids=tune[:QUICKSHIFT_TUNE_IMAGES], val_ids=val,
        table=table, quoted=QUOTED, chosen_params=params,
        tuning=dict(spatial_stage1=stage1, spatial_stage2=stage2[:40], baselines=tuned),
        label_maps=label_maps, label_map_note="run-length codes in raster order: np.repeat(values, runs).reshape(shape)",
        per_image_val=per_image,
        environment=dict(python=platform.python_version(), numpy=np.__version__, sklearn=sklearn.__version__,
                         skimage=skimage.__version__, dask=dask.__version__, machine=platform.machine(),
                         cpus=os.cpu_count(), workers=args.workers),
        wall_seconds=time.perf_counter() - started,
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        command="python benchmarks/bsds_eval.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(out))
    print(f"\n{'method':<16}{'PRI':>7}{'VI bits':>9}{'segments':>10}{'s/image':>9}")
    for e in table:
        print(f"{e['method']:<16}{e['pri']:>7.3f}{e['vi']:>9.3f}{e['segments']:>10.1f}{e['seconds']:>9.2f}")
    print(f"wrote {args.out} in {out['wall_seconds']:.0f} s")


def dumps(out):
    """JSON text: indented, but each label map and each per-image row on one line (a readable size)."""
    compact = dict(label_maps=json.dumps(out["label_maps"], separators=(",", ":")),
                   per_image_val="[\n" + ",\n".join(json.dumps(r) for r in out["per_image_val"]) + "\n]")
    text = json.dumps({k: (f"@{k}@" if k in compact else v) for k, v in out.items()}, indent=1)
    for key, value in compact.items():
        text = text.replace(f'"@{key}@"', value)
    return text + "\n"


if __name__ == "__main__":
    main()

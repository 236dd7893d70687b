"""gmm.scale on a thousand 1280x720 frames and on the whole BSDS500, with 1 and 2 Dask workers.

Cases (K=6, RGB, k-means start, tol 1e-3, seed 0), each on a fresh LocalCluster of process
workers with one thread each, timed end to end (cluster start, fit_collection, label_collection
writing one PNG label map per frame):

- ``frames``: 1,000 synthetic football frames (8 plays of 125 frames, ``gmm.data.football_clip``)
  pre-rendered once as PNG into a scratch folder outside the repository (rendered on the Dask
  workers; the rendering time is recorded separately, it is not part of the timed runs);
- ``video``: the same frames as one H.264 file (PyAV, key frame every 30 frames), streamed;
- ``bsds500``: every BSDS500 image of the data mirror (train + val + test), one shared model.

Also recorded: peak resident memory of each worker process, the cost per frame of each phase,
the projection to a cluster, and the label consistency of one shared model against a model per
frame on 20 consecutive frames (for the paper).

    .venv/bin/python benchmarks/bench_scale.py                  # everything (about 10 minutes)
    .venv/bin/python benchmarks/bench_scale.py --cases frames --workers 2

Writes ``benchmarks/results/bench_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_scale.json"
K = 6
PLAYS, FRAMES_PER_PLAY, SIZE = 8, 125, (720, 1280)
GOP = 30
RGB_COLOURS = 1 << 24
PARAMS = dict(init="kmeans", random_state=0, tol=1e-3)


# ------------------------------------------------------------------------------ the inputs
def render_play(seed: int, n_frames: int, folder: str) -> dict:
    """Render one play and write its frames as PNG (runs on a Dask worker)."""
    from PIL import Image

    from gmm.data import football_clip

    start = time.perf_counter()
    frames, _ = football_clip(seed, n_frames, SIZE)
    rendered = time.perf_counter() - start
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(Path(folder) / f"play{seed}_{i:03d}.png", compress_level=1)
    return {"seed": seed, "render_s": rendered, "render_and_write_s": time.perf_counter() - start}


def prepare_frames(scratch: Path, n_workers: int) -> dict:
    """The PNG frames in ``scratch/frames`` (rendered on ``n_workers`` Dask workers unless present)."""
    from distributed import Client, LocalCluster

    folder = scratch / "frames"
    expected = PLAYS * FRAMES_PER_PLAY
    if folder.is_dir() and len(list(folder.glob("*.png"))) == expected:
        return json.loads((scratch / "frames.json").read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        plays = client.gather(client.map(render_play, range(PLAYS), [FRAMES_PER_PLAY] * PLAYS, [str(folder)] * PLAYS))
    info = {"frames": expected, "size": list(SIZE), "plays": PLAYS, "workers": n_workers,
            "wall_s": time.perf_counter() - start, "per_play": plays,
            "render_s_per_frame": sum(p["render_s"] for p in plays) / expected,
            "bytes": sum(p.stat().st_size for p in folder.glob("*.png")),
            "where": f"{folder} (PNG, compress_level=1), rendered on {n_workers} Dask workers"}
    (scratch / "frames.json").write_text(json.dumps(info, indent=2))
    return info


def encode_video(frames: list[Path], path: Path) -> dict:
    """The frames as one H.264 video (CRF 18, yuv420p, a key frame every GOP frames)."""
    import av
    from PIL import Image

    if path.is_file() and (path.parent / "video.json").is_file():
        return json.loads((path.parent / "video.json").read_text())
    start = time.perf_counter()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        stream.options = {"crf": "18", "g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0"}
        for frame_path in frames:
            image = np.asarray(Image.open(frame_path).convert("RGB"))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    info = {"encode_s": time.perf_counter() - start, "bytes": path.stat().st_size, "codec": "libx264 crf 18",
            "gop": GOP, "path": str(path)}
    (path.parent / "video.json").write_text(json.dumps(info, indent=2))
    return info


def bsds_paths() -> list[str]:
    """Every BSDS500 image of the data mirror: train, val and test, in registry order."""
    from gmm.data import bsds_ids, load

    return [str(load(f"bsds_{i}")) for split in ("train", "val", "test") for i in bsds_ids(split)]


def _read_all(paths) -> None:
    for path in paths:
        path.read_bytes()


# ------------------------------------------------------------------------------ one timed run
def _peak_rss_mb() -> float:
    """Peak resident memory of the calling process (a Dask worker), MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _phases(task_stream) -> dict:
    """Compute seconds per kind of task (count_batch, merge_counts, fit_counts, lookup_part, ...)."""
    from dask.utils import key_split

    phases = {}
    for task in task_stream:
        prefix = key_split(task["key"])
        compute = sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
        entry = phases.setdefault(prefix, {"tasks": 0, "compute_s": 0.0})
        entry["tasks"] += 1
        entry["compute_s"] += compute
    return phases


def run_case(name: str, sources, n_workers: int, out: Path) -> dict:
    """Start a LocalCluster, fit and label; wall times, per-task compute times, peak memory."""
    from distributed import Client, LocalCluster, get_task_stream

    from gmm.scale import fit_collection, label_collection

    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()
    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        with get_task_stream(client) as stream:
            model = fit_collection(sources, K, client=client, progress=False, **PARAMS)
            fitted = time.perf_counter()
            written = label_collection(model, sources, out, client=client, progress=False)
            labelled = time.perf_counter()
        peaks = client.run(_peak_rss_mb)
    closed = time.perf_counter()
    row = {
        "case": name, "workers": n_workers, "frames": model.n_images_, "pixels": model.n_pixels_,
        "distinct_colours": model.n_distinct_, "n_iter": int(model.n_iter_), "converged": bool(model.converged_),
        "mean_log_likelihood": float(model.history_.log_likelihood[-1]), "label_files": len(written),
        "label_bytes": sum(p.stat().st_size for p in out.iterdir()),
        "cluster_start_s": started - start, "fit_collection_s": fitted - started,
        "label_collection_s": labelled - fitted, "end_to_end_s": labelled - start,
        "end_to_end_without_cluster_start_s": labelled - started, "cluster_close_s": closed - labelled,
        "peak_rss_mb_per_worker": sorted(peaks.values()), "phases": _phases(stream.data),
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "means": model.means_.tolist(),
    }
    print(f"{name} x{n_workers}: {row['end_to_end_s']:.1f} s end to end (fit {row['fit_collection_s']:.1f} s, "
          f"labels {row['label_collection_s']:.1f} s), {row['distinct_colours']:,} colours, "
          f"peak {max(row['peak_rss_mb_per_worker']):.0f} MB/worker, load {load_before[0]:.2f}", flush=True)
    return row


# ------------------------------------------------------------------- projection and consistency
def projection(row: dict, frames: int = 100_000, workers: int = 50) -> dict:
    """What grows with pixels and what with distinct colours, from one run's task times.

    Counting and labelling cost per pixel and split over the workers; the lookup table is a fixed
    2**24 predictions, also split; the merge and EM cost per distinct colour and run on one worker
    each (at most 2**24 colours for RGB, so EM is bounded however many pixels there are).
    """
    per = {k: v["compute_s"] for k, v in row["phases"].items()}
    count, label = per.get("count_batch", 0.0) / row["frames"], per.get("label_batch", 0.0) / row["frames"]
    table = per.get("lookup_part", 0.0) + per.get("concatenate", 0.0)
    em, merge = per.get("fit_counts", 0.0), per.get("merge_counts", 0.0)
    em_unit = em / row["n_iter"] / (row["distinct_colours"] / 1e6)
    em_bound = em_unit * (RGB_COLOURS / 1e6) * row["n_iter"]
    return {
        "count_s_per_frame": count, "label_s_per_frame": label,
        "compute_s_per_megapixel": (count + label) / (row["pixels"] / row["frames"] / 1e6),
        "lookup_table_s": table, "merge_s": merge, "em_s": em,
        "em_s_per_million_colours_per_iteration": em_unit,
        "merged_counts_mb": row["distinct_colours"] * 12 / 1e6,
        "example": {
            "frames": frames, "workers": workers,
            "parallel_part_s": (frames * (count + label) + table) / workers,
            "em_s_at_2_24_colours_same_iterations": em_bound,
            "note": "same frame size; cluster start, data transfer and scheduler overhead not included",
        },
    }


def label_consistency(n_frames: int = 20, seed: int = 0) -> dict:
    """One model over a clip vs a model per frame: labels that change where the truth does not."""
    from gmm.data import football_clip
    from gmm.labels import align_labels
    from gmm.scale import fit_collection
    from gmm.scale.labeller import Labeller
    from gmm.segmentation import segment

    frames, truths = football_clip(seed, n_frames, SIZE)
    shared = fit_collection(list(frames), K, n_workers=2, progress=False, **PARAMS)
    labeller = Labeller(shared, "rgb")
    shared_labels = [labeller(f) for f in frames]
    own = [segment(f, K, random_state=0).labels for f in frames]
    aligned = [own[0]]
    for labels in own[1:]:
        aligned.append(align_labels(aligned[-1], labels, n_labels=K))

    def changed(series):
        out = []
        for t in range(1, n_frames):
            still = truths[t] == truths[t - 1]
            out.append(float((series[t] != series[t - 1])[still].mean()))
        return out

    from gmm.metrics import adjusted_rand_index

    result = {"frames": n_frames, "seed": seed, "size": list(SIZE), "k": K,
              "definition": "fraction of pixels whose label differs from the previous frame's, among pixels "
                            "whose ground-truth class is the same in both frames",
              "shared_model": changed(shared_labels), "model_per_frame": changed(own),
              "model_per_frame_aligned_to_previous": changed(aligned),
              "ari_vs_truth_shared_model": [adjusted_rand_index(t, l) for t, l in zip(truths, shared_labels)],
              "ari_vs_truth_model_per_frame": [adjusted_rand_index(t, l) for t, l in zip(truths, own)]}
    for key in ("shared_model", "model_per_frame", "model_per_frame_aligned_to_previous",
                "ari_vs_truth_shared_model", "ari_vs_truth_model_per_frame"):
        result[f"{key}_mean"] = float(np.mean(result[key]))
    return result


def summarise(rows) -> dict:
    """Per case: projection, speed-up from 1 to 2 workers, and how busy the workers were.

    ``worker_utilisation`` is the tasks' compute time over workers x wall time (cluster start
    excluded): near 1 means the workers never waited for work, so a speed-up below the number
    of workers comes from the CPU time each worker got (other load on the machine), not from
    a serial part of the pipeline.
    """
    summary = {}
    for case in dict.fromkeys(r["case"] for r in rows):
        by_workers = {r["workers"]: r for r in rows if r["case"] == case}
        entry = {"projection": projection(by_workers[max(by_workers)]), "worker_utilisation": {}}
        for n, row in by_workers.items():
            busy = sum(v["compute_s"] for v in row["phases"].values())
            entry["worker_utilisation"][str(n)] = busy / (n * row["end_to_end_without_cluster_start_s"])
        if 1 in by_workers and 2 in by_workers:
            one, two = by_workers[1], by_workers[2]
            entry["speed_up_1_to_2"] = one["end_to_end_s"] / two["end_to_end_s"]
            entry["speed_up_1_to_2_without_cluster_start"] = (one["end_to_end_without_cluster_start_s"]
                                                              / two["end_to_end_without_cluster_start_s"])
            entry["task_compute_growth_1_to_2"] = (sum(v["compute_s"] for v in two["phases"].values())
                                                   / sum(v["compute_s"] for v in one["phases"].values()))
        summary[case] = entry
    return summary


# ------------------------------------------------------------------------------------ main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/gmm_scale_bench"),
                        help="folder outside the repository for frames, video and label outputs")
    parser.add_argument("--cases", nargs="+", default=["frames", "video", "bsds500"],
                        choices=["frames", "video", "bsds500"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--no-consistency", action="store_true")
    parser.add_argument("--resummarise", action="store_true",
                        help="recompute the summary of the saved results from their runs (no new run)")
    args = parser.parse_args(argv)
    if args.resummarise:
        document = json.loads(RESULTS.read_text())
        document["summary"] = summarise(document["runs"])
        RESULTS.write_text(json.dumps(document, indent=2) + "\n")
        return 0
    if "GMM_DATA_MIRROR" not in os.environ and (Path(__file__).resolve().parents[2] / "shared" / "data").is_dir():
        os.environ["GMM_DATA_MIRROR"] = str(Path(__file__).resolve().parents[2] / "shared" / "data")

    args.scratch.mkdir(parents=True, exist_ok=True)
    inputs = {"frames_generation": prepare_frames(args.scratch, max(args.workers))}
    frames = sorted((args.scratch / "frames").glob("*.png"))
    sources = {"frames": str(args.scratch / "frames")}
    if "video" in args.cases:
        inputs["video_encoding"] = encode_video(frames, args.scratch / "plays.mp4")
        sources["video"] = str(args.scratch / "plays.mp4")
    if "bsds500" in args.cases:
        sources["bsds500"] = bsds_paths()
    for case in args.cases:  # every run reads its inputs from the page cache, the first one too
        _read_all(sorted((args.scratch / "frames").glob("*.png")) if case == "frames" else
                  [Path(sources[case])] if case == "video" else [Path(p) for p in sources[case]])
    rows = [run_case(case, sources[case], n, args.scratch / f"labels_{case}_{n}")
            for case in args.cases for n in args.workers]
    document = {
        "meta": {"command": "python benchmarks/bench_scale.py " + " ".join(argv or sys.argv[1:]),
                 "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(),
                 "cpus": os.cpu_count(), "python": platform.python_version(), "k": K, "params": PARAMS,
                 "packages": _versions()},
        "inputs": inputs, "runs": rows, "summary": summarise(rows),
        "label_consistency": None if args.no_consistency else label_consistency(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("numpy", "dask", "distributed", "av", "zarr", "pillow"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


if __name__ == "__main__":
    sys.exit(main())

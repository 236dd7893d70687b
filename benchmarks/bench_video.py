"""Segmenting video at 720p: frames per second, label flicker and accuracy of each mode.

Clips of the synthetic football play (``gmm.data.football_clip``: players run, the ball is
thrown, the camera pans, a cloud changes the light), 1280x720, ``--n-frames`` frames each (the
generator's maximum is 150 = 10 s), one clip per seed of ``--seeds``; each clip is its own
stream. Every mode of :func:`gmm.segment_video` (``gmm.video.VideoSegmenter``) labels every
frame:

- fixed (table / distinct): one model fitted on the first frame, then predict only;
- warm: EM per frame started from the previous frame's optimum;
- independent (canonical / previous): EM from scratch per frame, numbered by the canonical order
  or matched to the previous frame's labels.

Rendering a 720p frame takes most of a second, so the clips are rendered once into a scratch
folder outside the repository (``--frames-dir``, default ``/tmp/gmm_bench_video``) as PNG files
(frame and truth) and read back one at a time; rendering and reading are timed apart from the
segmentation. Per frame, only ``update(frame)`` is timed (wall clock and process CPU time);
scoring is not. Scores: accuracy after matching labels to classes per frame and once per clip
(one matching for all frames), adjusted Rand index, and flicker: the fraction of pixels whose
label changes between consecutive frames where the truth does not.

    # 2 clips x 150 frames, K = 3 and 6: about 10 min to render the clips once, then about
    # 20 min on 2 shared cores (mostly the scoring and the from-scratch fits at K = 6)
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_video.py
    .venv/bin/python benchmarks/bench_video.py --quick       # 2 clips x 20 frames, K = 6

Writes ``benchmarks/results/bench_video.json`` (``--quick``: ``<frames-dir>/bench_video_quick.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from gmm.companion.paths import BENCHMARK_RESULTS_DIR

#: name -> VideoSegmenter options
MODES = {
    "fixed_table": dict(mode="fixed", lookup="table"),
    "fixed_distinct": dict(mode="fixed", lookup="distinct"),
    "warm": dict(mode="warm"),
    "independent_canonical": dict(mode="independent", align="canonical"),
    "independent_previous": dict(mode="independent", align="previous"),
}


# ------------------------------------------------------------------------------ the clips
def clip_folder(root: Path, seed: int, n_frames: int, size) -> Path:
    return Path(root) / f"football_seed{seed}_{n_frames}x{size[0]}x{size[1]}"


def render_clip(folder: Path, seed: int, n_frames: int, size) -> dict:
    """Render a clip once into ``folder`` (frame_NNN.png, truth_NNN.png); returns the timings.

    ``football_clip`` renders the whole clip in memory (150 frames of 720p: about 0.55 GB), so a
    clip is rendered in one call and written out at once; a second run reuses the files.
    """
    from gmm.data import football_clip

    done = folder / "timing.json"
    if done.exists():
        return json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    frames, truths = football_clip(seed, n_frames, size=tuple(size))
    rendered = time.perf_counter() - start
    start = time.perf_counter()
    for t, (frame, truth) in enumerate(zip(frames, truths)):
        Image.fromarray(frame).save(folder / f"frame_{t:03d}.png", compress_level=1)
        Image.fromarray(truth).save(folder / f"truth_{t:03d}.png", compress_level=1)
    timing = {"render_seconds_per_frame": rendered / n_frames,
              "write_png_seconds_per_frame": (time.perf_counter() - start) / n_frames}
    done.write_text(json.dumps(timing))
    return timing


def read_clip(folder: Path, n_frames: int, clock: list):
    """Frames and truths of a rendered clip, one at a time; reading time is added to ``clock[0]``."""
    for t in range(n_frames):
        start = time.perf_counter()
        frame = np.asarray(Image.open(folder / f"frame_{t:03d}.png").convert("RGB"))
        truth = np.asarray(Image.open(folder / f"truth_{t:03d}.png"))
        clock[0] += time.perf_counter() - start
        yield frame, truth


# ------------------------------------------------------------------------------ measuring
def run_mode(folders, n_frames, k, options, seed):
    """Label every clip with one mode; per-frame timings, iterations and scores."""
    from gmm.data import FOOTBALL_CLASSES
    from gmm.video import ClipScores, VideoSegmenter

    wall, cpu, n_iter, accuracy, ari, flicker, clip_accuracy, first = [], [], [], [], [], [], [], []
    read = [0.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for folder in folders:
            segmenter = VideoSegmenter(k, random_state=seed, **options)
            scores = ClipScores(len(FOOTBALL_CLASSES), k)
            for frame, truth in read_clip(folder, n_frames, read):
                start_wall, start_cpu = time.perf_counter(), time.process_time()
                labels = segmenter.update(frame)
                wall.append(time.perf_counter() - start_wall)
                cpu.append(time.process_time() - start_cpu)
                n_iter.append(segmenter.n_iter_)
                scores.add(truth, labels)
            accuracy += scores.accuracy
            ari += scores.ari
            flicker += [None] + scores.flicker  # none for a clip's first frame
            clip_accuracy.append(scores.clip_accuracy)
            first.append(wall[-n_frames])
    kinds = sorted({type(w.message).__name__ for w in caught})
    n_frames_total = len(wall)
    return {
        "k": k, **options, "n_frames": n_frames_total,
        "fps": n_frames_total / sum(wall), "fps_cpu": n_frames_total / sum(cpu),
        # Median over the frames that were not a clip's first (the first includes the first fit).
        "fps_after_first": 1.0 / float(np.median(np.delete(wall, np.arange(0, n_frames_total, n_frames)))),
        "first_frame_seconds": first,
        "mean_n_iter": float(np.mean(n_iter)), "max_n_iter": int(np.max(n_iter)),
        "mean_accuracy": float(np.mean(accuracy)), "min_accuracy": float(np.min(accuracy)),
        "clip_accuracy": clip_accuracy, "mean_ari": float(np.mean(ari)),
        "mean_flicker": float(np.nanmean(np.array(flicker, dtype=float))),
        "max_flicker": float(np.nanmax(np.array(flicker, dtype=float))),
        "warnings": {kind: sum(type(w.message).__name__ == kind for w in caught) for kind in kinds},
        "read_seconds_per_frame": read[0] / n_frames_total,
        "per_frame": {"seconds": wall, "n_iter": n_iter, "accuracy": accuracy, "ari": ari,
                      "flicker": flicker},
    }


def warm_up(folder):
    """Run every mode on a small crop, untimed: a process's first fit loads numba's kernels."""
    from gmm.video import VideoSegmenter

    frame = next(read_clip(folder, 1, [0.0]))[0][:90, :160]
    for options in MODES.values():
        segmenter = VideoSegmenter(3, **options)
        segmenter.update(frame)
        segmenter.update(frame)


def meta(args, generation):
    import sklearn

    return {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "machine": platform.machine(), "processor": _cpu_name(), "cpus": os.cpu_count(),
            "threads": {v: os.environ.get(v, "unset") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
            "seeds": args.seeds, "n_frames_per_clip": args.n_frames, "size": args.size, "k": args.k,
            "random_state": args.random_state, "frames_dir": str(args.frames_dir), "generation": generation}


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="one clip per seed")
    parser.add_argument("--n-frames", type=int, default=150, help="frames per clip (at most 150)")
    parser.add_argument("--size", type=int, nargs=2, default=[720, 1280], metavar=("H", "W"))
    parser.add_argument("--k", type=int, nargs="+", default=[3, 6], help="numbers of components")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--frames-dir", type=Path, default=Path("/tmp/gmm_bench_video"),
                        help="scratch folder for the rendered clips (outside the repository)")
    parser.add_argument("--quick", action="store_true",
                        help="20 frames per clip, K = 6, results into --frames-dir: a check that it runs")
    parser.add_argument("--render-only", action="store_true", help="render the clips, measure nothing")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_frames, args.k = 20, [6]
    load_before = os.getloadavg()
    folders, generation = [], []
    for seed in args.seeds:
        folder = clip_folder(args.frames_dir, seed, args.n_frames, args.size)
        generation.append({"seed": seed, **render_clip(folder, seed, args.n_frames, args.size)})
        folders.append(folder)
        print(f"clip seed {seed}: rendered in {generation[-1]['render_seconds_per_frame']:.2f} s per frame", flush=True)
    if args.render_only:
        return
    warm_up(folders[0])
    rows = []
    for k in args.k:
        for name, options in MODES.items():
            row = {"name": name, **run_mode(folders, args.n_frames, k, options, args.random_state)}
            rows.append(row)
            print(f"K={k} {name:>22}: {row['fps']:6.1f} frames/s (CPU {row['fps_cpu']:6.1f}, after the first "
                  f"{row['fps_after_first']:6.1f}), {row['mean_n_iter']:5.1f} it/frame, accuracy "
                  f"{row['mean_accuracy']:.3f} (clip {min(row['clip_accuracy']):.3f}), flicker {row['mean_flicker']:.4f}",
                  flush=True)
    info = meta(args, generation)
    info["load_average_before"], info["load_average_after"] = load_before, os.getloadavg()
    folder = args.frames_dir if args.quick else BENCHMARK_RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ("bench_video_quick.json" if args.quick else "bench_video.json")
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": info, "rows": rows}, indent=1) + "\n")
    os.replace(tmp, target)
    print("wrote", target)


if __name__ == "__main__":
    main()

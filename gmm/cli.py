"""``gmm-segment``: segment image files with a Gaussian mixture from the command line.

Each input is loaded (:func:`gmm.image.load_image`), segmented (:func:`gmm.segmentation.segment`)
and rendered (:meth:`SegmentationResult.render`) into one PNG in the output folder. A bad input
(missing, unreadable, truncated, not an image) costs one line on stderr and a non-zero exit status
at the end; the other inputs are still processed. Every output is written atomically and no
output may replace an input file.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from gmm.outputs import atomic_write, history_csv_bytes, history_json_bytes, npy_bytes, png_bytes

PROG = "gmm-segment"
COLOR_SPACES = ("rgb", "grey", "lab", "hsv")
INITS = ("kmeans", "random")
RENDERS = ("labels", "mean", "soft", "overlay")

EPILOG = f"""\
examples:
  {PROG} photo.jpg -k 3 -o out
      three segments in RGB, drawn in the palette (red, green, blue): out/photo_labels.png
  {PROG} fox.jpg moose.jpg -k 4 --space lab --render overlay -o out --save-labels
      segment boundaries over each photo, plus the label maps as out/<stem>_labels.npy
  {PROG} frame.png -k 3 --init random --tol 1e-9 --seed 7 --render soft --save-elbo -o out
      responsibility-weighted colours; ELBO curve out/frame_elbo.png and the per-iteration
      history as out/frame_history.json and out/frame_history.csv

outputs (in OUT, created if missing):
  <stem>_<render>.png                      the rendering, one per input
  <stem>_labels.npy                        with --save-labels: label map (H, W), uint8 for K <= 256
  <stem>_elbo.png, <stem>_history.{{json,csv}}  with --save-elbo

exit status: 0 when every input was segmented, 1 when any failed (the others are still
processed), 2 on a command-line error. Problems are reported on stderr, one line each, as
'gmm-segment: error: FILE: reason' (or 'warning: ...', e.g. when EM did not converge).
The same --seed gives byte-identical outputs.
"""


# --------------------------------------------------------------------------------- command line


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gmm-segment``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Segment images with a Gaussian mixture model fitted by EM\n"
        "(Donovan & Pronin, 2024) and write one rendering per image.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="input image files")
    parser.add_argument("-k", "--n-components", type=_positive_int, default=3, metavar="K",
                        help="number of mixture components, i.e. segments (default: 3)")
    parser.add_argument("--space", choices=COLOR_SPACES, default="rgb",
                        help="colour space the mixture is fitted in (default: rgb)")
    parser.add_argument("--init", choices=INITS, default="kmeans",
                        help="initialisation of the responsibilities (default: kmeans); random "
                        "responsibilities start every mean near the global mean, where EM is slow: "
                        "give them a small --tol (e.g. 1e-9) or EM stops after a few iterations")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed; the same seed gives the same output (default: 0)")
    parser.add_argument("--render", choices=RENDERS, default="labels",
                        help="labels: palette colour per segment; mean: mean colour per segment; "
                        "soft: colours mixed by responsibility; overlay: boundaries over the "
                        "image (default: labels)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUT",
                        help="folder for the outputs (created if missing)")
    parser.add_argument("--save-labels", action="store_true",
                        help="also write the label map as <stem>_labels.npy")
    parser.add_argument("--save-elbo", action="store_true",
                        help="also write the ELBO curve (<stem>_elbo.png) and the per-iteration "
                        "history (<stem>_history.json, <stem>_history.csv)")
    parser.add_argument("--max-iter", type=_positive_int, default=100, metavar="N",
                        help="maximum number of EM iterations (default: 100)")
    parser.add_argument("--tol", type=_non_negative_float, default=1e-3, metavar="T",
                        help="stop when the mean log-likelihood gains less than T (default: 1e-3)")
    return parser


# --------------------------------------------------------------------------------------- errors


class InputError(Exception):
    """A problem with one input: reported on one line, then the next input is processed."""


def _reason(exc: BaseException) -> str:
    """A one-line reason for a failure, without the traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror[0].lower() + exc.strerror[1:]
        return f"{reason}: {exc.filename}" if exc.filename else reason
    # The first line: library messages put the summary there and install hints after it.
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if not text:
        return type(exc).__name__
    if isinstance(exc, (OSError, ValueError, InputError)):
        return text
    return f"{type(exc).__name__}: {text}"


def _report(kind: str, path, message: str) -> None:
    from tqdm import tqdm

    # tqdm.write keeps the line clear of a progress bar that may be on screen.
    tqdm.write(f"{PROG}: {kind}: {path}: {message}", file=sys.stderr)


# -------------------------------------------------------------------------------------- outputs


def output_paths(stem: str, out_dir: Path, render: str, *, save_labels=False, save_elbo=False):
    """Where the outputs for an input named ``stem`` go.

    Returns
    -------
    dict mapping output kind ('render', 'labels', 'elbo', 'history_json', 'history_csv') to Path
    """
    paths = {"render": out_dir / f"{stem}_{render}.png"}
    if save_labels:
        paths["labels"] = out_dir / f"{stem}_labels.npy"
    if save_elbo:
        paths["elbo"] = out_dir / f"{stem}_elbo.png"
        paths["history_json"] = out_dir / f"{stem}_history.json"
        paths["history_csv"] = out_dir / f"{stem}_history.csv"
    return paths


def _file_id(path: Path):
    """(device, inode) of an existing file, None otherwise: equal for every name of one file
    (symbolic and hard links, '..' detours, case-insensitive file systems)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def protect(paths, protected: dict, owner: str | None = None) -> None:
    """Record the existing files among ``paths`` as not to be overwritten.

    ``protected`` maps file ids to descriptions: ``owner`` (e.g. "the output of x.png") or, by
    default, "input file <path>".
    """
    for path in paths:
        key = _file_id(path)
        if key is not None:
            protected.setdefault(key, owner or f"input file {path}")


def check_outputs(outputs: dict, protected: dict) -> None:
    """Refuse outputs that would replace a protected file (an input, an earlier output).

    Raises
    ------
    InputError
        Naming the output and what it would overwrite.
    """
    for path in outputs.values():
        owner = protected.get(_file_id(path))
        if owner is not None:
            raise InputError(f"refusing to overwrite {owner} with output {path}")


# ------------------------------------------------------------------------------------ one input


def _load(path: Path):
    from gmm.image import load_image

    if not path.exists():
        raise InputError("no such file")
    if path.is_dir():
        raise InputError("is a directory, not an image file")
    try:
        return load_image(path)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as exc:  # any decoder failure of one input must not stop the batch
        raise InputError(_reason(exc)) from exc


def _segment(image, args, path):
    from gmm.segmentation import segment

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = segment(image, args.n_components, color_space=args.space, init=args.init,
                         random_state=args.seed, max_iter=args.max_iter, tol=args.tol)
    for message in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
        _report("warning", path, message)
    return result


def process_image(path: Path, args, protected: dict) -> None:
    """Segment one input and write its outputs.

    Every output is encoded before the first is written, so a failure leaves none behind.

    Raises
    ------
    InputError
        For a bad input or an output that would overwrite a file it must not.
    """
    outputs = output_paths(path.stem, args.output_dir, args.render,
                           save_labels=args.save_labels, save_elbo=args.save_elbo)
    check_outputs(outputs, protected)
    image = _load(path)
    try:
        result = _segment(image, args, path)
    except ValueError as exc:  # e.g. fewer distinct colours than components, a grey image in rgb
        raise InputError(f"cannot segment ({_reason(exc)})") from exc

    payloads = {"render": png_bytes(result.render(args.render))}
    if args.save_labels:
        payloads["labels"] = npy_bytes(result.labels)
    if args.save_elbo:
        meta = {"image": str(path), "n_components": args.n_components, "color_space": args.space,
                "init": args.init, "seed": args.seed, "max_iter": args.max_iter, "tol": args.tol}
        from gmm.plotting import history_png_bytes

        payloads["elbo"] = history_png_bytes(result.model.history_, path.name)
        payloads["history_json"] = history_json_bytes(result.model, meta)
        payloads["history_csv"] = history_csv_bytes(result.model.history_)
    for kind, data in payloads.items():
        atomic_write(outputs[kind], data)
    protect(outputs.values(), protected, owner=f"the output of {path}")


# ---------------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gmm-segment``; returns the exit status (0 success, 1 some input failed)."""
    args = build_parser().parse_args(argv)
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _report("error", args.output_dir, f"cannot create output folder ({_reason(exc)})")
        return 1

    from tqdm import tqdm

    protected: dict = {}
    protect(args.images, protected)
    failed = 0
    for path in tqdm(args.images, desc=PROG, unit="image", file=sys.stderr,
                     disable=not sys.stderr.isatty()):
        try:
            process_image(path, args, protected)
        except (InputError, OSError) as exc:
            _report("error", path, _reason(exc))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The command lines of ``gmm-segment``, ``gmm-segment fit`` and ``gmm-segment apply``.

Nothing heavy is imported here: ``--help`` and ``--version`` answer without loading NumPy.
"""

from __future__ import annotations

import argparse
import math
import string
from pathlib import Path

PROG = "gmm-segment"
#: The estimator's defaults (gmm.GaussianMixture), repeated here so --help needs no import;
#: tests/test_cli.py compares them with the estimator's signature.
DEFAULTS = {"n_components": 3, "init": "kmeans", "tol": 1e-3, "max_iter": 100, "reg_covar": 1e-6, "seed": 0}
SPACES = ("auto", "rgb", "grey", "lab", "hsv")
INITS = ("kmeans", "random", "k-means++", "random_from_data")
RENDERS = ("overlay", "palette", "mean", "soft")
LABEL_FORMATS = ("png", "tiff", "npy")
NAME_FIELDS = ("stem", "k", "space", "seed", "init", "smooth", "regions")
SEGMENT_NAME = "{stem}_k{k}_{space}"
#: Added to the default name when the option is given, so such runs do not collide with plain ones.
NAME_SUFFIXES = {"smoothing": "_smooth{smooth}", "regions": "_regions{regions}"}
APPLY_NAME = "{stem}_{model}"

SEGMENT_EPILOG = f"""\
examples:
  {PROG} photo.jpg -o out
      3 segments in RGB (grey for a grey image): out/photo_k3_rgb_labels.png (the label image,
      16-bit, 0..K-1), out/photo_k3_rgb_segments.csv (one row per segment) and
      out/photo_k3_rgb_overlay.png (segments filled over the photo, with a legend)
  {PROG} photos/ -r -k 4 --space lab --render overlay,mean --jobs 2 -o out
      every image under photos/ (subfolders mirrored in out/), two at a time
  {PROG} cells.tif -k 2 --mask 'masks/{{stem}}.png' --names background,cell -o out
      only the pixels where the mask is non-zero; the others are labelled "none"
  {PROG} photo.jpg -k auto --smooth auto --regions 50 -o out
      K chosen by ICL, neighbours smoothed by a Potts prior (beta estimated), and the label
      image of connected regions (pieces under 50 pixels merged): out/photo_kauto_rgb_smoothauto_regions50_*
  {PROG} fit photos/ -k 3 -o model.json && {PROG} apply model.json new/ -o out
      one model for a whole folder, then the same segments on other images

outputs, for each image, in OUT (NAME is --name, default {SEGMENT_NAME}):
  NAME_labels.png        label image, 16-bit grey: 0..K-1 per pixel, 65535 for masked-out pixels
                         (--label-format tiff: the same as TIFF; npy: int array, -1 masked out)
                         (--regions: the connected regions, 1..R, 0 for masked-out pixels)
  NAME_segments.csv      per segment: label, name, pixels, share, mean colour, bounding box
                         (--regions: NAME_regions.csv, per region, named after its segment)
  NAME_<render>.png      overlay: segments filled over the image with a legend; palette: one
                         colour per segment; mean: each segment in its mean colour; soft:
                         colours mixed by responsibility. Masked-out pixels are transparent.
  NAME_model.json        with --save-model: the fitted model, for '{PROG} apply'
  NAME_elbo.png, NAME_history.{{json,csv}}  with --save-elbo: the EM history

inputs: image files and folders (their image files; --recursive: and their subfolders'). Two
inputs with the same stem are named apart (photo, photo-2). Transparent pixels (alpha 0) are
left out of the fit and labelled "none" (--alpha white composites over white instead).

exit status: 0 when every image was written (or skipped), 1 when any failed (the others are
still processed), 2 on a command-line error, 130 when interrupted (finished outputs are kept).
Errors and warnings go to stderr, one line each ('{PROG}: error: FILE: reason'); on a terminal
a progress bar shows, otherwise one line per image and a summary go to stdout. Outputs are
written atomically and never replace an input; existing outputs are refused unless
--overwrite or --skip-existing. The same --seed gives byte-identical outputs.
"""

FIT_EPILOG = f"""\
examples:
  {PROG} fit photos/ -k 4 --space lab -o model.json
  {PROG} fit a.png b.png --names sky,grass,cow,snow -o model.json

The mixture is fitted by EM on every used pixel of every image at once (exactly: on their
distinct colours weighted by their counts). --space auto is rgb when any image has colour,
grey otherwise; grey images count as RGB (v, v, v) in a colour model. The model file is JSON
(format version, colour space, weights, means, covariances, names, a checksum), never a
pickle. Unreadable images are named on stderr and left out; the exit status is then 1.
"""

APPLY_EPILOG = f"""\
examples:
  {PROG} apply model.json new_photos/ -o out
      out/<stem>_model_labels.png, ...: the model's components, same numbers and colours

Outputs and options as for '{PROG} --help'; the default --name is {APPLY_NAME}
({{model}} is the model file's stem; {{k}} and {{space}} are the model's).
"""


# ------------------------------------------------------------------------------ value types
def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_float(text):
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def k_value(text):
    """argparse type: a positive integer, or 'auto'."""
    return "auto" if text == "auto" else positive_int(text)


def smooth_value(text):
    """argparse type: a finite number >= 0 (the Potts beta), or 'auto'."""
    return "auto" if text == "auto" else non_negative_float(text)


def render_list(text):
    """argparse type: comma-separated renderings, or 'none'."""
    kinds = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if kinds == ("none",):
        return ()
    bad = [kind for kind in kinds if kind not in RENDERS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(RENDERS)} (or none), got {text!r}")
    return kinds


def name_list(text):
    """argparse type: comma-separated segment names."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated non-empty names, got {text!r}")
    return names


def check_template(parser, template: str, fields) -> None:
    """Refuse a --name template with unknown fields or a path in it (exit status 2)."""
    try:
        used = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as error:
        parser.error(f"argument --name: {error} in {template!r}")
    unknown = [field for field in used if field not in fields]
    if unknown:
        parser.error(f"argument --name: unknown field {{{unknown[0]}}}; use {', '.join('{%s}' % f for f in fields)}")
    if "/" in template or "\\" in template or template in ("", ".", ".."):
        parser.error(f"argument --name: must be a file name, not a path: {template!r}")


# ---------------------------------------------------------------------------------- parsers
def _parser(prog, description, epilog):
    return argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_inputs(parser):
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                        help="image files, or folders of them")
    parser.add_argument("-r", "--recursive", action="store_true", help="also take the images in subfolders of folder inputs")
    parser.add_argument("-j", "--jobs", type=positive_int, default=1, metavar="N",
                        help="images processed at once, in N processes (Dask; default: 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the images on the Dask cluster whose scheduler is at ADDRESS (e.g. "
                        "tcp://host:8786) instead of on this machine; its workers must see the same paths "
                        "(fit merges the colour counts on the workers)")
    parser.add_argument("--alpha", choices=("mask", "white"), default="mask",
                        help="mask: transparent pixels (alpha 0) are left out and labelled none; "
                        "white: composite over white and segment every pixel (default: mask)")
    parser.add_argument("--mask", metavar="MASK",
                        help="mask image: non-zero pixels are segmented, zero pixels left out; "
                        "'{stem}' in it is each image's stem, e.g. 'masks/{stem}.png'")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs (never an input)")
    parser.add_argument("--skip-existing", action="store_true", help="skip an image whose outputs all exist")


def _add_fit_options(parser):
    parser.add_argument("-k", "--n-components", type=k_value, default=DEFAULTS["n_components"], metavar="K",
                        help="number of mixture components, i.e. segments, or auto: chosen per image by the "
                        f"effective-size ICL among 1..8 (default: {DEFAULTS['n_components']})")
    parser.add_argument("--space", choices=SPACES, default="auto",
                        help="colour space of the fit; auto: grey for a grey image, rgb otherwise (default: auto)")
    parser.add_argument("--init", choices=INITS, default=DEFAULTS["init"],
                        help="initialisation (default: kmeans); random starts every mean near the global mean, "
                        "where EM is slow: give it a small --tol (e.g. 1e-9)")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                        help=f"random seed; the same seed gives the same output (default: {DEFAULTS['seed']})")
    parser.add_argument("--max-iter", type=positive_int, default=DEFAULTS["max_iter"], metavar="N",
                        help=f"maximum number of EM iterations (default: {DEFAULTS['max_iter']})")
    parser.add_argument("--tol", type=non_negative_float, default=DEFAULTS["tol"], metavar="T",
                        help=f"stop when the mean log-likelihood gains less than T (default: {DEFAULTS['tol']:g})")
    parser.add_argument("--reg-covar", type=non_negative_float, default=DEFAULTS["reg_covar"], metavar="R",
                        help=f"added to the variances, keeps them positive (default: {DEFAULTS['reg_covar']:g})")


def _add_outputs(parser, default_name):
    parser.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUT",
                        help="folder for the outputs (created if missing)")
    parser.add_argument("--name", metavar="TEMPLATE",
                        help=f"output name before '_labels.png' etc.: fields {{{'}, {'.join(NAME_FIELDS)}}}"
                        f"{', {model}' if default_name == APPLY_NAME else ''} (default: {default_name}, then "
                        "_smooth{smooth} with --smooth and _regions{regions} with --regions)")
    parser.add_argument("--regions", type=positive_int, metavar="MIN_SIZE",
                        help="label image of connected regions (1..R) instead of components, regions under "
                        "MIN_SIZE pixels merged into a neighbour; the table then lists regions")
    parser.add_argument("--render", type=render_list, default=("overlay",), metavar="KINDS",
                        help=f"renderings, comma-separated: {', '.join(RENDERS)}, or none (default: overlay)")
    parser.add_argument("--label-format", choices=LABEL_FORMATS, default="png",
                        help="label image: 16-bit png or tiff, or npy (default: png)")
    parser.add_argument("--no-table", dest="table", action="store_false", help="no per-segment CSV table")
    parser.add_argument("--names", type=name_list, metavar="A,B,...", help="segment names, for the legend and the table")


def segment_parser() -> argparse.ArgumentParser:
    """The parser of ``gmm-segment [segment] IMAGE... -o OUT``."""
    parser = _parser(PROG, "Segment images with a Gaussian mixture model fitted by EM (Donovan & Pronin, 2024).\n"
                     f"Subcommands: '{PROG} fit' (one model for many images), '{PROG} apply' (label\n"
                     f"images with a saved model); see '{PROG} fit --help'. A file named fit or apply: ./fit.",
                     SEGMENT_EPILOG)
    from gmm import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} (gmm) {__version__}")
    _add_inputs(parser)
    _add_fit_options(parser)
    _add_outputs(parser, SEGMENT_NAME)
    parser.add_argument("--smooth", type=smooth_value, default=0.0, metavar="BETA",
                        help="spatial smoothing: the Potts prior's beta (0: none, pixels independent), or auto "
                        "to estimate it; not with masks (default: 0)")
    parser.add_argument("--save-model", action="store_true", help="also write each image's model (NAME_model.json)")
    parser.add_argument("--save-elbo", action="store_true",
                        help="also write the ELBO curve (NAME_elbo.png) and the per-iteration history (NAME_history.json, .csv)")
    return parser


def fit_parser() -> argparse.ArgumentParser:
    """The parser of ``gmm-segment fit IMAGE... -o MODEL``."""
    parser = _parser(f"{PROG} fit", "Fit one Gaussian mixture to all the pixels of one or more images and save it.",
                     FIT_EPILOG)
    _add_inputs(parser)
    _add_fit_options(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="MODEL", help="the model file to write (JSON)")
    parser.add_argument("--names", type=name_list, metavar="A,B,...", help="component names, stored in the model")
    return parser


def apply_parser() -> argparse.ArgumentParser:
    """The parser of ``gmm-segment apply MODEL IMAGE... -o OUT``."""
    parser = _parser(f"{PROG} apply", "Label images with a saved model: the same components on every image.",
                     APPLY_EPILOG)
    parser.add_argument("model", type=Path, metavar="MODEL", help=f"a model file from '{PROG} fit' or --save-model")
    _add_inputs(parser)
    _add_outputs(parser, APPLY_NAME)
    parser.set_defaults(save_model=False, save_elbo=False, smooth=0.0)
    return parser

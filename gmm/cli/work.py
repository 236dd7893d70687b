"""One image, start to finish: read it (and its mask), segment it or apply a model, write its outputs.

:func:`run_job` never raises for a bad input: it returns an :class:`Outcome` whose messages the
caller prints, so it runs the same in this process or in a Dask worker process.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from gmm.cli.batch import interrupted
from gmm.cli.files import InputError, check_outputs, label_image_bytes, output_paths


@dataclass(frozen=True)
class Settings:
    """What the command line asks of every image (picklable, for worker processes)."""

    mode: str  # 'segment' or 'apply'
    name: str
    renders: tuple
    label_format: str
    table: bool
    names: tuple | None
    alpha: str
    mask: str | None
    overwrite: bool
    skip_existing: bool
    inputs: frozenset
    n_components: int = 3
    space: str = "auto"
    init: str = "kmeans"
    seed: int = 0
    max_iter: int = 100
    tol: float = 1e-3
    reg_covar: float = 1e-6
    save_model: bool = False
    save_elbo: bool = False
    model: str | None = None  # apply: the model file's JSON text
    model_stem: str = ""
    smoothing: float | str = 0.0
    regions: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one image: 'done', 'skipped' (every output exists) or 'failed'."""

    index: int
    path: str
    status: str
    written: tuple = ()
    messages: tuple = ()  # (kind, text): kind 'warning' or 'error'
    detail: str = ""
    seconds: float = 0.0


# ----------------------------------------------------------------------------------- messages
_CLI_SPELLING = ((re.compile(r"n_components=(\d+)"), r"-k \1"), (re.compile(r"color_space='(\w+)'"), r"--space \1"),
                 (re.compile(r"max_iter=(\d+)"), r"--max-iter \1"), (re.compile(r"reg_covar="), "--reg-covar "),
                 (re.compile(r"\btol="), "--tol "), (re.compile(r"^smoothing\b"), "--smooth"))


def reason(exc: BaseException) -> str:
    """A one-line reason for a failure, without the traceback, in the command line's words."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror[0].lower() + exc.strerror[1:]
        text = f"{text}: {exc.filename}" if exc.filename else text
    else:
        # The first line: library messages put the summary there and install hints after it.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[0] if lines else type(exc).__name__
        if not isinstance(exc, (OSError, ValueError, InputError)):
            text = f"{type(exc).__name__}: {text}"
    for pattern, replacement in _CLI_SPELLING:
        text = pattern.sub(replacement, text)
    return text


#: Warnings meant for programmers, not for the person running the command.
_DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _warnings(caught) -> list:
    """Distinct warning messages (convergence, collapse, ...), each on one line."""
    texts = (" ".join(str(w.message).split()) for w in caught if not issubclass(w.category, _DEVELOPER_WARNINGS))
    return [("warning", text) for text in dict.fromkeys(texts)]


# -------------------------------------------------------------------------------------- a job
def run_job(job, settings: Settings) -> Outcome:
    """Process one image; failures become an Outcome with an error message, never an exception.

    KeyboardInterrupt and SystemExit pass through (nothing is left half-written), and so does an
    error that Ctrl-C caused inside compiled code.
    """
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            written, detail = _process(job, settings)
            status, error = ("done" if written else "skipped"), None
        except (InputError, OSError, ValueError) as exc:
            written, detail, status, error = (), "", "failed", reason(exc)
        except MemoryError:
            written, detail, status, error = (), "", "failed", "out of memory"
        except Exception as exc:  # noqa: BLE001 - a bug met on one image must not stop the others
            if interrupted(exc):  # Ctrl-C inside compiled code (numba) arrives wrapped in a SystemError
                raise
            written, detail, status, error = (), "", "failed", f"unexpected error, please report it: {reason(exc)}"
    messages = _warnings(caught) + ([("error", error)] if error else [])
    return Outcome(job.index, str(job.path), status, tuple(written), tuple(messages), detail,
                   time.perf_counter() - start)


def _process(job, s: Settings):
    """Returns the paths written (none: skipped) and a short description of the fit."""
    from gmm.outputs import atomic_write

    image, mask = load(job.path, s.alpha, s.mask)
    model = _model(s) if s.mode == "apply" else None
    space = model.color_space_ if model is not None else choose_space(image, s.space)
    k = model.means_.shape[0] if model is not None else s.n_components
    name = s.name.format(stem=job.stem, k=k, space=space, seed=s.seed, init=s.init, model=s.model_stem,
                         smooth=s.smoothing, regions=s.regions)
    paths = output_paths(job.out_dir, name, label_format=s.label_format, table=s.table, renders=s.renders,
                         model=s.save_model, elbo=s.save_elbo, regions=bool(s.regions))
    todo = check_outputs(paths, s.inputs, overwrite=s.overwrite, skip_existing=s.skip_existing)
    if not todo:
        return (), f"{space}, K={k}"
    result = _apply(model, image, mask) if model is not None else _segment(image, mask, space, s)
    names = _names(s, model, result.n_components)
    label_map = _regions(result, s.regions) if s.regions else result.labels
    payloads = {kind: encode(kind, result, names, s, job, label_map) for kind in todo}  # all encoded, then written
    for kind, data in payloads.items():
        atomic_write(todo[kind], data)
    return tuple(str(path) for path in todo.values()), _detail(result, s)


def _detail(result, s: Settings) -> str:
    """'rgb, K=3' and what else was chosen: K by ICL, the smoothing's beta."""
    detail = f"{result.color_space}, K={result.n_components}" + (" (auto)" if s.n_components == "auto" else "")
    if getattr(result, "smoothing", 0):
        detail += f", smoothing beta={result.smoothing:.3g}"
    return detail


def _regions(result, min_size: int):
    """Connected regions 1..R of the label map (0: masked out)."""
    try:
        return result.regions(min_size)
    except ValueError as exc:  # a mask: regions need every pixel labelled
        raise InputError("--regions needs every pixel labelled: not with transparent pixels or --mask "
                         "(--alpha white composites instead)") from exc


def load(path: Path, alpha: str = "mask", mask_template: str | None = None):
    """The image and its mask: from the alpha channel (``alpha='mask'``), the ``--mask`` file
    (``mask_template`` with ``{stem}`` replaced by the image's stem), both, or None."""
    from gmm.image import load_image
    from gmm.masks import check_mask, load_image_and_mask, load_mask

    if not path.exists():
        raise InputError("no such file")
    if path.is_dir():
        raise InputError("is a directory, not an image file")
    try:
        image, mask = load_image_and_mask(path) if alpha == "mask" else (load_image(path), None)
    except (OSError, ValueError) as exc:  # any decoder failure of one input must not stop the batch
        raise InputError(reason(exc).replace(f"read {path} as", "read it as")) from exc
    if mask_template:
        mask_path = Path(mask_template.format(stem=path.stem))
        if not mask_path.is_file():
            raise InputError(f"no mask {mask_path} (from --mask {mask_template})")
        try:
            extra = load_mask(mask_path, image.shape)
            mask = extra if mask is None else check_mask(mask & extra, image.shape, "the mask and the alpha channel together")
        except (OSError, ValueError) as exc:
            raise InputError(reason(exc)) from exc
    return image, mask


def is_grey(image) -> bool:
    """A grey image, or a colour image whose three channels are equal everywhere."""
    return image.ndim == 2 or bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def choose_space(image, space: str) -> str:
    """The colour space for one image: --space, or under 'auto' grey for grey images, rgb otherwise."""
    if space == "auto":
        return "grey" if is_grey(image) else "rgb"
    if image.ndim == 2 and space != "grey":
        raise InputError(f"the image is grey: segment it with --space grey, or leave --space out (not --space {space})")
    return space


def _segment(image, mask, space, s: Settings):
    from gmm.segmentation import segment

    try:
        return segment(image, s.n_components, color_space=space, init=s.init, random_state=s.seed,
                       max_iter=s.max_iter, tol=s.tol, reg_covar=s.reg_covar, mask=mask,
                       **({"smoothing": s.smoothing} if s.smoothing != 0 else {}))
    except ValueError as exc:  # e.g. fewer distinct colours than components
        raise InputError(f"cannot segment: {reason(exc)}") from exc


_MODELS: dict = {}


def _model(s: Settings):
    """The model of ``gmm-segment apply``, parsed once per process."""
    if s.model not in _MODELS:
        import json

        from gmm.model_io import model_from_document

        _MODELS.clear()
        _MODELS[s.model] = model_from_document(json.loads(s.model))
    return _MODELS[s.model]


def _apply(model, image, mask):
    from gmm.model_io import apply_model

    return apply_model(model, image, mask)


def _names(s: Settings, model, k: int):
    names = s.names if s.names is not None else getattr(model, "names_", None)
    if names is not None and len(names) != k:
        raise InputError(f"--names gives {len(names)} names for {k} segments")
    return None if names is None else list(names)


# ------------------------------------------------------------------------------------ outputs
def encode(kind: str, result, names, s: Settings, job, label_map) -> bytes:
    """The bytes of one output of one image; ``label_map`` is the labels or, with --regions, the regions."""
    from gmm.outputs import png_bytes

    if kind == "labels":
        return label_image_bytes(label_map, s.label_format, none_value=0 if s.regions else 65535)
    if kind == "table":
        from gmm.tables import region_rows, segment_rows, table_csv_bytes

        if s.regions:
            return table_csv_bytes(region_rows(label_map, result.labels, result.image, result.n_components, names))
        return table_csv_bytes(segment_rows(result.labels, result.image, result.n_components, names))
    if kind == "overlay":
        from gmm.render import overlay_with_legend

        return png_bytes(overlay_with_legend(result.image, result.labels, result.n_components, names))
    if kind in ("palette", "mean", "soft"):
        return png_bytes(result.render("labels" if kind == "palette" else kind))
    if kind == "model":
        from gmm.model_io import model_json_bytes

        return model_json_bytes(result, names=names, info={"image": job.path.name})
    return _history_bytes(kind, result, s, job)


def _history_bytes(kind, result, s: Settings, job) -> bytes:
    from gmm.outputs import history_csv_bytes, history_json_bytes

    if kind == "elbo":
        from gmm.plotting import history_png_bytes

        return history_png_bytes(result.model.history_, job.path.name)
    if kind == "history_json":
        meta = {"image": str(job.path), "n_components": result.n_components, "color_space": result.color_space,
                "init": s.init, "seed": s.seed, "max_iter": s.max_iter, "tol": s.tol, "reg_covar": s.reg_covar}
        return history_json_bytes(result.model, meta)
    return history_csv_bytes(result.model.history_)

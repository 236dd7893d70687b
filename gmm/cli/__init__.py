"""``gmm-segment``: segment your images with a Gaussian mixture, from the command line.

- ``gmm-segment IMAGE|FOLDER... -o OUT``: fit a mixture to each image and write its label image,
  per-segment table and renderings (:mod:`gmm.cli.work`);
- ``gmm-segment fit IMAGE|FOLDER... -o MODEL.json``: one mixture for all the pixels of all the
  images (:mod:`gmm.cli.fitting`);
- ``gmm-segment apply MODEL.json IMAGE|FOLDER... -o OUT``: label images with a saved model.

Modules: :mod:`~gmm.cli.options` (the command lines), :mod:`~gmm.cli.inputs` (folders, stems),
:mod:`~gmm.cli.files` (output names, label image encodings, overwrite checks),
:mod:`~gmm.cli.work` (one image), :mod:`~gmm.cli.batch` (many images, Dask, progress).
Everything heavy is imported when used, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Sequence
from pathlib import Path

from gmm.cli.options import PROG

__all__ = ["main"]
SUBCOMMANDS = ("segment", "fit", "apply")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gmm-segment``; returns the exit status (0 success, 1 some input failed, 2 usage, 130 Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else "segment"
    rest = argv[1:] if argv and argv[0] in SUBCOMMANDS else argv
    try:
        return {"segment": _segment, "fit": _fit, "apply": _apply}[command](rest)
    except (KeyboardInterrupt, SystemError) as exc:
        if not _interrupted(exc):
            raise
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _interrupted(exc) -> bool:
    """Whether ``exc`` comes from Ctrl-C; if so, leftovers of the interrupted work stay quiet."""
    from gmm.cli.batch import interrupted, silence_leftovers

    if not interrupted(exc):
        return False
    silence_leftovers()
    return True


def _common_checks(parser, args) -> None:
    """Usage errors shared by the three commands (exit status 2)."""
    from importlib.util import find_spec

    if args.jobs > 1 and find_spec("dask") is None:
        parser.error("--jobs needs Dask, an optional dependency: pip install 'gmm[scale]'")
    if args.scheduler is not None:
        if args.jobs > 1:
            parser.error("--jobs and --scheduler exclude each other: the cluster's workers run the images")
        if find_spec("distributed") is None:
            parser.error("--scheduler needs dask.distributed, an optional dependency: pip install 'gmm[scale]'")
    if args.overwrite and args.skip_existing:
        parser.error("--overwrite and --skip-existing exclude each other")
    if args.mask:
        try:
            fields = {field for _, field, _, _ in string.Formatter().parse(args.mask) if field is not None}
        except ValueError as error:
            parser.error(f"argument --mask: {error} in {args.mask!r}")
        if fields - {"stem"}:
            parser.error(f"argument --mask: only {{stem}} may be replaced, got {{{sorted(fields - {'stem'})[0]}}}")


def _name_template(parser, args, default: str, fields) -> str:
    """--name, or the default with a suffix per option that changes the outputs; checked."""
    from gmm.cli.options import NAME_SUFFIXES, check_template

    if args.name is None:
        args.name = default
        if getattr(args, "smooth", 0) != 0:
            args.name += NAME_SUFFIXES["smoothing"]
        if args.regions:
            args.name += NAME_SUFFIXES["regions"]
    check_template(parser, args.name, fields)
    return args.name


def _prepare(parser, args, out: Path):
    """The jobs of the inputs, after the checks that need them; exits 2 on a usage error."""
    from gmm.cli.inputs import expand

    jobs, problems = expand(args.images, out, args.recursive)
    template = getattr(args, "name", "{stem}")
    if "{stem}" not in template and len(jobs) > 1:
        parser.error(f"argument --name: {template!r} gives every image the same name: put {{stem}} in it")
    return jobs, problems


def _make_folder(out: Path) -> bool:
    from gmm.cli.work import reason

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{PROG}: error: {out}: cannot create output folder ({reason(exc)})", file=sys.stderr)
        return False
    return True


def _run(jobs, problems, settings, n_jobs, out: Path, scheduler=None) -> int:
    """Process the images; print the summary; 130 with a one-line note when interrupted."""
    from gmm.cli.batch import Reporter, run_jobs
    from gmm.cli.work import run_job

    reporter = Reporter(len(jobs) + len(problems))
    try:
        for problem in problems:
            reporter.failed(problem.path, problem.reason)
        run_jobs(run_job, jobs, settings, n_jobs, reporter.outcome, scheduler)
    except (KeyboardInterrupt, SystemError) as exc:
        if not _interrupted(exc):
            raise
        reporter.close()
        done = reporter.counts["done"] + reporter.counts["skipped"]
        print(f"{PROG}: interrupted after {done} of {len(jobs)} images; finished outputs are kept in {out}",
              file=sys.stderr)
        return 130
    reporter.close()
    print(reporter.summary(), flush=True)
    return 1 if reporter.counts["failed"] else 0


def _segment(argv) -> int:
    from gmm.cli.options import NAME_FIELDS, SEGMENT_NAME, segment_parser

    parser = segment_parser()
    args = parser.parse_args(argv)
    _common_checks(parser, args)
    _name_template(parser, args, SEGMENT_NAME, NAME_FIELDS)
    if args.save_model and args.smooth != 0:
        parser.error("argument --save-model: a smoothed model cannot be saved (model files hold colour models)")
    if args.save_elbo and args.smooth != 0:
        parser.error("argument --save-elbo: the ELBO history is the independent model's; not with --smooth")
    if args.names is not None and args.n_components == "auto":
        parser.error("argument --names: needs a number of segments, not -k auto")
    if args.names is not None and len(args.names) != args.n_components:
        parser.error(f"argument --names: {len(args.names)} names for -k {args.n_components} segments")
    jobs, problems = _prepare(parser, args, args.output_dir)
    if not _make_folder(args.output_dir):
        return 1
    from gmm.cli.inputs import input_ids
    from gmm.cli.work import Settings

    settings = Settings(mode="segment", name=args.name, renders=args.render, label_format=args.label_format,
                        table=args.table, names=None if args.names is None else tuple(args.names),
                        alpha=args.alpha, mask=args.mask, overwrite=args.overwrite,
                        skip_existing=args.skip_existing, inputs=input_ids(jobs), n_components=args.n_components,
                        space=args.space, init=args.init, seed=args.seed, max_iter=args.max_iter, tol=args.tol,
                        reg_covar=args.reg_covar, save_model=args.save_model, save_elbo=args.save_elbo,
                        smoothing=args.smooth, regions=args.regions)
    return _run(jobs, problems, settings, args.jobs, args.output_dir, args.scheduler)


def _apply(argv) -> int:
    from gmm.cli.options import APPLY_NAME, NAME_FIELDS, apply_parser

    parser = apply_parser()
    args = parser.parse_args(argv)
    _common_checks(parser, args)
    _name_template(parser, args, APPLY_NAME, NAME_FIELDS + ("model",))
    from gmm.cli.work import reason
    from gmm.model_io import load_model

    try:
        model = load_model(args.model)
        text = args.model.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {args.model}: {reason(exc).removeprefix(f'{args.model}: ')}", file=sys.stderr)
        return 1
    k = model.means_.shape[0]
    if args.names is not None and len(args.names) != k:
        parser.error(f"argument --names: {len(args.names)} names for the model's {k} segments")
    jobs, problems = _prepare(parser, args, args.output_dir)
    if not _make_folder(args.output_dir):
        return 1
    from gmm.cli.files import file_id
    from gmm.cli.inputs import input_ids
    from gmm.cli.work import Settings

    inputs = input_ids(jobs) | {file_id(args.model)}
    settings = Settings(mode="apply", name=args.name, renders=args.render, label_format=args.label_format,
                        table=args.table, names=None if args.names is None else tuple(args.names),
                        alpha=args.alpha, mask=args.mask, overwrite=args.overwrite,
                        skip_existing=args.skip_existing, inputs=inputs, n_components=k,
                        space=model.color_space_, model=text, model_stem=args.model.stem, regions=args.regions)
    return _run(jobs, problems, settings, args.jobs, args.output_dir, args.scheduler)


def _fit(argv) -> int:
    from gmm.cli.options import fit_parser

    parser = fit_parser()
    args = parser.parse_args(argv)
    _common_checks(parser, args)
    if args.names is not None and (args.n_components == "auto" or len(args.names) != args.n_components):
        parser.error(f"argument --names: {len(args.names)} names for -k {args.n_components} components")
    jobs, problems = _prepare(parser, args, args.output.parent)
    from gmm.cli.batch import Reporter
    from gmm.cli.fitting import run_fit

    reporter = Reporter(len(jobs) + len(problems))
    try:
        return run_fit(args, jobs, problems, reporter)
    except (KeyboardInterrupt, SystemError) as exc:
        if not _interrupted(exc):
            raise
        reporter.close()
        print(f"{PROG}: interrupted: no model written", file=sys.stderr)
        return 130

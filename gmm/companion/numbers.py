"""Key numbers of the notebooks, recorded for the paper.

Each notebook calls :func:`record_numbers` with the values it prints (already rounded or
formatted, at the precision that is stable across machines: :func:`below` for quantities that
are zero up to rounding); they land in ``figures/numbers/<notebook_id>.json`` and the call
declares its provenance in the manifest (:mod:`gmm.companion.provenance`). :func:`write_latex_numbers`
turns every such file into one ``.tex`` file the paper inputs, so a number in the paper is
always the number the last pipeline run measured:

    \\gmmresult{01_football_color_vs_gray/ari_rgb}

expands to the recorded value, and a key nobody recorded stops LaTeX with an error naming it
(rather than printing nothing).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from gmm.companion import paths, provenance
from gmm.outputs import atomic_write

_ID = re.compile(r"^[0-9]{2}_[A-Za-z0-9_]+$")
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
# Characters that would change meaning inside a TeX macro body.
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%",
                "&": r"\&", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def numbers_dir() -> Path:
    """``numbers/`` inside the run's figures folder."""
    return provenance.output_root() / "numbers"


def below(value: float, bound: float) -> str:
    """``"< bound"`` when ``|value| < bound``, else the value to 2 significant digits.

    For numbers that are zero up to rounding (the difference of two exact computations): their
    digits change with the BLAS build and the processor, the bound does not.
    """
    value = float(value)
    if value != value:
        raise ValueError("below() got NaN")
    return f"< {bound:.0e}" if abs(value) < bound else f"{value:.2g}"


def _check_value(key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"number {key!r} must be an int, float or str (already rounded), got {type(value).__name__}")
    if isinstance(value, float) and value != value:
        raise ValueError(f"number {key!r} is NaN")
    return value


def record_numbers(notebook_id: str, directory=None, **values) -> Path:
    """Record a notebook's key numbers in ``<directory>/<notebook_id>.json`` (atomically).

    Parameters
    ----------
    notebook_id : str
        The notebook's file stem, e.g. ``"01_football_color_vs_gray"``.
    directory : path, optional
        Defaults to ``figures/numbers``.
    **values : int, float or str
        Key -> value; keys use letters, digits and underscores. Values are written as given,
        so round or format them first (``round(ari, 3)``, ``f"{x:.1f}"``). Numpy scalars are
        converted with ``.item()``.

    Returns
    -------
    pathlib.Path of the JSON file. Keys recorded earlier by the same notebook and not given
    again are dropped: the file holds exactly one run's numbers.
    """
    if not _ID.match(notebook_id):
        raise ValueError(f"notebook id {notebook_id!r} must look like 'NN_name' (letters, digits, underscores)")
    if not values:
        raise ValueError("record_numbers needs at least one key=value")
    clean = {}
    for key, value in values.items():
        if not _KEY.match(key):
            raise ValueError(f"key {key!r} must use only letters, digits and underscores")
        clean[key] = _check_value(key, value.item() if hasattr(value, "item") else value)
    directory = numbers_dir() if directory is None else Path(directory)
    path = directory / f"{notebook_id}.json"
    text = json.dumps(dict(sorted(clean.items())), indent=2, ensure_ascii=True) + "\n"
    atomic_write(path, text.encode("ascii"))
    provenance.declare("numbers", notebook_id, path, directory.parent / provenance.MANIFEST_NAME)
    return path


def load_numbers(directory=None) -> dict[str, dict]:
    """All recorded numbers (of the committed ``figures/numbers/`` by default): ``{notebook_id: {key: value}}``, sorted by notebook id."""
    # The paper reads the committed numbers, wherever the current run would write its own.
    directory = paths.FIGURES_DIR / "numbers" if directory is None else Path(directory)
    result = {}
    for path in sorted(directory.glob("*.json")):
        try:
            result[path.stem] = json.loads(path.read_text(encoding="ascii"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"numbers file {path} is not valid JSON: {error}") from error
    return result


def format_value(value) -> str:
    """A recorded value as TeX text (floats via ``repr``, so no digits are added or lost)."""
    text = repr(value) if isinstance(value, float) else str(value)
    return "".join(_TEX_SPECIAL.get(char, char) for char in text)


def latex_numbers(numbers: dict[str, dict]) -> str:
    """The TeX source defining ``\\gmmresult{<notebook_id>/<key>}`` for every recorded value."""
    lines = [
        "% Generated by gmm.companion.numbers.write_latex_numbers from figures/numbers/*.json. Do not edit.",
        r"\makeatletter",
        r"\providecommand{\gmmresult}[1]{%",
        r"  \ifcsname gmmresult@#1\endcsname\csname gmmresult@#1\endcsname",
        r"  \else\errmessage{gmmresult: no recorded number '#1' (run make figures)}\fi}",
    ]
    for notebook_id, values in sorted(numbers.items()):
        for key, value in sorted(values.items()):
            lines.append(rf"\expandafter\def\csname gmmresult@{notebook_id}/{key}\endcsname{{{format_value(value)}}}")
    lines.append(r"\makeatother")
    return "\n".join(lines) + "\n"


def write_latex_numbers(path, directory=None) -> Path:
    """Write :func:`latex_numbers` of every ``figures/numbers/*.json`` to ``path`` (atomically)."""
    path = Path(path)
    atomic_write(path, latex_numbers(load_numbers(directory)).encode("ascii"))
    return path


def main(argv=None) -> int:
    """``python -m gmm.companion.numbers OUT.tex``: write the LaTeX numbers file."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("output", type=Path, help="the .tex file to write")
    args = parser.parse_args(argv)
    write_latex_numbers(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

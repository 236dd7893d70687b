"""The paper's sources agree with the figures, numbers and bibliography they name.

The static checks need no TeX; the build checks run latexmk with the paper's own latexmkrc on
tiny documents (about a second each) and are skipped where latexmk is not installed. The full
build is ``make paper``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from gmm.companion import paths, provenance
from gmm.companion.numbers import latex_numbers, load_numbers

MANIFEST = paths.FIGURES_DIR / provenance.MANIFEST_NAME
PAPER_SOURCES = sorted(
    [paths.PAPER_DIR / "paper.tex", paths.PAPER_DIR / "gmmclaims.tex", *(paths.PAPER_DIR / "sections").glob("*.tex")]
)
# A TeX comment runs from an unescaped % to the end of the line.
_COMMENT = re.compile(r"(?<!\\)%.*")
_GRAPHICS = re.compile(r"\\includegraphics\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_RESULT = re.compile(r"\\gmmresult\s*\{([^}]+)\}")
_CITE = re.compile(r"\\(?:cite|citet|citep|citealt|citeauthor|citeyear)\s*(?:\[[^\]]*\])*\s*\{([^}]+)\}")
_REF = re.compile(r"\\(?:ref|eqref|autoref|pageref)\s*\{([^}]+)\}")
_LABEL = re.compile(r"\\label\s*\{([^}]+)\}")
_BIB_KEY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)
_GRAPHIC_EXTENSIONS = (".png", ".pdf", ".jpg")


def _strip_comments(text: str) -> str:
    return "\n".join(_COMMENT.sub("", line) for line in text.splitlines())


@pytest.fixture(scope="module")
def source() -> str:
    """All of the paper's TeX, comments removed."""
    return "\n".join(_strip_comments(path.read_text(encoding="utf-8")) for path in PAPER_SOURCES)


def test_sections_are_all_input(source):
    inputs = set(re.findall(r"\\input\{sections/([^}]+)\}", source))
    on_disk = {path.stem for path in (paths.PAPER_DIR / "sections").glob("*.tex")}
    assert on_disk == inputs, f"section files not \\input (or missing): {on_disk ^ inputs}"


def test_every_figure_is_a_pipeline_output(source):
    names = _GRAPHICS.findall(source)
    assert names, "the paper includes no figure"
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))["figures"]
    for name in names:
        candidates = [name] if name.endswith(_GRAPHIC_EXTENSIONS) else [name + ext for ext in _GRAPHIC_EXTENSIONS]
        found = [c for c in candidates if (paths.FIGURES_DIR / c).is_file()]
        assert found, f"\\includegraphics{{{name}}}: no such file in {paths.FIGURES_DIR}"
        # Only notebook-made figures: they show label-derived pictures, never the licensed photos.
        assert found[0] in manifest, f"{found[0]} is not listed in {MANIFEST.relative_to(paths.REPO_ROOT)}"


def test_every_number_is_recorded(source):
    # Keys with '#' are macro parameters (\gmmcheckeq's definition), not lookups.
    keys = {key for key in _RESULT.findall(source) if "#" not in key}
    assert keys, "the paper quotes no recorded number"
    numbers = load_numbers(paths.FIGURES_DIR / "numbers")
    missing = sorted(k for k in keys if k.partition("/")[2] not in numbers.get(k.partition("/")[0], {}))
    assert not missing, f"\\gmmresult keys with no recorded value in figures/numbers/: {missing}"


def test_every_citation_is_in_the_bibliography(source):
    bib_keys = set(_BIB_KEY.findall((paths.PAPER_DIR / "references.bib").read_text(encoding="utf-8")))
    cited = {key.strip() for group in _CITE.findall(source) for key in group.split(",")}
    assert cited, "the paper cites nothing"
    assert cited <= bib_keys, f"cited but not in references.bib: {sorted(cited - bib_keys)}"


def test_every_reference_has_a_label(source):
    labels = _LABEL.findall(source)
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    assert not duplicates, f"labels defined twice: {duplicates}"
    dangling = sorted(set(_REF.findall(source)) - set(labels))
    assert not dangling, f"references to undefined labels: {dangling}"


# ---------------------------------------------------------------------------------- the build

needs_latexmk = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
    reason="latexmk/pdflatex not installed (scripts/install-tex.sh)",
)


NUMBERS = {"01_x": {"value": 0.25, "word": "yes"}}


def _latexmk(tmp_path, body: str, numbers: dict | None = None) -> subprocess.CompletedProcess:
    """Run latexmk with the paper's latexmkrc and claim checks on a one-page document in ``tmp_path``."""
    for name in ("latexmkrc", "gmmclaims.tex"):
        shutil.copy(paths.PAPER_DIR / name, tmp_path / name)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "numbers.tex").write_text(latex_numbers(numbers or {}), encoding="ascii")
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\\usepackage{graphicx}\n\\input{build/numbers.tex}\\input{gmmclaims.tex}\n"
        f"\\begin{{document}}\n\\section{{One}}\\label{{sec:one}}\n{body}\n\\end{{document}}\n",
        encoding="ascii",
    )
    return subprocess.run(["latexmk"], cwd=tmp_path, capture_output=True, text=True, timeout=120)


@needs_latexmk
def test_build_succeeds_on_a_clean_document(tmp_path):
    body = r"See Section~\ref{sec:one}: \gmmresult{01_x/value}.\gmmcheck{\gmmresult{01_x/value} < 1}\gmmcheckeq{01_x/word}{yes}"
    result = _latexmk(tmp_path, body, NUMBERS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "build" / "paper.pdf").is_file()


@needs_latexmk
@pytest.mark.parametrize(
    "body",
    [
        r"\ref{sec:nowhere}",
        r"\cite{nobody1900}",
        r"\includegraphics{99_no_such_figure}",
        r"\gmmresult{01_x/unrecorded}",
        r"\gmmcheck{\gmmresult{01_x/value} > 1}",
        r"\gmmcheckeq{01_x/word}{no}",
    ],
    ids=["undefined-reference", "undefined-citation", "missing-figure", "unrecorded-number", "false-claim", "false-text-claim"],
)
def test_build_fails_on_a_broken_document(tmp_path, body):
    result = _latexmk(tmp_path, body, NUMBERS)
    assert result.returncode != 0, f"latexmk accepted {body!r}"

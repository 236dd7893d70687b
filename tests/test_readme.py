"""The README's "Use it on your own images" section runs as written.

Its ```python and ```sh blocks are run in order in one empty temporary folder: Python blocks with
this interpreter, shell blocks with bash (``-e``: any failing line fails the test) and this
environment's ``bin`` first on PATH, so ``gmm-segment`` is the installed console script.

``pip install`` lines are the one thing not run: the tests already run against the installed
package, which is what those lines produce, and running them would need the network and
minutes. They are not skipped blindly: the test checks that they are the documented install
commands, that the wheel they name is this version's, and that what they install (the package
and its console script) is the one the other blocks use.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gmm

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Use it on your own images"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```$", re.S | re.M)


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end < 0 else text[start:end]


def blocks() -> list[tuple[str, str]]:
    return [(language, code) for language, code in BLOCK.findall(section())]


def is_install(line: str) -> bool:
    return line.strip().startswith("pip install ")


def test_the_section_comes_first_and_has_both_kinds_of_block():
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"^## .*$", text, re.M)
    assert headings[0] == SECTION
    assert headings[1] == "## Set-up on a fresh machine: two commands"
    languages = [language for language, _ in blocks()]
    assert "python" in languages and "sh" in languages


def test_install_lines_are_the_documented_ones():
    lines = [line for _, code in blocks() for line in code.splitlines() if is_install(line)]
    commands = [line.split("#")[0].strip() for line in lines]
    assert commands == ["pip install .", "pip install '.[scale]'"]
    assert f"gmm-{gmm.__version__}-py3-none-any.whl" in section()  # the wheel this version builds
    script = Path(sys.executable).parent / "gmm-segment"
    assert script.exists(), "the console script pip install . provides"


def test_every_block_runs_as_written(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    ran = []
    for language, code in blocks():
        if language == "python":
            command = [sys.executable, "-c", code]
        else:
            script = "\n".join(line for line in code.splitlines() if not is_install(line))
            if not script.strip():
                continue
            command = ["bash", "-e", "-c", script]
        proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"README {language} block failed:\n{code}\n--- stderr:\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
        ran.append(language)
    assert ran.count("python") >= 2 and ran.count("sh") >= 2
    # What the section says the commands write is there.
    out = {p.name for p in (tmp_path / "out").iterdir()}
    for name in ("coffee_k3_rgb_labels.png", "coffee_k3_rgb_segments.csv", "coffee_k3_rgb_overlay.png",
                 "camera_k3_grey_labels.png", "cat_k3_rgb_labels.png", "coffee_k4_lab_mean.png",
                 "coffee_kauto_rgb_smoothauto_regions50_labels.png", "coffee_kauto_rgb_smoothauto_regions50_regions.csv"):
        assert name in out, name
    for name in re.findall(r"`(coffee_k3_rgb_\w+\.\w+)`", section()):
        assert name in out, name
    assert (tmp_path / "model.json").exists() and (tmp_path / "applied" / "camera_model_labels.png").exists()


@pytest.mark.parametrize("name", ["load_image", "segment", "fit_image", "GaussianMixture", "plot_history"])
def test_the_names_the_section_uses_exist(name):
    assert f"gmm.{name}" in section() and hasattr(gmm, name)

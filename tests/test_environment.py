"""environment.yml (conda) must list the same dependencies as pyproject.toml (pip).

Names are compared after PEP 503 normalisation; a PyPI requirement whose conda-forge packaging
differs is translated by the explicit table ``PYPI_TO_CONDA``. Version bounds must agree too.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from gmm.companion.paths import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
ENVIRONMENT = REPO_ROOT / "environment.yml"

#: PyPI requirement (normalised name plus extras) -> the conda-forge packages that provide it.
PYPI_TO_CONDA = {
    "dask[distributed]": ("dask", "distributed"),
}
#: Conda packages with no PyPI requirement: the interpreter and the installer of the package.
CONDA_ONLY = {"python", "pip"}

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*$")


def normalise(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(requirement: str) -> tuple[str, str]:
    """``(name[extras], version specifier)`` of a pip requirement or conda match spec."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    name, extras, spec = match.groups()
    extras = "" if not extras else "[" + ",".join(sorted(normalise(e) for e in extras[1:-1].split(","))) + "]"
    return normalise(name) + extras, spec.replace(" ", "")


def pyproject_requirements(pyproject: dict) -> list[str]:
    project = pyproject["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return requirements


def conda_requirements(environment: dict) -> tuple[list[str], list]:
    """The conda match specs and the ``pip:`` entries of an environment.yml."""
    conda, pip = [], []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(entry.get("pip", []))
        else:
            conda.append(str(entry))
    return conda, pip


def expected_conda(pip_requirements: list[str]) -> dict[str, str]:
    """Conda package -> version specifier implied by pip requirements."""
    expected = {}
    for requirement in pip_requirements:
        name, spec = parse(requirement)
        for conda_name in PYPI_TO_CONDA.get(name, (name,)):
            expected[conda_name] = spec
    return expected


def disagreements(pip_requirements: list[str], conda_specs: list[str]) -> list[str]:
    """Human-readable differences between the two lists; empty when they agree."""
    expected = expected_conda(pip_requirements)
    actual = dict(parse(spec) for spec in conda_specs)
    problems = []
    for name, spec in sorted(expected.items()):
        if name not in actual:
            problems.append(f"{name}{spec} is in pyproject.toml but missing from environment.yml")
        elif actual[name] != spec:
            problems.append(f"{name}: pyproject.toml says {spec!r}, environment.yml says {actual[name]!r}")
    for name in sorted(set(actual) - set(expected) - CONDA_ONLY):
        problems.append(f"{name} is in environment.yml but not in pyproject.toml")
    return problems


@pytest.fixture(scope="module")
def pyproject():
    return tomllib.loads(PYPROJECT.read_text())


@pytest.fixture(scope="module")
def environment():
    return yaml.safe_load(ENVIRONMENT.read_text())


def test_dependency_lists_agree(pyproject, environment):
    conda, _ = conda_requirements(environment)
    assert disagreements(pyproject_requirements(pyproject), conda) == []


def test_conda_forge_channel_and_editable_install(environment):
    assert environment["channels"] == ["conda-forge"]
    conda, pip = conda_requirements(environment)
    assert "pip" in {parse(spec)[0] for spec in conda}, "a pip: section needs pip itself"
    assert "-e ." in pip


def test_python_version_matches_requires_python(pyproject, environment):
    conda, _ = conda_requirements(environment)
    python = dict(parse(spec) for spec in conda).get("python")
    assert python == pyproject["project"]["requires-python"].replace(" ", "")


def test_comparison_catches_any_missing_package(pyproject):
    """The check is not vacuous: dropping any one package on either side is reported by name.

    Run on the conda list that pyproject.toml implies, so it tests the comparison itself
    whatever the state of environment.yml."""
    pip_reqs = pyproject_requirements(pyproject)
    conda = [name + spec for name, spec in expected_conda(pip_reqs).items()]
    assert disagreements(pip_reqs, conda) == []
    for i, requirement in enumerate(pip_reqs):
        name = parse(requirement)[0]
        provided_by = set(PYPI_TO_CONDA.get(name, (name,)))
        fewer_conda = [s for s in conda if parse(s)[0] not in provided_by]
        assert len(fewer_conda) < len(conda)
        assert any("missing from environment.yml" in p for p in disagreements(pip_reqs, fewer_conda))
        fewer_pip = pip_reqs[:i] + pip_reqs[i + 1 :]
        assert any(
            c in p and "not in pyproject.toml" in p
            for c in provided_by
            for p in disagreements(fewer_pip, conda)
        )


def test_comparison_catches_a_mapped_package_and_a_version_change():
    pip_reqs = ["dask[distributed]>=2024.1", "numpy>=1.26"]
    assert disagreements(pip_reqs, ["dask>=2024.1", "distributed>=2024.1", "numpy>=1.26"]) == []
    assert disagreements(pip_reqs, ["dask>=2024.1", "numpy>=1.26"]) == [
        "distributed>=2024.1 is in pyproject.toml but missing from environment.yml"
    ]
    assert disagreements(pip_reqs, ["dask>=2024.1", "distributed>=2024.1", "numpy>=2.0"]) != []
    assert disagreements(["Scikit_Learn>=1.6"], ["scikit-learn >=1.6"]) == []


# ------------------------------------------------------------------ requirements-lock.txt
LOCK = REPO_ROOT / "requirements-lock.txt"


def lock_pins(text: str) -> dict[str, str]:
    """``{normalised name: version}`` of a lock file's ``name==version`` lines."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version or any(c in version for c in "<>=!~*,; "):
            raise ValueError(f"lock line {line!r} is not an exact 'name==version' pin")
        pins[normalise(name)] = version
    return pins


def test_lock_pins_every_dependency_within_its_bounds(pyproject):
    from packaging.requirements import Requirement

    pins = lock_pins(LOCK.read_text(encoding="utf-8"))
    for requirement in map(Requirement, pyproject_requirements(pyproject)):
        name = normalise(requirement.name)
        assert name in pins, f"{name} is a dependency of pyproject.toml but not pinned in requirements-lock.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements-lock.txt pins {name}=={pins[name]}, outside pyproject.toml's {requirement.specifier}"
        )
    assert "gmm" not in pins  # the package itself is installed from the checkout, not the lock


def test_lock_parser_refuses_loose_pins():
    assert lock_pins("# comment\nnumpy==2.1.0\n\nscipy==1.14.1  # why\n") == {"numpy": "2.1.0", "scipy": "1.14.1"}
    for loose in ("numpy>=2", "numpy", "numpy==2.*"):
        with pytest.raises(ValueError, match="exact"):
            lock_pins(loose)

"""From the command line's inputs to jobs: folders listed, stems named apart, outputs placed.

A job is one image: its path, the stem its outputs are named after, and the folder they go to
(OUT, or OUT/<subfolder> for an image found in a subfolder of a folder input).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: Suffixes taken from a folder (any file named on the command line is tried, whatever its name).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".gif", ".webp",
                            ".ppm", ".pgm", ".pbm", ".pnm", ".jp2", ".j2k", ".ico", ".tga"})


@dataclass(frozen=True)
class Job:
    """One image to process.

    Attributes
    ----------
    index : int
        Position in the command line's order (folders expanded, sorted).
    path : Path
        As given, or the folder input joined with the file's relative path.
    stem : str
        What ``{stem}`` means in ``--name``: the file's stem, named apart from other inputs'.
    out_dir : Path
        The output folder for this image.
    """

    index: int
    path: Path
    stem: str
    out_dir: Path


@dataclass(frozen=True)
class Problem:
    """An input that gives no job (a missing path, an empty folder): reported as a failure."""

    path: Path
    reason: str


def _file_id(path: Path):
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def natural_key(name: str):
    """Sort key that orders numbers by value: frame2 before frame10."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def list_folder(folder: Path, recursive: bool, skip=()) -> list[Path]:
    """Image files in ``folder`` (and its subfolders), sorted; hidden names and ``skip`` left out.

    Parameters
    ----------
    folder : Path
    recursive : bool
    skip : collection of (device, inode)
        Folders not to enter (the output folder, so outputs are never read back as inputs).
    """
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted((d for d in dirs if not d.startswith(".") and _file_id(Path(root) / d) not in skip),
                         key=natural_key)
        found += [Path(root) / f for f in sorted(files, key=natural_key)
                  if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_SUFFIXES]
        if not recursive:
            break
    return found


def expand(inputs, out_dir: Path, recursive: bool):
    """Jobs for the command line's inputs, and the inputs that give none.

    Returns
    -------
    jobs : list of Job
    problems : list of Problem
    """
    skip = {_file_id(out_dir)} - {None}
    placed, problems = [], []  # placed: (path, output folder), in order
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            files = list_folder(item, recursive, skip)
            if not files:
                hint = "" if recursive else " (--recursive also looks in subfolders)"
                problems.append(Problem(item, f"folder holds no image files{hint}"))
            placed += [(path, out_dir / path.parent.relative_to(item)) for path in files]
        elif item.exists() or item.is_symlink():
            placed.append((item, out_dir))
        else:
            problems.append(Problem(item, "no such file or folder"))
    stems = unique_stems([(folder, path.stem) for path, folder in placed])
    jobs = [Job(i, path, stem, folder) for i, ((path, folder), stem) in enumerate(zip(placed, stems))]
    return jobs, problems


def unique_stems(keys) -> list[str]:
    """Stems named apart within each output folder: the first keeps its stem, the next get -2, -3, ...

    Parameters
    ----------
    keys : list of (output folder, stem)

    Returns
    -------
    list of str, in the order of ``keys``
    """
    taken = {(folder, stem.casefold()) for folder, stem in keys}  # casefold: case-insensitive file systems
    seen, stems = set(), []
    for folder, stem in keys:
        name, n = stem, 1
        # A new name must also differ from every natural stem, so a later input keeps its own.
        while (folder, name.casefold()) in seen or (name != stem and (folder, name.casefold()) in taken):
            n += 1
            name = f"{stem}-{n}"
        seen.add((folder, name.casefold()))
        stems.append(name)
    return stems


def input_ids(jobs) -> frozenset:
    """(device, inode) of every input file: an output must never replace one, by any name."""
    return frozenset(key for key in (_file_id(job.path) for job in jobs) if key is not None)

"""The data registry: named, hash-verified files that are never committed to the project.

``registry.csv`` beside this module (package data, so an installed copy has it too) lists each
file's name, kind, path inside the mirror, sha256, original URL and licence note. :func:`load` looks for a
file in three places, in this order, and verifies its sha256 every time:

1. the local mirror folder named by the environment variable ``GMM_DATA_MIRROR``;
2. pooch's cache (the folder named by ``GMM_DATA_CACHE``, else ``pooch.os_cache("gmm")``);
3. a download of the original URL with pooch into that cache.

A mirror file whose hash does not match is refused (:class:`DataIntegrityError`), never used.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DataIntegrityError",
    "DataUnavailableError",
    "RegistryEntry",
    "bsds_ids",
    "load",
    "load_bsds",
    "load_image",
    "loaded_files",
    "registry",
    "sha256_of",
]

_COLUMNS = ("name", "kind", "path", "sha256", "url", "licence")
#: The registry file, shipped inside the package.
REGISTRY_FILE = Path(__file__).resolve().parent / "registry.csv"
#: Environment variable naming a local mirror folder of the registered data files.
DATA_MIRROR_ENV = "GMM_DATA_MIRROR"
#: Environment variable overriding pooch's cache folder.
DATA_CACHE_ENV = "GMM_DATA_CACHE"
#: BSDS500 split of a registered BSDS file, from its folder in the mirror.
BSDS_SPLITS = {"bsds": "test", "bsds-train": "train", "bsds-val": "val"}
# Files this process has loaded, with their verified hashes: what a result was computed from.
_LOADED: dict[str, str] = {}
_KINDS = ("photo", "bsds_image", "bsds_truth")


class DataUnavailableError(RuntimeError):
    """A registered file is neither in the mirror nor in the cache and cannot be downloaded."""


class DataIntegrityError(ValueError):
    """A registered file exists but its sha256 differs from the registry's."""


@dataclass(frozen=True)
class RegistryEntry:
    """One row of the data registry.

    Attributes
    ----------
    name : str
        Key passed to :func:`load` (``'fox'``, ``'bsds_14085'``, ``'bsds_14085_gt'``...).
    kind : str
        ``'photo'``, ``'bsds_image'`` (a BSDS500 JPEG) or ``'bsds_truth'`` (its ``.mat``).
    path : str
        Relative POSIX path inside the mirror and the cache.
    sha256 : str
        Hex digest of the file's bytes.
    url : str
        Original download URL (pinned to a commit).
    licence : str
        Terms of use, in words.
    """

    name: str
    kind: str
    path: str
    sha256: str
    url: str
    licence: str


# --- reading the registry ----------------------------------------------------------------


def _parse_row(row: dict, source: Path, line: int) -> RegistryEntry:
    """Validate one CSV row and turn it into an entry."""
    values = {column: (row.get(column) or "").strip() for column in _COLUMNS}
    missing = [column for column, value in values.items() if not value]
    if missing:
        raise ValueError(f"{source}, line {line}: empty column(s) {missing}")
    if values["kind"] not in _KINDS:
        raise ValueError(f"{source}, line {line}: kind {values['kind']!r} not in {_KINDS}")
    digest = values["sha256"].lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{source}, line {line}: {digest!r} is not a sha256 hex digest")
    values["sha256"] = digest
    return RegistryEntry(**values)


def registry() -> dict[str, RegistryEntry]:
    """Every registered file, in file order.

    Returns
    -------
    entries : dict of str to RegistryEntry
        Keyed by name.
    """
    source = REGISTRY_FILE
    if not source.is_file():
        raise FileNotFoundError(f"data registry {source} does not exist")
    entries: dict[str, RegistryEntry] = {}
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise ValueError(f"{source}: header {reader.fieldnames} != {list(_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            entry = _parse_row(row, source, line)
            if entry.name in entries:
                raise ValueError(f"{source}, line {line}: duplicate name {entry.name!r}")
            entries[entry.name] = entry
    return entries


def _entry(name: str) -> RegistryEntry:
    """The entry called ``name``; an unknown name lists the known ones."""
    entries = registry()
    if name not in entries:
        photos = [n for n, e in entries.items() if not e.kind.startswith("bsds")]
        n_bsds = len(entries) - len(photos)
        raise ValueError(f"unknown data file {name!r}; known names: {', '.join(photos)}, and {n_bsds} BSDS500 "
                         "files named bsds_<id> (image) and bsds_<id>_gt (ground truth)")
    return entries[name]


# --- locating and verifying files --------------------------------------------------------


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verified(path: Path, entry: RegistryEntry) -> Path:
    """Return ``path`` if its hash matches the entry; refuse it otherwise."""
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise DataIntegrityError(
            f"{path} (data file {entry.name!r}) has sha256 {actual}, but the registry "
            f"expects {entry.sha256}; the file was modified or corrupted and is not used"
        )
    return path


def data_mirror() -> Path | None:
    """The local mirror folder named by ``GMM_DATA_MIRROR``, or None when unset."""
    value = os.environ.get(DATA_MIRROR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """pooch's cache folder: ``GMM_DATA_CACHE`` when set, else ``pooch.os_cache('gmm')``."""
    value = os.environ.get(DATA_CACHE_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("gmm"))


def _download(entry: RegistryEntry) -> Path:
    """Fetch ``entry`` into the cache with pooch (a verified cached copy is reused)."""
    import pooch

    target = cache_dir() / entry.path
    try:
        fetched = pooch.retrieve(
            entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=target.name,
            path=target.parent,
            progressbar=False,
        )
    except Exception as error:
        # pooch raises a plain ValueError when the downloaded bytes have the wrong hash;
        # anything else (some of requests' errors merely subclass ValueError) is the network.
        if type(error) is ValueError:
            message = f"download of {entry.name!r} from {entry.url}: {error}"
            raise DataIntegrityError(message) from error
        raise DataUnavailableError(
            f"data file {entry.name!r} ({entry.path}) is not in a local mirror or the cache "
            f"and could not be downloaded from {entry.url} ({type(error).__name__}: {error}). "
            f"Point the environment variable {DATA_MIRROR_ENV} at a folder holding "
            f"{entry.path}, or connect to the internet."
        ) from error
    return Path(fetched)


def load(name: str) -> Path:
    """Local path of a registered file, verified against its sha256.

    Parameters
    ----------
    name : str
        A registry name, e.g. ``'fox'``, ``'moose'``, ``'football'``, ``'bsds_14085'``.

    Returns
    -------
    path : pathlib.Path
        The mirror copy when ``GMM_DATA_MIRROR`` holds the file, else the cached copy.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known names).
    DataIntegrityError
        The mirror (or downloaded) file's hash differs from the registry's.
    DataUnavailableError
        No mirror copy, no cached copy, and the download failed.
    """
    entry = _entry(name)
    mirror = data_mirror()
    if mirror is not None and (mirror / entry.path).is_file():
        path = _verified(mirror / entry.path, entry)
    else:
        path = _download(entry)
    _LOADED[name] = entry.sha256
    return path


def loaded_files() -> dict[str, str]:
    """``{name: sha256}`` of every registered file this process has loaded, sorted by name.

    Lets a caller state which data a result was computed from (the companion's provenance).
    """
    return dict(sorted(_LOADED.items()))


# --- decoded content ---------------------------------------------------------------------


def load_image(name: str) -> np.ndarray:
    """A registered photo, e.g. ``'fox'``, read by :func:`gmm.image.load_image` (the one image reader).

    Returns
    -------
    image : ndarray of shape (H, W, 3) (or (H, W) for a grey file), dtype uint8
    """
    from gmm.image import load_image as read_image

    return read_image(load(name))


def bsds_split(entry: RegistryEntry) -> str:
    """``'test'``, ``'train'`` or ``'val'``: the BSDS500 split of a registered BSDS file."""
    folder = entry.path.split("/", 1)[0]
    if folder not in BSDS_SPLITS:
        raise ValueError(f"{entry.name!r} ({entry.path}) is not in a BSDS500 folder {sorted(BSDS_SPLITS)}")
    return BSDS_SPLITS[folder]


def bsds_ids(split: str = "test") -> list[str]:
    """Ids of the registered BSDS500 images of one split, in registry order (e.g. ``'14085'``).

    Parameters
    ----------
    split : {"test", "train", "val"}, default="test"
        ``test``: the 10 test images for quick looks and figures; ``train`` (200 images) is for
        tuning, ``val`` (100 images) for reporting with one fixed parameter set.
    """
    if split not in BSDS_SPLITS.values():
        raise ValueError(f"split must be one of {sorted(set(BSDS_SPLITS.values()))}, got {split!r}")
    return [e.name.removeprefix("bsds_") for e in registry().values()
            if e.kind == "bsds_image" and bsds_split(e) == split]


def _label_maps(path: Path) -> list[np.ndarray]:
    """Every annotator's ``Segmentation`` from a BSDS500 ground-truth ``.mat`` file."""
    from scipy.io import loadmat

    try:
        cells = loadmat(path)["groundTruth"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read BSDS ground truth {path}: {error}") from error
    return [np.asarray(cell["Segmentation"][0, 0], dtype=np.int32) for cell in cells.ravel()]


def load_bsds(image_id: str | int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A BSDS500 image (any split) and every human segmentation of it.

    Parameters
    ----------
    image_id : str or int
        One of ``bsds_ids(split)`` for some split.

    Returns
    -------
    image : ndarray of shape (H, W, 3), dtype uint8
    label_maps : list of ndarray of shape (H, W), dtype int32
        One per annotator, labels 1..K (0 never used), in the ``.mat`` file's order.
    """
    image_id = str(image_id)
    if f"bsds_{image_id}" not in registry():
        raise ValueError(f"unknown BSDS image id {image_id!r}; known test ids: {', '.join(bsds_ids())}")
    image = load_image(f"bsds_{image_id}")
    label_maps = _label_maps(load(f"bsds_{image_id}_gt"))
    for labels in label_maps:
        if labels.shape != image.shape[:2]:
            raise ValueError(
                f"BSDS {image_id}: label map {labels.shape} does not match image {image.shape[:2]}"
            )
    return image, label_maps

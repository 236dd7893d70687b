"""Data for the experiments: registered photos and BSDS500 (hash-verified, never committed)
and a synthetic football scene with per-pixel ground truth.

See ``data/README.md`` in the repository for the registry, the ``GMM_DATA_MIRROR`` variable and the licences.
"""

from gmm.data.football import FOOTBALL_CLASSES, football_clip, football_frame
from gmm.data.registry import (
    DataIntegrityError,
    DataUnavailableError,
    RegistryEntry,
    bsds_ids,
    load,
    load_bsds,
    load_image,
    loaded_files,
    registry,
    sha256_of,
)

__all__ = [
    "FOOTBALL_CLASSES",
    "DataIntegrityError",
    "DataUnavailableError",
    "RegistryEntry",
    "bsds_ids",
    "football_clip",
    "football_frame",
    "load",
    "load_bsds",
    "load_image",
    "loaded_files",
    "registry",
    "sha256_of",
]

"""What a collection is made of, cut into batches that a worker reads on its own.

The client only *plans*: it lists files, indexes a video's packets (no decoding) and cuts the
work into small picklable batches. A worker turns a batch into frames, one at a time, so no
batch ever holds more than one decoded frame (a video is streamed, never loaded whole).

Sources accepted by :func:`plan`:

- an image file, a folder (its image files, sorted by name), a glob pattern (``'shots/*.jpg'``);
- a video file (by suffix, read with PyAV): cut at key frames into runs of about ``batch_size``
  frames, each decoded by one worker after a seek to its first key frame;
- a NumPy array (one image in memory);
- a Dask array of shape (H, W) or (H, W, C): one large image, one task per tile;
- any object with a ``frames()`` method yielding ``(name, image)`` pairs (one batch; ``name``
  also names its outputs);
- or a list or tuple of these.
"""

from __future__ import annotations

import glob
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".wmv",
                            ".flv", ".y4m"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".ppm",
                            ".pgm", ".pbm", ".pnm", ".jp2", ".tga"})
#: Errors that mean "this input is bad" (missing, not an image, undecodable): reported with the
#: input's name and skipped or raised by ``on_error``. Anything else (a full disk, a lost
#: network share) is re-raised so that Dask retries the task.
INPUT_ERRORS = (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
_SAFE_STEM = re.compile(r"[^A-Za-z0-9._-]+")


class Frame(NamedTuple):
    """One image of a batch, or the reason it could not be read.

    ``name`` names the input in messages (a path, ``video.mp4#12``); ``stem`` names its outputs;
    exactly one of ``image`` and ``error`` is None.
    """

    name: str
    stem: str | None
    image: np.ndarray | None
    error: str | None = None


@dataclass(frozen=True)
class ImageFiles:
    """A batch of image files, read one after another."""

    paths: tuple

    def frames(self):
        from gmm.image import load_image

        for path in self.paths:
            yield _attempt(str(path), Path(path).stem, load_image, path)


@dataclass(frozen=True)
class InMemory:
    """One image given as an array."""

    name: str
    image: np.ndarray

    def frames(self):
        yield Frame(self.name, self.name, self.image)


@dataclass(frozen=True)
class VideoRun:
    """Frames ``first, first + 1, ...`` of a video: those with ``start_pts <= pts < stop_pts``.

    ``start_pts`` is a key frame's timestamp (None: from the start of the file); ``stop_pts``
    None means to the end. ``n_frames`` is what the packet index promised (None: unknown).
    """

    path: str
    first: int
    start_pts: int | None
    stop_pts: int | None
    n_frames: int | None

    def frames(self):
        import av

        stem, name = Path(self.path).stem, f"{self.path} (frames from {self.first})"
        index = self.first
        try:
            with av.open(self.path) as container:
                stream = container.streams.video[0]
                stream.codec_context.thread_count = 1  # one core per Dask worker thread
                if self.start_pts is not None and self.first > 0:
                    container.seek(self.start_pts, stream=stream, backward=True, any_frame=False)
                for frame in container.decode(stream):
                    if self.start_pts is not None and frame.pts is not None and frame.pts < self.start_pts:
                        continue
                    if self.stop_pts is not None and frame.pts is not None and frame.pts >= self.stop_pts:
                        break
                    yield Frame(f"{self.path}#{index}", f"{stem}_{index:06d}", frame.to_ndarray(format="rgb24"))
                    index += 1
        except (av.error.FFmpegError, *INPUT_ERRORS) as error:
            yield Frame(name, None, None, reason(error))
            return
        if self.n_frames is not None and index - self.first != self.n_frames:
            yield Frame(name, None, None, f"decoded {index - self.first} frames where the packet index has "
                        f"{self.n_frames}")


@dataclass(frozen=True)
class Custom:
    """A user object with a ``frames()`` method yielding ``(name, image)``."""

    source: object

    def frames(self):
        label = type(self.source).__name__
        try:
            for name, image in self.source.frames():
                yield Frame(str(name), _SAFE_STEM.sub("_", str(name)), image)
        except INPUT_ERRORS as error:
            yield Frame(label, None, None, reason(error))


@dataclass(frozen=True)
class Tiles:
    """A Dask array holding one image; its blocks are the tiles (all channels in each)."""

    name: str
    array: object

    @property
    def n_tiles(self) -> int:
        return math.prod(len(c) for c in self.array.chunks[:2])


def reason(error: BaseException) -> str:
    """One line: the message's first line (prefixed by the type, unless a plain ValueError or OSError)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    plain = type(error) in (ValueError, OSError, FileNotFoundError, PermissionError, IsADirectoryError)
    return lines[0] if plain else f"{type(error).__name__}: {lines[0]}"


def _attempt(name, stem, read, *args) -> Frame:
    """The frame ``read(*args)`` returns, or the reason it failed on bad input."""
    try:
        return Frame(name, stem, read(*args))
    except INPUT_ERRORS as error:
        return Frame(name, None, None, reason(error))


def prepare(image, color_space: str, name: str) -> np.ndarray:
    """A frame as the uint8 array counted and labelled: grey (H, W) for 'grey', else RGB (H, W, 3).

    Raises
    ------
    ValueError
        The array is not an image (see :func:`gmm.image.as_image`), or it is grey and the
        colour space needs RGB (as :func:`gmm.segment` refuses).
    """
    from gmm.image import as_image, to_grey

    image = as_image(image, name=name)
    if color_space == "grey":
        return to_grey(image)
    if image.ndim == 2:
        raise ValueError(f"{name} is grey, so it can only be used with color_space='grey', not {color_space!r}")
    return image


# ------------------------------------------------------------------------------------- plan
MAX_BATCH = 32


def plan(sources, batch_size: int | None = None, n_workers: int = 1) -> list:
    """Cut sources into batches (ImageFiles, InMemory, VideoRun, Custom, Tiles), in source order.

    Parameters
    ----------
    sources : see the module docstring
    batch_size : int, optional
        Image files per batch, about that many frames per video run (runs are cut at key frames).
        Default: about four batches per worker, at most 32 frames each.
    n_workers : int, default=1
        Used only for the default ``batch_size``.

    Raises
    ------
    ValueError
        No sources, a folder with no image file, a pattern matching nothing, a bad batch size,
        or an unsupported source.
    """
    items = list(sources) if isinstance(sources, (list, tuple)) else [sources]
    if not items:
        raise ValueError("no sources given")
    leaves = []  # ('files', [path, ...]), ('video', path, packets) or ('batch', batch)
    for position, item in enumerate(items):
        if not isinstance(item, (str, os.PathLike)):
            leaves.append(("batch", _other_source(item, position)))
            continue
        for path in expand_path(item):
            if path.suffix.lower() in VIDEO_SUFFIXES:
                leaves.append(("video", path, video_packets(path)))
            elif leaves and leaves[-1][0] == "files":
                leaves[-1][1].append(str(path))
            else:
                leaves.append(("files", [str(path)]))
    if batch_size is None:
        total = sum(len(leaf[1]) if leaf[0] == "files" else len(leaf[2] or [None]) if leaf[0] == "video" else 1
                    for leaf in leaves)
        batch_size = max(1, min(MAX_BATCH, math.ceil(total / (4 * max(1, n_workers)))))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    batches = []
    for leaf in leaves:
        if leaf[0] == "files":
            paths = leaf[1]
            batches.extend(ImageFiles(tuple(paths[i:i + batch_size])) for i in range(0, len(paths), batch_size))
        elif leaf[0] == "video":
            batches.extend(video_runs(leaf[1], leaf[2], batch_size))
        else:
            batches.append(leaf[1])
    return batches


def _other_source(item, position):
    if type(item).__module__.split(".")[0] == "dask" and hasattr(item, "chunks"):
        return Tiles(f"array_{position}", _check_tiled(item))
    if isinstance(item, np.ndarray):
        return InMemory(f"array_{position}", item)
    if callable(getattr(item, "frames", None)):
        return Custom(item)
    raise ValueError(f"unsupported source {type(item).__name__}: expected a path, a folder, a glob pattern, "
                     "a video, a NumPy or Dask array, or an object with a frames() method")


def expand_path(item) -> list[Path]:
    """The files a path stands for: itself, a folder's image and video files, or a glob's matches."""
    path = Path(item)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
        if not found:
            raise ValueError(f"folder {path} holds no image or video file")
        return found
    if not path.exists() and glob.has_magic(str(item)):
        found = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
        if not found:
            raise ValueError(f"no file matches {item!r}")
        return found
    return [path]  # a missing file is reported, with its name, when a worker reads it


def _check_tiled(array):
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"a Dask array source must have shape (H, W) or (H, W, C), got {array.shape}")
    if array.ndim == 3 and len(array.chunks[2]) > 1:
        array = array.rechunk({2: -1})  # every tile needs all the channels of its pixels
    return array


def video_packets(path: Path):
    """``(pts, is_keyframe)`` of every video packet, sorted by time; None when unusable.

    Reads packets only, no decoding. None (no timestamps, or a file PyAV cannot open) makes
    the video one run read from the start, which reports any error when a worker reads it.
    """
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
    except (av.error.FFmpegError, IndexError, *INPUT_ERRORS):
        return None
    if not packets or any(pts is None for pts, _ in packets):
        return None
    return sorted(packets)


def video_runs(path: Path, packets, batch_size: int) -> list[VideoRun]:
    """Runs of about ``batch_size`` frames, each starting at a key frame (one run without an index)."""
    if packets is None:
        return [VideoRun(str(path), 0, None, None, None)]
    cuts = [0]
    for i, (_, key) in enumerate(packets):
        # Cut at the first key frame past three quarters of a batch: runs stay near batch_size
        # whatever the key-frame interval.
        if key and i - cuts[-1] >= max(1, (3 * batch_size) // 4):
            cuts.append(i)
    cuts.append(len(packets))
    pts = [p for p, _ in packets]
    return [VideoRun(str(path), a, pts[a] if a else None, pts[b] if b < len(pts) else None, b - a)
            for a, b in zip(cuts[:-1], cuts[1:])]

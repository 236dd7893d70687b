"""One Gaussian mixture for a whole collection, a video or a gigapixel image, on Dask.

EM on the merged colour counts of many images is EM on all their pixels: counts are integers,
so merging them is exact and independent of order, and EM then runs once on the distinct
colours. :func:`fit_collection` counts (map, one task per batch of frames or per tile), merges
(a tree of integer sums on the workers) and fits (on one worker); :func:`label_collection`
labels every frame with the fitted model, in the canonical component order of
:func:`gmm.segment`, so a label means the same in every frame.

Needs the ``scale`` extra (``dask[distributed]``; ``av`` for videos, ``zarr`` for Dask array
outputs). ``import gmm`` does not import this package or Dask.

Example::

    from gmm.scale import fit_collection, label_collection

    model = fit_collection("frames/*.png", 6, random_state=0)     # a LocalCluster for the call
    label_collection(model, "frames/*.png", out="labels/")       # labels/<stem>_labels.png
    model = fit_collection("match.mp4", 6, client="tcp://scheduler:8786")
"""

from gmm.scale.cluster import connect
from gmm.scale.counts import ColourCounts, merge_counts
from gmm.scale.fit import CollectionInputError, SkippedInputWarning, count_collection, fit_collection
from gmm.scale.label import label_collection

__all__ = [
    "CollectionInputError",
    "ColourCounts",
    "SkippedInputWarning",
    "connect",
    "count_collection",
    "fit_collection",
    "label_collection",
    "merge_counts",
]

"""Connected regions of a label map, with small regions merged into a neighbour."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage as ndi

from gmm.regions import connected_regions

LABELS = np.array([
    [0, 0, 1, 1],
    [0, 2, 1, 1],
    [0, 0, 1, 3],
    [4, 4, 4, 4],
])


def is_connected_partition(regions, connectivity=4):
    """Every region number names exactly one connected piece."""
    structure = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    return all(ndi.label(regions == r, structure)[1] == 1 for r in np.unique(regions))


def test_each_connected_piece_is_a_region_numbered_in_raster_order():
    labels = np.array([[0, 1, 0], [0, 1, 0], [1, 1, 0]])
    regions = connected_regions(labels)
    assert regions.dtype == np.int32
    assert np.array_equal(regions, [[1, 2, 3], [1, 2, 3], [2, 2, 3]])


def test_eight_connectivity_joins_diagonal_pieces():
    labels = np.array([[1, 0], [0, 1]])
    assert connected_regions(labels, connectivity=4).max() == 4
    assert np.array_equal(connected_regions(labels, connectivity=8), [[1, 2], [2, 1]])


def test_small_regions_merge_into_the_longest_shared_boundary():
    # Region of label 2 (1 pixel) touches label 0 on three sides and label 1 on one: it joins 0.
    # Label 3 (1 pixel) shares two edges with label 1 and one with label 4: it joins 1.
    regions = connected_regions(LABELS, min_size=2)
    assert np.array_equal(regions, [[1, 1, 2, 2], [1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3]])


def test_merging_repeats_until_every_region_is_large_enough():
    regions = connected_regions(LABELS, min_size=5)
    sizes = np.bincount(regions.ravel())[1:]
    assert sizes.min() >= 5 and is_connected_partition(regions)
    assert connected_regions(LABELS, min_size=100).max() == 1


def test_nearest_mean_merging_uses_the_features():
    labels = np.array([[0, 0, 0, 1, 2, 2, 2]])
    features = np.array([[0.0, 0.0, 0.0, 9.0, 10.0, 10.0, 10.0]])
    # By boundary the single pixel ties (one edge each) and goes to the lower region number ...
    assert np.array_equal(connected_regions(labels, 2), [[1, 1, 1, 1, 2, 2, 2]])
    # ... by colour it joins the region whose mean (10) is nearest to its own (9).
    assert np.array_equal(connected_regions(labels, 2, features=features), [[1, 1, 1, 2, 2, 2, 2]])


def test_scikit_image_reads_the_result_without_a_background():
    from skimage.measure import regionprops

    regions = connected_regions(LABELS, min_size=2)
    assert [p.area for p in regionprops(regions)] == [6, 6, 4]


@given(arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 3)),
       st.integers(1, 20), st.sampled_from([4, 8]))
def test_properties_on_random_label_maps(labels, min_size, connectivity):
    regions = connected_regions(labels, min_size, connectivity=connectivity)
    numbers = np.unique(regions)
    assert np.array_equal(numbers, np.arange(1, numbers.size + 1))
    assert is_connected_partition(regions, connectivity)
    sizes = np.bincount(regions.ravel())[1:]
    assert numbers.size == 1 or sizes.min() >= min_size
    # A region never splits a connected piece of one label when nothing is merged.
    if min_size == 1:
        for r in numbers:
            assert np.unique(labels[regions == r]).size == 1
    # Merging only joins pieces: each piece of the unmerged map lies inside one region.
    pieces = connected_regions(labels, connectivity=connectivity)
    for p in np.unique(pieces):
        assert np.unique(regions[pieces == p]).size == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(labels=np.zeros(5, int)), r"\(H, W\)"),
        (dict(labels=np.zeros((2, 2))), "integers"),
        (dict(labels=np.zeros((2, 2), int), min_size=0), "min_size"),
        (dict(labels=np.zeros((2, 2), int), connectivity=6), "connectivity"),
        (dict(labels=np.zeros((2, 2), int), features=np.zeros((3, 2))), "features"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        connected_regions(**kwargs)

"""Scores against ground truth: hand-computed small cases, invariances, brute force, input checks."""

from __future__ import annotations

import itertools
import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

from gmm import metrics
from gmm.metrics import (
    adjusted_rand_index,
    best_over_annotators,
    contingency_table,
    matched_accuracy,
    mean_over_annotators,
    per_annotator,
    probabilistic_rand_index,
    rand_index,
    variation_of_information,
    vi_split,
)

# The running example: 6 pixels, truth = two halves, labels = three pairs.
#
#   truth  0 0 0 1 1 1        contingency   label 0  1  2     row sums a = (3, 3)
#   labels 0 0 1 1 2 2        truth 0       2  1  0           col sums b = (2, 2, 2)
#                             truth 1       0  1  2
TRUTH = np.array([[0, 0, 0], [1, 1, 1]])
LABELS = np.array([[0, 0, 1], [1, 2, 2]])


def test_contingency_table_hand_case():
    np.testing.assert_array_equal(contingency_table(TRUTH, LABELS), [[2, 1, 0], [0, 1, 2]])


def test_rand_index_hand_case():
    # 15 pairs. Same segment in both: C(2,2) + C(2,2) = 2. Same in truth: 2 C(3,2) = 6.
    # Same in labels: 3 C(2,2) = 3. Different in both: 15 - 6 - 3 + 2 = 8.
    # RI = (2 + 8) / 15 = 2/3.
    assert rand_index(TRUTH, LABELS) == pytest.approx(2 / 3, abs=1e-15)


def test_adjusted_rand_index_hand_case():
    # index = 2, expected = 6 * 3 / 15 = 1.2, max = (6 + 3) / 2 = 4.5
    # ARI = (2 - 1.2) / (4.5 - 1.2) = 0.8 / 3.3 = 8/33.
    assert adjusted_rand_index(TRUTH, LABELS) == pytest.approx(8 / 33, abs=1e-15)


def test_variation_of_information_hand_case_nats_and_bits():
    # H(T) = ln 2, H(L) = ln 3, H(T, L) = -(2 (1/3) ln(1/3) + 2 (1/6) ln(1/6)) = ln 3 + (1/3) ln 2.
    # H(L|T) = H(T,L) - H(T) = ln 3 - (2/3) ln 2   (over-segmentation)
    # H(T|L) = H(T,L) - H(L) = (1/3) ln 2          (under-segmentation)
    # VI = ln 3 - (1/3) ln 2 nats = log2(3) - 1/3 bits.
    over, under = vi_split(TRUTH, LABELS)
    assert over == pytest.approx(math.log(3) - 2 / 3 * math.log(2), abs=1e-12)
    assert under == pytest.approx(math.log(2) / 3, abs=1e-12)
    assert variation_of_information(TRUTH, LABELS) == pytest.approx(
        math.log(3) - math.log(2) / 3, abs=1e-12
    )
    assert variation_of_information(TRUTH, LABELS, unit="bits") == pytest.approx(
        math.log2(3) - 1 / 3, abs=1e-12
    )


def test_variation_of_information_extremes():
    # One segment against all-singletons on 4 pixels: H(T) = 0, H(L) = ln 4, VI = ln 4.
    one = np.zeros(4, dtype=int)
    singletons = np.arange(4)
    assert variation_of_information(one, singletons) == pytest.approx(math.log(4), abs=1e-12)
    assert vi_split(one, singletons) == pytest.approx((math.log(4), 0.0), abs=1e-12)
    assert variation_of_information(TRUTH, TRUTH) == pytest.approx(0.0, abs=1e-15)


def test_variation_of_information_rejects_unknown_unit():
    with pytest.raises(ValueError, match="unit"):
        variation_of_information(TRUTH, LABELS, unit="dits")


def test_matched_accuracy_hand_case():
    # Best matching: label 0 -> truth 0 (2 pixels), label 2 -> truth 1 (2 pixels); label 1 is
    # surplus, its 2 pixels are errors: 4/6.
    assert matched_accuracy(TRUTH, LABELS) == pytest.approx(2 / 3, abs=1e-15)


def test_matched_accuracy_fewer_predicted_labels():
    # truth   0 0 1 1 2 2     table  label 0  1
    # labels  0 0 0 1 1 1     truth 0   2  0
    #                         truth 1   1  1
    #                         truth 2   0  2     best: (0,0) + (2,1) = 4 -> 4/6
    truth = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert matched_accuracy(truth, labels) == pytest.approx(2 / 3, abs=1e-15)


def test_matched_accuracy_is_not_greedy():
    # Greedy would take the largest cell (truth 0, label 0: 3) and then only (1, 1): 3 + 0 = 3.
    # Optimal: (0, 1) + (1, 0) = 2 + 2 = 4 of 7.
    #   table   label 0  1
    #   truth 0     3  2
    #   truth 1     2  0
    truth = np.array([0, 0, 0, 0, 0, 1, 1])
    labels = np.array([0, 0, 0, 1, 1, 0, 0])
    assert matched_accuracy(truth, labels) == pytest.approx(4 / 7, abs=1e-15)


@pytest.mark.parametrize(
    "score", [rand_index, adjusted_rand_index, variation_of_information, matched_accuracy]
)
def test_scores_ignore_label_values(score):
    # Renaming labels (including negative and large values, and the dtype) changes nothing.
    renamed_truth = np.where(TRUTH == 0, -7, 1000).astype(np.int16)
    renamed_labels = np.array([5, 3, -1], dtype=np.int64)[LABELS]
    assert score(renamed_truth, renamed_labels) == pytest.approx(score(TRUTH, LABELS), abs=1e-12)


@pytest.mark.parametrize("score,perfect", [(rand_index, 1.0), (adjusted_rand_index, 1.0),
                                           (matched_accuracy, 1.0), (variation_of_information, 0.0)])
def test_identical_partitions_score_perfectly(score, perfect):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=(20, 30))
    assert score(truth, 3 - truth) == pytest.approx(perfect, abs=1e-12)


def _brute_force_pri(annotations, labels):
    # The definition: average over pixel pairs of c p + (1 - c)(1 - p).
    labels = np.ravel(labels)
    flat = [np.ravel(a) for a in annotations]
    total = 0.0
    pairs = list(itertools.combinations(range(labels.size), 2))
    for i, j in pairs:
        c = float(labels[i] == labels[j])
        p = np.mean([a[i] == a[j] for a in flat])
        total += c * p + (1 - c) * (1 - p)
    return total / len(pairs)


def test_probabilistic_rand_index_hand_case():
    # Annotator 1 = TRUTH (RI 2/3), annotator 2 = LABELS itself (RI 1): PRI = (2/3 + 1) / 2 = 5/6.
    assert probabilistic_rand_index([TRUTH, LABELS], LABELS) == pytest.approx(5 / 6, abs=1e-15)


def test_probabilistic_rand_index_matches_pairwise_definition():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=(5, 6))
    annotations = [rng.integers(0, k, size=(5, 6)) for k in (2, 3, 4)]
    assert probabilistic_rand_index(annotations, labels) == pytest.approx(
        _brute_force_pri(annotations, labels), abs=1e-12
    )


def test_annotator_helpers():
    # Against [TRUTH, LABELS]: RI is (2/3, 1), VI is (ln 3 - ln 2 / 3, 0).
    annotations = [TRUTH, LABELS]
    np.testing.assert_allclose(per_annotator(rand_index, annotations, LABELS), [2 / 3, 1.0])
    assert mean_over_annotators(rand_index, annotations, LABELS) == pytest.approx(5 / 6)
    assert best_over_annotators(rand_index, annotations, LABELS) == pytest.approx(1.0)
    # VI: lower is better, so the best is the minimum.
    assert best_over_annotators(variation_of_information, annotations, LABELS) == pytest.approx(
        0.0, abs=1e-12
    )
    vi = math.log(3) - math.log(2) / 3
    assert mean_over_annotators(variation_of_information, annotations, LABELS) == pytest.approx(
        vi / 2
    )


def test_best_over_annotators_needs_direction_for_unknown_metric():
    def custom(truth, labels):
        return float(np.mean(truth == labels))

    with pytest.raises(ValueError, match="greater_is_better"):
        best_over_annotators(custom, [TRUTH], LABELS)
    assert best_over_annotators(custom, [TRUTH, LABELS], LABELS, greater_is_better=True) == 1.0


def test_annotations_must_be_a_non_empty_sequence_of_maps():
    with pytest.raises(ValueError, match="annotations is empty"):
        probabilistic_rand_index([], LABELS)
    with pytest.raises(ValueError, match=r"one array of shape \(2, 3\); pass \[truth\]"):
        probabilistic_rand_index(TRUTH, LABELS)
    # A stacked array of maps (n_annotators, H, W) is a sequence of maps.
    assert probabilistic_rand_index(np.stack([TRUTH, LABELS]), LABELS) == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    "score",
    [rand_index, adjusted_rand_index, variation_of_information, matched_accuracy, contingency_table],
)
def test_shape_mismatch_names_both_shapes(score):
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3, 2\)"):
        score(TRUTH, LABELS.reshape(3, 2))


@pytest.mark.parametrize(
    "score", [rand_index, adjusted_rand_index, variation_of_information, matched_accuracy]
)
def test_non_integer_labels_are_rejected(score):
    with pytest.raises(ValueError, match="integer labels.*float64"):
        score(TRUTH, LABELS.astype(float))
    with pytest.raises(ValueError, match="truth must hold integer labels"):
        score(TRUTH + 0.5, LABELS)


def test_empty_maps_are_rejected():
    with pytest.raises(ValueError, match="empty"):
        rand_index(np.zeros((0, 3), int), np.zeros((0, 3), int))


def test_annotator_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="same shape"):
        probabilistic_rand_index([TRUTH, TRUTH.T], LABELS)


def test_public_names():
    for name in metrics.__all__:
        assert callable(getattr(metrics, name))


label_maps = hnp.arrays(np.int64, (3, 4), elements=st.integers(-2, 3))


@settings(max_examples=40, deadline=None)
@given(a=label_maps, b=label_maps, c=label_maps)
def test_properties_on_random_maps(a, b, c):
    # VI is a metric on partitions: symmetric, triangle inequality.
    assert variation_of_information(a, b) == pytest.approx(variation_of_information(b, a), abs=1e-12)
    assert variation_of_information(a, c) <= (
        variation_of_information(a, b) + variation_of_information(b, c) + 1e-12
    )
    assert 0.0 <= rand_index(a, b) <= 1.0
    assert rand_index(a, b) == pytest.approx(rand_index(b, a), abs=1e-15)
    # Matching at least keeps the largest true segment's overlap with one label.
    table = contingency_table(a, b)
    assert table.max() / a.size - 1e-12 <= matched_accuracy(a, b) <= 1.0
    assert probabilistic_rand_index([a, c], b) == pytest.approx(_brute_force_pri([a, c], b), abs=1e-12)

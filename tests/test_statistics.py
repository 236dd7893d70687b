"""Notebook 10's helpers: paired intervals, per-object scores, K from a histogram or BIC, the tables."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.companion import statistics as st


# ------------------------------------------------------------------------- paired intervals
@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_the_interval_covers_a_known_mean_about_as_often_as_promised(method):
    # Paired differences with true mean 0.3: over 200 seeded samples of 20 pairs, a 95% interval
    # should contain 0.3 roughly 95% of the time (the bootstrap percentile interval a little less).
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        base = rng.normal(0.5, 0.2, 20)  # the frames' own difficulty, shared by both methods
        a = base + 0.3 + rng.normal(0, 0.1, 20)
        b = base + rng.normal(0, 0.1, 20)
        interval = st.paired_interval(a, b, method=method, n_boot=2000, seed=trial)
        covered += interval.low <= 0.3 <= interval.high
    assert 0.88 <= covered / 200 <= 0.99


def test_the_t_interval_matches_the_textbook_formula_and_pairing_matters():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([0.5, 1.4, 2.6, 3.3])
    interval = st.paired_interval(a, b, level=0.95)
    d = a - b
    half = 3.182446305284263 * d.std(ddof=1) / 2  # t_{0.975, 3} * sd / sqrt(4)
    assert interval.mean == pytest.approx(d.mean())
    assert (interval.low, interval.high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert interval.excludes_zero()  # unpaired, the spread of a and b themselves would swamp 0.55


def test_the_bootstrap_is_reproducible_from_its_seed():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=20), rng.normal(size=20)
    first = st.paired_interval(a, b, method="bootstrap", seed=3)
    assert st.paired_interval(a, b, method="bootstrap", seed=3) == first
    assert st.paired_interval(a, b, method="bootstrap", seed=4) != first


@pytest.mark.parametrize("bad", [dict(a=[1.0], b=[2.0]), dict(a=[1.0, 2.0], b=[1.0]), dict(a=[1, 2], b=[1, 2], level=1.5),
                                 dict(a=[1, 2], b=[1, 2], method="normal")])
def test_bad_interval_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        st.paired_interval(**bad)


def test_verdicts_follow_the_side_of_zero():
    def interval(low, high):
        return st.PairedInterval((low + high) / 2, low, high, 20, 0.95, "t")

    assert st.verdict_from_interval(interval(0.1, 0.3)) == "reproduced"
    assert st.verdict_from_interval(interval(-0.3, -0.1)) == "not reproduced"
    assert st.verdict_from_interval(interval(-0.1, 0.3)) == "open"
    assert st.verdict_from_interval(interval(-0.3, -0.1), claimed_sign=-1) == "reproduced"
    assert all(v in st.VERDICTS for v in ("reproduced", "not reproduced", "open"))


# ------------------------------------------------------------------------ per-object scores
def test_object_iou_on_hand_cases():
    truth = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 2]])
    predicted = np.array([[0, 1, 1, 1],
                          [0, 0, 0, 2]])
    # class 1: truth {(0,2),(0,3),(1,2)}, predicted {(0,1),(0,2),(0,3)}: 2 shared of 4 -> 0.5
    assert st.object_iou(truth, predicted, [1]) == pytest.approx(0.5)
    assert st.object_iou(truth, predicted, [2]) == 1.0
    # the union of classes 1 and 2 is one object: truth 4 pixels, predicted 4, 3 shared, union 5
    assert st.object_iou(truth, predicted, [1, 2]) == pytest.approx(3 / 5)
    assert np.isnan(st.object_iou(truth, predicted, [7]))


def test_components_are_matched_one_to_one_and_surplus_ones_stay_unmatched():
    truth = np.array([0, 0, 0, 0, 1, 1, 2])
    labels = np.array([5, 5, 3, 3, 4, 4, 3])  # two components (5, 3) share class 0
    mapping = st.matched_classes(truth, labels, n_classes=3)
    assert mapping[4] == 1
    assert sorted(m for m in mapping[[3, 5]]) == [0, 2]  # one of them gets 0, the other what is left
    assert np.all(mapping[:3] == -1)  # labels 0..2 do not occur: no class
    predicted = st.predicted_classes(truth, labels, 3)
    assert predicted.shape == truth.shape and set(np.unique(predicted)) <= {0, 1, 2}


def test_boundary_f_measure_on_hand_cases():
    square = np.zeros((20, 20), dtype=bool)
    square[5:15, 5:15] = True
    assert st.boundary_f_measure(square, square) == 1.0
    shifted = np.roll(square, 1, axis=1)
    assert st.boundary_f_measure(square, shifted, tolerance=1) == 1.0  # within one pixel everywhere
    assert st.boundary_f_measure(square, shifted, tolerance=0) < 1.0
    far = np.zeros_like(square)
    far[0:3, 17:20] = True
    assert st.boundary_f_measure(square, far, tolerance=2) == 0.0
    assert st.boundary_f_measure(square, np.zeros_like(square)) == 0.0
    assert st.boundary_f_measure(np.zeros_like(square), np.zeros_like(square)) == 1.0


def test_score_segmentation_is_perfect_on_the_truth_and_invariant_to_renumbering():
    from gmm.data import FOOTBALL_CLASSES, football_frame
    from gmm.data.football import TEAM_A, TEAM_B

    _, truth = football_frame(0, size=(90, 160))
    objects = {"players": [TEAM_A, TEAM_B]}
    perfect = st.score_segmentation(truth, truth, len(FOOTBALL_CLASSES), objects)
    assert perfect["ari"] == pytest.approx(1.0) and perfect["accuracy"] == 1.0
    assert perfect["vi_bits"] == pytest.approx(0.0, abs=1e-12)
    assert perfect["iou_players"] == 1.0 and perfect["bf_players"] == 1.0
    renumbered = (truth + 3) % len(FOOTBALL_CLASSES)
    assert st.score_segmentation(truth, renumbered, len(FOOTBALL_CLASSES), objects) == pytest.approx(perfect)
    merged = np.where(np.isin(truth, [TEAM_A, TEAM_B]), 0, truth)  # players merged into the turf
    assert st.score_segmentation(truth, merged, len(FOOTBALL_CLASSES), objects)["iou_players"] < 1.0


# ------------------------------------------------------------------------------- choosing K
def _three_mode_histogram(floor=0.0):
    grey = np.arange(256)
    counts = sum(h * np.exp(-0.5 * ((grey - m) / 6.0) ** 2) for m, h in [(40, 5000), (120, 800), (220, 60)])
    return np.rint(counts + floor)


def test_the_histogram_rule_finds_three_modes_of_very_different_heights():
    peaks = st.histogram_peaks(_three_mode_histogram(), smoothing=2.0, prominence=0.5)
    assert len(peaks) == 3
    assert np.all(np.abs(peaks - [40, 120, 220]) <= 2)


def test_the_histogram_rule_ignores_bin_noise_but_a_high_prominence_ignores_small_modes():
    rng = np.random.default_rng(0)
    noisy = rng.poisson(_three_mode_histogram(floor=20))  # Poisson noise on every bin
    assert len(st.histogram_peaks(noisy, smoothing=2.0, prominence=0.5)) == 3
    assert len(st.histogram_peaks(noisy, smoothing=0.0, prominence=0.05)) > 3  # unsmoothed: noise peaks
    assert len(st.histogram_peaks(noisy, smoothing=2.0, prominence=4.0)) < 3


def test_k_from_histogram_reads_an_image():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(m, 6, n) for m, n in [(40, 20000), (120, 4000), (220, 500)]])
    grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    image = np.repeat(rng.permutation(grey)[:, np.newaxis], 3, axis=1).reshape(-1, 245, 3)
    assert st.k_from_histogram(image, "grey", 2.0, 0.5) == 3
    assert st.k_from_histogram(image, "rgb", 2.0, 0.5) == 3
    with pytest.raises(ValueError):
        st.k_from_histogram(image, "lab", 2.0, 0.5)


def test_bic_prefers_the_true_number_of_well_separated_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[30, 30, 30], [200, 40, 40], [40, 200, 60]])
    pixels = np.concatenate([rng.normal(c, 8, (3000, 3)) for c in centres])
    image = np.clip(np.rint(pixels), 0, 255).astype(np.uint8).reshape(90, 100, 3)
    bics = st.bic_curve(image, "rgb", [1, 2, 3], random_state=0)
    assert bics.shape == (3,) and int(np.argmin(bics)) == 2


# ------------------------------------------------------------------------------ the tables
BENCH = {
    "meta": {"machine": "x86_64", "cpus": 2, "python": "3.11.7", "numpy": "2.4.6", "scikit-learn": "1.9.1"},
    "rows": [
        {"case": "fox", "colour": "rgb", "k": 3, "pixels": 427200, "distinct_values": 51194,
         "gmm": {"seconds": 0.0759}, "sklearn": {"seconds": 3.1445}, "speedup": 41.39},
        {"case": "fox grey", "colour": "grey", "k": 3, "pixels": 427200, "distinct_values": 246,
         "gmm": {"seconds": 0.00454}, "sklearn": {"seconds": 0.6715}, "speedup": 147.8},
        {"case": "fox 3840x2160", "colour": "rgb", "k": 4, "pixels": 8294400, "distinct_values": 379360,
         "gmm": {"seconds": 1.0049}, "sklearn": {"seconds": 90.438}, "speedup": 90.0},
    ],
}


def test_timing_rows_and_numbers_come_from_the_benchmark():
    rows = st.timing_rows(BENCH)
    assert [r["key"] for r in rows] == ["fox_rgb_k3", "fox_grey_k3", "fox_3840x2160_rgb_k4"]
    numbers = st.timing_numbers(rows)
    assert numbers["bench_fox_rgb_k3_speedup"] == "41"
    assert numbers["bench_fox_rgb_k3_gmm_s"] == "0.076"
    assert numbers["bench_fox_rgb_k3_sklearn_s"] == "3.1"
    assert numbers["bench_fox_3840x2160_rgb_k4_sklearn_s"] == "90"
    assert numbers["bench_fox_grey_k3_gmm_s"] == "0.0045"
    assert numbers["bench_fox_3840x2160_rgb_k4_pixels"] == "8.29"
    assert numbers["bench_fox_grey_k3_distinct"] == 246
    assert (numbers["bench_min_speedup"], numbers["bench_max_speedup"], numbers["bench_n_cases"]) == ("41", "148", 3)


def test_timing_rows_refuse_ambiguous_cases_and_the_hardware_is_named():
    twice = {"meta": BENCH["meta"], "rows": [BENCH["rows"][0], BENCH["rows"][0]]}
    with pytest.raises(ValueError, match="distinct"):
        st.timing_rows(twice)
    summary = st.hardware_summary(BENCH["meta"])
    assert summary == "x86_64, 2 CPUs, python 3.11.7, numpy 2.4.6, scikit-learn 1.9.1"
    assert st.hardware_summary({"processor": "Xeon", "cpus": 16}).startswith("Xeon, 16 CPUs")

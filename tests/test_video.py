"""gmm.video: consistent labels across frames, the predict-only path, warm starts, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from gmm.data import football_clip
from gmm.distinct import fit_image
from gmm.image import to_features, to_grey
from gmm.labels import canonical_order, label_permutation, relabel_model
from gmm.video import ClipScores, LabelTable, VideoSegmenter, label_flicker, segment_video

COLOURS = np.array([[40, 120, 40], [225, 225, 220], [170, 30, 45]], dtype=float)  # turf, paint, jersey


def make_clip(n_frames=6, shape=(40, 56), seed=0):
    """A moving stripe and square on a background, with noise: frames (T, H, W, 3) uint8 and truths."""
    rng = np.random.default_rng(seed)
    frames, truths = [], []
    for t in range(n_frames):
        truth = np.zeros(shape, dtype=np.uint8)
        truth[:, 10 + 2 * t: 16 + 2 * t] = 1
        truth[5 + t: 17 + t, 30 + t: 42 + t] = 2
        noisy = COLOURS[truth] + rng.normal(0.0, 6.0, shape + (3,))
        frames.append(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))
        truths.append(truth)
    return np.stack(frames), np.stack(truths)


@pytest.fixture(scope="module")
def clip():
    return make_clip()


MODE_OPTIONS = [dict(mode="fixed"), dict(mode="fixed", lookup="distinct"), dict(mode="warm"),
                dict(mode="independent"), dict(mode="independent", align="previous")]


# ------------------------------------------------------------------------------ consistency
@pytest.mark.parametrize("options", MODE_OPTIONS, ids=lambda o: "-".join(o.values()))
def test_every_class_keeps_its_label_in_every_frame(clip, options):
    frames, truths = clip
    labels = list(segment_video(frames, 3, **options))
    assert len(labels) == len(frames) and all(lab.shape == frames.shape[1:3] for lab in labels)
    # Canonical order numbers the components by luminance: jersey (0), turf (1), paint (2), and
    # label_permutation maps each label to its class.
    for truth, lab in zip(truths, labels):
        assert lab.dtype == np.uint8
        np.testing.assert_array_equal(label_permutation(truth, lab, 3), [2, 0, 1])
    scores = ClipScores(3, 3)
    for truth, lab in zip(truths, labels):
        scores.add(truth, lab)
    assert scores.clip_accuracy == pytest.approx(np.mean(scores.accuracy)) and scores.clip_accuracy > 0.99


@pytest.mark.parametrize("color_space", ["rgb", "lab", "hsv", "grey"])
@pytest.mark.parametrize("lookup", ["table", "distinct"])
def test_fixed_mode_is_model_predict_frame_by_frame(clip, color_space, lookup):
    frames, _ = clip
    segmenter = VideoSegmenter(4, mode="fixed", color_space=color_space, lookup=lookup)
    models = []
    for frame in frames:
        labels = segmenter.update(frame)
        models.append(segmenter.model_)
        assert (segmenter.n_iter_ > 0) == (segmenter.n_frames_ == 1)  # EM on the first frame only
        expected = segmenter.model_.predict(to_features(frame.reshape(-1, 3), color_space))
        np.testing.assert_array_equal(labels.ravel(), expected)
    assert all(model is models[0] for model in models)


def test_fixed_mode_fits_once_on_the_merged_colours_of_the_first_frames(clip):
    frames, _ = clip
    segmenter = VideoSegmenter(3, mode="fixed", fit_frames=3)
    labels = list(segment_video(frames, 3, mode="fixed", fit_frames=3))
    segmenter.fit(frames[:3])
    reference = fit_image(np.concatenate(frames[:3]), 3, random_state=0, transform=lambda v: v / 255.0).model
    reference = relabel_model(reference, canonical_order(reference))
    np.testing.assert_array_equal(segmenter.model_.means_, reference.means_)
    for frame, lab in zip(frames, labels):
        np.testing.assert_array_equal(lab.ravel(), segmenter.model_.predict(frame.reshape(-1, 3) / 255.0))


def test_grey_frames_use_a_table_of_256_levels(clip):
    frames, _ = clip
    grey = [to_grey(frame) for frame in frames]
    segmenter = VideoSegmenter(3, mode="fixed", color_space="grey")
    for frame in grey:
        labels = segmenter.update(frame)
        np.testing.assert_array_equal(labels.ravel(), segmenter.model_.predict(frame.reshape(-1, 1) / 255.0))
    assert segmenter._table.table.shape == (256,)


def test_label_table_predicts_each_colour_once():
    class Counting:
        means_ = np.zeros((2, 3))
        seen = 0

        def predict(self, features):
            self.seen += len(features)
            return (features[:, 0] > 0.5).astype(int)

    model = Counting()
    table = LabelTable(model, "rgb", 3)
    frame = np.array([[[0, 0, 0], [255, 0, 0]], [[0, 0, 0], [255, 0, 0]]], dtype=np.uint8)
    np.testing.assert_array_equal(table.labels(frame), [[0, 1], [0, 1]])
    np.testing.assert_array_equal(table.labels(frame[::-1]), [[0, 1], [0, 1]])
    assert model.seen == 2  # two colours, predicted on the first frame only


# -------------------------------------------------------------------------------- warm start
def test_warm_start_from_the_previous_optimum_converges_in_few_iterations():
    frames, _ = football_clip(0, 5, size=(90, 160))
    warm, scratch = VideoSegmenter(5, mode="warm"), VideoSegmenter(5, mode="independent")
    warm_iter, scratch_iter = [], []
    for frame in frames:
        warm.update(frame)
        scratch.update(frame)
        warm_iter.append(warm.n_iter_)
        scratch_iter.append(scratch.n_iter_)
    assert warm_iter[0] == scratch_iter[0]  # the first frame is fitted from scratch in both
    assert 2 * max(warm_iter[1:]) < min(scratch_iter[1:])
    # The same frame again: EM starts at its fixed point and stops after two iterations.
    warm.update(frames[-1])
    assert warm.n_iter_ == 2


def test_warm_mode_keeps_the_first_frames_numbering_when_luminances_cross():
    # Two classes whose brightness order swaps halfway: canonical order per frame would swap
    # their labels, the warm start follows each component instead.
    shape, rng, frames, truths = (30, 40), np.random.default_rng(1), [], []
    for t in range(8):
        truth = np.zeros(shape, dtype=np.uint8)
        truth[:, 20:] = 1
        colours = np.array([[100 + 8 * t, 40, 40], [40, 40 + 16 * t, 120]], dtype=float)
        frames.append(np.clip(np.rint(colours[truth] + rng.normal(0, 3, shape + (3,))), 0, 255).astype(np.uint8))
        truths.append(truth)
    warm = ClipScores(2, 2)
    canonical = ClipScores(2, 2)
    for frame, truth, w, c in zip(frames, truths, segment_video(frames, 2, mode="warm"),
                                  segment_video(frames, 2, mode="independent")):
        warm.add(truth, w)
        canonical.add(truth, c)
    assert min(warm.accuracy) == 1.0 and warm.clip_accuracy == 1.0 and max(warm.flicker) == 0.0
    assert min(canonical.accuracy) == 1.0 and canonical.clip_accuracy < 0.9 and max(canonical.flicker) == 1.0


# ------------------------------------------------------------------------------ determinism
@pytest.mark.parametrize("options", MODE_OPTIONS, ids=lambda o: "-".join(o.values()))
def test_same_seed_same_labels_bit_for_bit(options):
    frames, _ = make_clip(4, seed=3)
    first = list(segment_video(frames, 4, random_state=7, **options))
    second = list(segment_video(iter(list(frames)), 4, random_state=7, **options))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_frames_are_read_one_at_a_time(clip):
    frames, _ = clip
    drawn = []

    def stream():
        for frame in frames:
            drawn.append(1)
            yield frame

    labels = segment_video(stream(), 3, mode="warm")
    for n, _ in enumerate(labels, start=1):
        assert len(drawn) == n


# -------------------------------------------------------------------------------------- scores
def test_flicker_counts_changes_where_the_truth_is_steady():
    previous, labels = np.array([[0, 0], [1, 1]]), np.array([[0, 1], [1, 0]])
    assert label_flicker(previous, labels) == 0.5
    truth_before, truth_after = np.array([[0, 0], [1, 1]]), np.array([[0, 1], [1, 1]])
    assert label_flicker(previous, labels, truth_before, truth_after) == pytest.approx(1 / 3)
    assert np.isnan(label_flicker(previous, labels, truth_before, 1 - truth_before))


def test_clip_accuracy_pays_for_labels_that_change_meaning():
    truth = np.array([[0, 0, 1, 1]])
    scores = ClipScores(2, 2)
    scores.add(truth, truth)
    scores.add(truth, 1 - truth)
    assert scores.accuracy == [1.0, 1.0] and scores.clip_accuracy == 0.5 and scores.flicker == [1.0]


def test_the_clip_matching_gives_surplus_labels_colours_of_their_own():
    truth = np.array([[0, 0, 1, 1, 1, 1]])
    scores = ClipScores(2, 4)
    scores.add(truth, np.array([[3, 3, 0, 0, 2, 1]]))
    np.testing.assert_array_equal(scores.class_of_label(), [1, 2, 3, 0])
    assert scores.clip_accuracy == pytest.approx(4 / 6)


# ----------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("frame, message", [
    (np.zeros((8, 8, 3), dtype=np.float64), "uint8"),
    (np.zeros((8, 8, 4), dtype=np.uint8), r"\(H, W, 3\)"),
    (np.zeros((8, 8), dtype=np.uint8), r"\(H, W, 3\)"),
    (np.zeros((0, 8, 3), dtype=np.uint8), "non-empty"),
    ("frame.png", "uint8"),
])
def test_a_bad_frame_is_one_clear_error(clip, frame, message):
    frames, _ = clip
    with pytest.raises(ValueError, match=message):
        list(segment_video([frames[0], frame], 3))


@pytest.mark.parametrize("mode", ["fixed", "warm", "independent"])
def test_frames_of_different_sizes_are_one_clear_error(clip, mode):
    frames, _ = clip
    with pytest.raises(ValueError, match=r"frame 2 is 20x56 .* first frame is 40x56"):
        list(segment_video([frames[0], frames[1], frames[2][:20]], 3, mode=mode))


@pytest.mark.parametrize("frames", [[], iter([]), np.zeros((0, 8, 8, 3), dtype=np.uint8)])
def test_an_empty_video_is_one_clear_error(frames):
    with pytest.raises(ValueError, match="frames is empty"):
        list(segment_video(frames, 3))


@pytest.mark.parametrize("arguments, message", [
    (dict(n_components=0), "n_components"),
    (dict(n_components=2.5), "n_components"),
    (dict(mode="fast"), "mode must be one of"),
    (dict(align="best"), "align must be one of"),
    (dict(lookup="cache"), "lookup must be one of"),
    (dict(color_space="xyz"), "color_space"),
    (dict(fit_frames=0), "fit_frames"),
    (dict(warm_start=True), "warm_start"),
    (dict(frames=5), "iterable"),
    (dict(frames=np.zeros((8, 8), dtype=np.uint8)), "iterable of frames"),
])
def test_bad_arguments_are_one_clear_error_when_called(clip, arguments, message):
    arguments = {"frames": clip[0], "n_components": 3, **arguments}
    with pytest.raises(ValueError, match=message):
        segment_video(**arguments)  # raised at the call, before any frame is read


def test_too_few_colours_for_the_components_is_one_clear_error():
    flat = np.full((8, 8, 3), 100, dtype=np.uint8)
    with pytest.raises(ValueError, match="fewer than n_components"):
        list(segment_video([flat], 3))

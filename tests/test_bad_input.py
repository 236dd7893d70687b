"""Bad input gives one clear ValueError naming the problem; degenerate fits warn, never NaN."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import sklearn.mixture
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import gmm

GM = gmm.GaussianMixture


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(50, 3))


def with_value(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


# ------------------------------------------------------------------------------- data
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X: with_value(X, 3, 1, np.nan), "Input X contains NaN"),
        (lambda X: with_value(X, 3, 1, np.inf), "Input X contains infinity"),
        (lambda X: with_value(X, 0, 0, -np.inf), "Input X contains infinity"),
        (lambda X: X[:, 0], "Expected 2D array, got 1D array"),
        (lambda X: X.reshape(5, 10, 3), "Found array with dim 3"),
        (lambda X: np.array([["a", "b"], ["c", "d"], ["e", "f"]]), "could not convert string to float"),
        (lambda X: np.array([[1, "b"], [2, "d"], [3, "f"]], dtype=object), "could not convert string to float"),
        (lambda X: X + 1j, "Complex data not supported"),
        (lambda X: X[:0], "Found array with 0 sample"),
        (lambda X: X[:1], "Found array with 1 sample"),
    ],
    ids=["nan", "inf", "-inf", "1d", "3d", "strings", "object-strings", "complex", "empty", "one-sample"],
)
def test_bad_data(X, make, match):
    with pytest.raises(ValueError, match=match):
        GM(2).fit(make(X))


def test_fewer_samples_than_components(X):
    with pytest.raises(ValueError, match="Expected n_samples >= n_components but got n_components = 5, n_samples = 3"):
        GM(5).fit(X[:3])


def test_fewer_distinct_points_than_components_fits_as_in_sklearn():
    """Refused before; scikit-learn fits (k-means warns), and the surplus component gets weight 0."""
    X = np.tile([[0.0, 1.0], [2.0, 2.0]], (5000, 1))
    with pytest.warns(ConvergenceWarning, match="Number of distinct clusters"):
        with pytest.warns(gmm.ComponentCollapseWarning, match=r"Component\(s\) \d collapsed"):
            model = GM(3, random_state=0).fit(X)
    assert np.sort(model.weights_)[0] < 1e-12 and np.all(np.isfinite(model.predict_proba(X)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # two spikes of 5000 samples each: point masses, no collapse
        model = GM(2, random_state=0).fit(X)
    assert model.converged_ and model.collapsed_components_.size == 0


def test_zero_weights_do_not_count_as_samples(X):
    weights = np.zeros(50)
    weights[:2] = 1.0
    with pytest.raises(ValueError, match=r"n_samples = 2 \(rows with positive weight\)"):
        GM(3).fit(X, sample_weight=weights)


# ---------------------------------------------------------------------------- weights
@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(50), "negative values"),
        (np.r_[np.ones(49), -1e-9], "negative values"),
        (np.zeros(50), "zero everywhere"),
        (np.r_[np.ones(49), np.nan], "NaN or infinity"),
        (np.r_[np.ones(49), np.inf], "NaN or infinity"),
        (np.ones(49), r"shape \(50,\) to match X, got \(49,\)"),
        (np.ones((50, 1)), r"shape \(50,\) to match X, got \(50, 1\)"),
        (np.array(["a"] * 50), "must be numeric"),
    ],
    ids=["negative", "one-negative", "all-zero", "nan", "inf", "short", "2d", "strings"],
)
def test_bad_sample_weight(X, weights, match):
    with pytest.raises(ValueError, match=match):
        GM(2).fit(X, sample_weight=weights)
    model = GM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match=match):
        model.score(X, sample_weight=weights)


# ------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "params",
    [
        dict(n_components=0), dict(n_components=2.0), dict(n_components=True), dict(covariance_type="ful"),
        dict(init_params="kmean"), dict(tol=-1.0), dict(tol=np.nan), dict(reg_covar=np.nan), dict(n_init=0),
        dict(max_iter=-1), dict(warm_start="yes"), dict(verbose="loud"), dict(verbose=2, verbose_interval=0),
        dict(random_state="seed"), dict(weights_init="equal"),
        dict(precisions_init=np.ones((2, 3))), dict(covariance_type="tied", precisions_init=np.ones((2, 3, 3))),
        dict(covariance_type="diag", precisions_init=np.ones(2)),
        dict(covariance_type="spherical", precisions_init=np.ones((2, 3))),
        dict(precisions_init=np.stack([np.eye(3), -np.eye(3)])),
        dict(precisions_init=np.stack([np.eye(3), np.triu(np.ones((3, 3)))])),
        dict(covariance_type="diag", precisions_init=-np.ones((2, 3))),
        dict(weights_init=[0.3, 0.3]), dict(weights_init=[1.0]), dict(means_init=np.zeros((2, 2))),
        dict(means_init=np.full((2, 3), np.nan)),
    ],
    ids=lambda p: "-".join(f"{k}={v!r}"[:30] for k, v in p.items()),
)
def test_bad_parameters_fail_as_in_sklearn(X, params):
    """The same exception class and message as sklearn.mixture.GaussianMixture on the same call:
    hyper-parameters through scikit-learn's own validation (InvalidParameterError, a ValueError and
    a TypeError), initial parameters through the same checks."""
    params = dict(params)
    n_components = params.pop("n_components", 2)
    with pytest.raises((ValueError, TypeError)) as theirs:
        sklearn.mixture.GaussianMixture(n_components, **params).fit(X)
    with pytest.raises((ValueError, TypeError)) as ours:
        GM(n_components, **params).fit(X)
    assert type(ours.value) is type(theirs.value)
    assert same_message(str(ours.value), str(theirs.value))


def same_message(a, b):
    """Equal messages up to the order of a set's items (``{'full', 'tied', ...}`` is printed in
    hash order, which changes between interpreter runs, scikit-learn's own included)."""
    def canonical(text):
        return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)

    return canonical(a) == canonical(b)


def test_weights_out_of_range_use_sklearn_wording(X):
    """scikit-learn's message swaps its max and min values; ours keeps the wording, right values."""
    with pytest.raises(ValueError, match=r"'weights' should be in the range \[0, 1\], but got max value 1.50000, min"):
        GM(2, weights_init=[1.5, -0.5]).fit(X)
    with pytest.raises(ValueError, match=r"'weights' should be in the range \[0, 1\]"):
        sklearn.mixture.GaussianMixture(2, weights_init=[1.5, -0.5]).fit(X)


def test_unfitted_and_mismatched_prediction(X):
    with pytest.raises(NotFittedError):
        GM(2).predict(X)
    model = GM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict_proba(with_value(X, 0, 0, np.nan))
    with pytest.raises(ValueError, match="Invalid value for 'n_samples': 0 . The sampling requires at least one"):
        model.sample(0)


def test_fit_image_bad_input():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        gmm.fit_image(np.where(np.eye(4) > 0, np.nan, np.arange(16.0).reshape(4, 4)), 2)
    with pytest.raises(ValueError, match="expected an image of shape"):
        gmm.fit_image(np.zeros(16, np.uint8), 2)
    with pytest.raises(ValueError, match="1 distinct value"):
        gmm.fit_image(np.full((4, 4, 3), 7, np.uint8), 2)


# ------------------------------------------------------------------- degenerate fits
def spike_and_spread(covariance_type):
    """A heavy spike of identical points beside spread data: one component sits on the spike."""
    rng = np.random.RandomState(1)
    spike = np.full((300, 3), 4.0)
    X = np.vstack([spike, rng.normal(size=(300, 3))])
    return X, GM(2, covariance_type=covariance_type, random_state=0)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_point_mass_is_held_by_reg_covar_without_warning(covariance_type):
    """300 identical samples are a point mass the data have (a saturated region of a photo):
    the component on them is held by reg_covar, every number stays finite, and nothing warns."""
    X, model = spike_and_spread(covariance_type)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmm.ComponentCollapseWarning)
        model.fit(X)
    k = int(np.argmin(np.abs(model.means_ - 4.0).sum(axis=1)))
    assert model.collapsed_components_.size == 0
    np.testing.assert_allclose(model.means_[k], 4.0, atol=1e-9)
    np.testing.assert_allclose(model.weights_[k], 0.5, atol=1e-6)
    variances = model.covariances_[k]
    if covariance_type == "full":
        variances = np.linalg.eigvalsh(variances)
    np.testing.assert_allclose(variances, model.reg_covar, rtol=1e-3)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert np.all(np.isfinite(getattr(model, name))), name
    assert np.isfinite(model.lower_bound_) and np.all(np.isfinite(model.predict_proba(X)))
    assert np.all(np.isfinite(model.score_samples(X)))
    for values in model.history_.as_dict().values():
        assert np.all(np.isfinite(values))


def three_blobs_and_a_pair(copies=2):
    """Three 2-D clusters and one value repeated ``copies`` times away from them, with a start
    that puts a fourth component on that value."""
    rng = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    X = np.vstack([centres[np.arange(300) % 3] + rng.normal(size=(300, 2)), np.tile([[12.0, -6.0]], (copies, 1))])
    init = dict(weights_init=[0.33, 0.33, 0.33, 0.01], means_init=np.vstack([centres, [[12.0, -6.0]]]),
                precisions_init=np.stack([np.eye(2)] * 3 + [100 * np.eye(2)]))
    return X, init


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_component_on_too_few_samples_warns_names_it_and_points_at_the_caller(covariance_type):
    X, init = three_blobs_and_a_pair()
    precisions = {"full": init["precisions_init"], "diag": np.full((4, 2), 1.0) * [[1], [1], [1], [100]],
                  "spherical": np.array([1.0, 1.0, 1.0, 100.0])}[covariance_type]
    model = GM(4, covariance_type=covariance_type, reg_covar=1e-10, **dict(init, precisions_init=precisions))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X)
    collapse = [w for w in record if issubclass(w.category, gmm.ComponentCollapseWarning)]
    assert len(collapse) == 1
    np.testing.assert_array_equal(model.collapsed_components_, [3])
    message = str(collapse[0].message)
    assert "Component(s) 3 collapsed" in message and "reg_covar=1e-10" in message and "Lower n_components" in message
    assert collapse[0].filename == __file__
    np.testing.assert_allclose(model.weights_[3] * X.shape[0], 2.0, rtol=1e-6)
    # The same data with three copies: d + 1 samples are enough for a point mass, no warning.
    X3, _ = three_blobs_and_a_pair(copies=3)
    model.set_params(weights_init=[0.33, 0.33, 0.33, 0.01])
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmm.ComponentCollapseWarning)
        model.fit(X3)


def image_with_two_odd_pixels():
    rng = np.random.RandomState(0)
    colours = np.array([[200, 40, 30], [30, 160, 60], [20, 40, 250]])
    image = np.clip(colours[np.arange(48 * 64).reshape(48, 64) % 3] + rng.normal(scale=10, size=(48, 64, 3)), 0, 255)
    image = np.rint(image).astype(np.uint8)
    image[0, :2] = (250, 250, 5)
    return image, colours


@pytest.mark.parametrize("entry", ["fit_image", "segment"])
def test_collapse_warning_points_at_the_caller_of_the_image_functions(entry):
    from gmm.image import to_features

    image, colours = image_with_two_odd_pixels()
    means = to_features(np.vstack([colours, [[250, 250, 5]]]).astype(np.uint8), "rgb")
    scale = np.linalg.inv(np.cov(to_features(image.reshape(-1, 3), "rgb").T))
    init = dict(weights_init=[0.33, 0.33, 0.33, 0.01], means_init=means, precisions_init=np.stack([scale] * 3 + [1e6 * np.eye(3)]),
                reg_covar=1e-10)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        if entry == "fit_image":
            model = gmm.fit_image(image, 4, transform=lambda v: to_features(v, "rgb"), **init).model
        else:
            model = gmm.segment(image, 4, canonical=False, **init).model
    collapse = [w for w in record if issubclass(w.category, gmm.ComponentCollapseWarning)]
    assert [w.filename for w in collapse] == [__file__]
    np.testing.assert_array_equal(model.collapsed_components_, [3])


SAMPLE_IMAGES = ("astronaut", "coffee", "chelsea", "camera", "coins", "retina", "immunohistochemistry")


def sample_image(name):
    skimage_data = pytest.importorskip("skimage.data")
    try:
        return getattr(skimage_data, name)()
    except Exception as exc:  # a sample that would need a download on this machine
        pytest.skip(f"skimage.data.{name}() does not load offline: {exc}")


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_photos_with_many_identical_pixels_do_not_warn(name):
    """Ordinary fits of real photos: astronaut has 27,969 pure-black pixels and retina a black
    surround, on which a component sits as a point mass; neither is a collapse."""
    image = sample_image(name)
    for n_components in (3, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("error", gmm.ComponentCollapseWarning)
            fit = gmm.fit_image(image, n_components, random_state=0)
        assert fit.model.collapsed_components_.size == 0


def test_palette_rgba_and_large_reg_covar_do_not_warn(blobs, tmp_path):
    from PIL import Image

    photo = sample_image("chelsea")
    Image.fromarray(photo).quantize(16).save(tmp_path / "palette.png")  # a palette PNG: 16 colours
    palette = gmm.load_image(tmp_path / "palette.png")
    assert len(np.unique(palette.reshape(-1, 3), axis=0)) <= 16
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])  # alpha: no spread at all
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmm.ComponentCollapseWarning)
        for n_components in (3, 4, 8):
            gmm.fit_image(palette, n_components, random_state=0)
        gmm.fit_image(rgba, 3, random_state=0)
        GM(3, reg_covar=0.1, random_state=0).fit(X)
        GM(6, reg_covar=0.1, random_state=0).fit(X)


def test_tied_covariance_cannot_collapse_one_component():
    X, model = spike_and_spread("tied")
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmm.ComponentCollapseWarning)
        model.fit(X)
    assert np.all(np.isfinite(model.covariances_))


def test_without_reg_covar_a_collapse_is_sklearns_error():
    X, model = spike_and_spread("full")
    model.set_params(reg_covar=0.0)
    with pytest.raises(ValueError) as ours:
        model.fit(X)
    with pytest.raises(ValueError) as theirs:
        sklearn.mixture.GaussianMixture(**model.get_params()).fit(X)
    assert str(ours.value) == str(theirs.value)
    assert "ill-defined empirical covariance" in str(ours.value) and "increase reg_covar" in str(ours.value)


def test_healthy_fit_does_not_warn(blobs):
    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GM(3, random_state=0).fit(X)
    assert model.converged_ and model.collapsed_components_.size == 0


def test_non_convergence_warns_in_sklearn_words_at_the_caller(blobs):
    X, _ = blobs
    with pytest.warns(ConvergenceWarning, match="Best performing initialization did not converge") as record:
        model = GM(3, max_iter=2, tol=0.0, init_params="random", random_state=0).fit(X)
    assert not model.converged_ and model.n_iter_ == 2 and model.history_.n_iter == 2
    assert [w.filename for w in record] == [__file__]
    with pytest.warns(ConvergenceWarning) as record:
        GM(3, max_iter=2, tol=0.0, init_params="random", random_state=0).fit_predict(X)
    assert [w.filename for w in record] == [__file__]

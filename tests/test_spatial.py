"""The Potts mixture: mean-field maths, the free energy it records, beta = 0, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from gmm import _potts as P
from gmm.distinct import distinct_pixels, fit_image
from gmm.metrics import adjusted_rand_index
from gmm.mixture import GaussianMixture
from gmm.spatial import SpatialGaussianMixture


def two_region_image(noise, shape=(24, 30), seed=0):
    """A grid whose left and right halves have means 0 and 1, plus Gaussian noise: (image, truth)."""
    rng = np.random.default_rng(seed)
    truth = np.zeros(shape, dtype=np.int64)
    truth[:, shape[1] // 2 :] = 1
    image = truth[..., np.newaxis] + noise * rng.standard_normal(shape + (2,))
    return image, truth


def error_rate(labels, truth):
    """Fraction of mislabelled sites for two classes, under the better of the two matchings."""
    wrong = np.mean(labels != truth)
    return min(wrong, 1 - wrong)


def brute_free_energy(q, log_joint, beta, connectivity):
    """The free energy (up to log Z) by loops over sites and edges: the reference for the vectorised maths."""
    K, H, W = q.shape
    total = float((q * log_joint).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        total -= float(np.where(q > 0, q * np.log(q), 0.0).sum())
    for i, j in itertools.product(range(H), range(W)):
        for dy, dx in P.HALF_OFFSETS[connectivity]:
            if 0 <= i + dy < H and 0 <= j + dx < W:
                total += beta * float(q[:, i, j] @ q[:, i + dy, j + dx])
    return total


def random_q(rng, shape):
    q = rng.random(shape) + 0.05
    return q / q.sum(axis=0)


# ----------------------------------------------------------------------------------- the maths
@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("shape", [(5, 7), (6, 6), (1, 5), (2, 3)])
def test_sublattice_field_matches_loops(connectivity, shape):
    rng = np.random.default_rng(1)
    q = random_q(rng, (3,) + shape)
    offsets = P.neighbour_offsets(connectivity)
    H, W = shape
    full = np.zeros_like(q)
    for i, j in itertools.product(range(H), range(W)):
        for dy, dx in offsets:
            if 0 <= i + dy < H and 0 <= j + dx < W:
                full[:, i, j] += q[:, i + dy, j + dx]
    for start in P.SUBLATTICES:
        field = P.sublattice_field(q, start, offsets)
        np.testing.assert_allclose(field, full[:, start[0] :: 2, start[1] :: 2], rtol=0, atol=1e-15)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_agreement_and_sweep_entropy_match_brute_force(connectivity):
    rng = np.random.default_rng(2)
    q = random_q(rng, (3, 5, 6))
    log_joint = rng.normal(size=q.shape)
    brute_agreement = brute_free_energy(q, np.zeros_like(q), 1.0, connectivity) - brute_free_energy(q, np.zeros_like(q), 0.0, connectivity)
    assert P.agreement(q, connectivity) == pytest.approx(brute_agreement, rel=1e-12)
    entropy = P.sweep(q, log_joint, 0.7, connectivity)
    with_entropy = brute_free_energy(q, np.zeros_like(q), 0.0, connectivity)
    assert entropy == pytest.approx(with_entropy, rel=1e-12)


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 1, 7), (2, 6, 1), (4, 7, 9), (5, 16, 11)])
def test_fused_sweep_equals_the_numpy_sweep(monkeypatch, connectivity, shape):
    """The numba sweep (one pass per sublattice) and the numpy one agree to rounding, on odd
    and one-pixel-wide grids, with vanishing responsibilities (far-apart log joints) included."""
    from gmm import _kernels

    rng = np.random.default_rng(7)
    q = random_q(rng, shape)
    log_joint = rng.normal(size=shape) * 5
    log_joint[0, ::3] -= 900.0  # responsibilities below the floor: exactly zero in both
    fused_q, numpy_q = q.copy(), q.copy()
    fused = P.sweep(fused_q, log_joint, 1.7, connectivity)
    monkeypatch.setattr(_kernels, "USE_NUMBA", False)
    reference = P.sweep(numpy_q, log_joint, 1.7, connectivity)
    np.testing.assert_allclose(fused_q, numpy_q, rtol=1e-13, atol=1e-300)
    np.testing.assert_array_equal(fused_q == 0, numpy_q == 0)
    assert fused == pytest.approx(reference, rel=1e-12, abs=1e-300)


def four_pass_sweep(q, log_joint, beta, connectivity):
    """The sweep as four passes of the per-sublattice numba kernel: the one-pass kernel's reference."""
    from gmm._fused_potts_four_pass import update_sublattice
    from gmm._gaussian import _LOG_RESP_FLOOR

    table = np.array(P.neighbour_offsets(connectivity), dtype=np.int64)
    return sum(update_sublattice(q, log_joint, beta, row, col, table, _LOG_RESP_FLOOR) for row, col in P.SUBLATTICES)


def one_pass_sweep(q, log_joint, beta, connectivity, **kwargs):
    from gmm._fused_potts import sweep
    from gmm._gaussian import _LOG_RESP_FLOOR

    return sweep(q, log_joint, beta, P.SUBLATTICES, P.neighbour_offsets(connectivity), _LOG_RESP_FLOOR, **kwargs)


def assert_same_bits(a, b):
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))


def test_wavefront_lags():
    from gmm._fused_potts import wavefront_lags

    assert wavefront_lags(P.SUBLATTICES, P.neighbour_offsets(4)).tolist() == [0, 0, 1, 1]
    assert wavefront_lags(P.SUBLATTICES, P.neighbour_offsets(8)).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("n_components", [1, 2, 3, 4, 5])
def test_one_pass_sweep_equals_the_four_pass_sweep_bit_for_bit(connectivity, n_components):
    """Every site sees its neighbours at the four-pass order's versions: the same q, bit for bit,
    on odd, even and one- or two-pixel grids, rows longer than a chunk (2 * 1024 sites), with
    vanishing responsibilities included."""
    rng = np.random.default_rng(n_components)
    shapes = [(1, 2), (2, 1), (2, 2), (1, 9), (8, 1), (2, 7), (3, 2), (5, 6), (6, 5), (7, 9), (16, 11), (9, 16),
              (3, 2051)]
    for shape in shapes:
        q = random_q(rng, (n_components, *shape))
        log_joint = rng.normal(size=q.shape) * 5
        log_joint[0, ::3] -= 900.0
        expected, got = q.copy(), q.copy()
        reference = four_pass_sweep(expected, log_joint, 1.7, connectivity)
        entropy = one_pass_sweep(got, log_joint, 1.7, connectivity)
        assert_same_bits(got, expected)
        assert entropy == pytest.approx(reference, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_one_pass_sweep_does_not_depend_on_the_threads(monkeypatch, connectivity):
    """Rows shared out on 1 to 4 threads (parts of 16 rows and more): the four-pass q bit for bit,
    and the same entropy bit for bit."""
    rng = np.random.default_rng(5)
    q = random_q(rng, (3, 71, 13))
    log_joint = rng.normal(size=q.shape) * 3
    expected = q.copy()
    reference = four_pass_sweep(expected, log_joint, 0.9, connectivity)
    entropies = []
    for threads in ("1", "2", "3", "4"):
        monkeypatch.setenv("GMM_NUM_THREADS", threads)
        got = q.copy()
        entropies.append(one_pass_sweep(got, log_joint, 0.9, connectivity, min_rows_per_part=16))
        assert_same_bits(got, expected)
    assert len(set(entropies)) == 1
    assert entropies[0] == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_sublattice_update_is_the_coordinate_maximiser(connectivity):
    """Moving any updated site's q away from the update lowers the brute-force free energy."""
    rng = np.random.default_rng(3)
    q = random_q(rng, (3, 4, 5))
    log_joint, beta = rng.normal(size=q.shape), 1.3
    before = brute_free_energy(q, log_joint, beta, connectivity)
    P.update_sublattice(q, log_joint, beta, (0, 1), P.neighbour_offsets(connectivity))
    best = brute_free_energy(q, log_joint, beta, connectivity)
    assert best >= before
    for _ in range(20):
        moved = q.copy()
        i, j = 2 * rng.integers(0, 2), 1 + 2 * rng.integers(0, 2)
        moved[:, i, j] = random_q(rng, (3,))
        assert brute_free_energy(moved, log_joint, beta, connectivity) < best


def test_pseudo_likelihood_beta_follows_the_labels_coherence():
    rng = np.random.default_rng(4)
    blocky = np.zeros((2, 40, 40))
    blocky[0, :, :20] = blocky[1, :, 20:] = 1.0
    blocky = 0.9 * blocky + 0.05
    noise = np.zeros((2, 40, 40))
    labels = rng.integers(0, 2, (40, 40))
    noise[0], noise[1] = labels == 0, labels == 1
    noise = 0.9 * noise + 0.05
    log_weights = np.log([0.5, 0.5])
    smooth = P.pseudo_likelihood_beta(blocky, log_weights, 4, 1.0, beta_max=10.0)
    rough = P.pseudo_likelihood_beta(noise, log_weights, 4, 1.0, beta_max=10.0)
    assert smooth > 0.7 and rough < 0.05


# ------------------------------------------------------------------------------- the estimator
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol=1e-12: runs to max_iter
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_free_energy_never_decreases_for_fixed_beta(covariance_type, connectivity, beta):
    image, _ = two_region_image(0.8)
    model = SpatialGaussianMixture(2, beta=beta, connectivity=connectivity, covariance_type=covariance_type,
                                   reg_covar=0.0, tol=1e-12, max_iter=30, random_state=0).fit(image)
    h = model.history_
    chain = np.column_stack([h.free_energy, h.free_energy_m]).ravel()
    assert h.n_iter >= 3
    assert np.all(np.diff(chain) >= -1e-12 * np.abs(chain[1:]))
    np.testing.assert_allclose(h.free_energy, h.data + h.prior + h.agreement + h.entropy, rtol=1e-14)
    np.testing.assert_array_equal(h.beta, beta)


def test_recorded_free_energy_is_the_brute_force_one():
    """The last E-step's record equals the free energy recomputed by loops from the same q."""
    image, _ = two_region_image(0.8, shape=(7, 9))
    model = SpatialGaussianMixture(2, beta=1.1, max_iter=1, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Mean-field EM did not converge"):
        model.fit(image)
    # Rebuild iteration 0 by hand: independent posterior, one sweep, under the initial mixture.
    from gmm import _gaussian as G

    start = model.mixture_
    XT = image.reshape(-1, 2).T.copy()
    log_joint = G.log_joint(XT, start.weights_, start.means_, start.precisions_cholesky_, "full")
    q = G.normalize_log_joint(log_joint)[1].reshape(2, 7, 9)
    P.sweep(q, log_joint.reshape(2, 7, 9), 1.1, 4)
    expected = brute_free_energy(q, log_joint.reshape(2, 7, 9), 1.1, 4) / 63
    assert model.history_.free_energy[0] == pytest.approx(expected, rel=1e-12)


def test_spatial_prior_removes_noise():
    image, truth = two_region_image(0.7, shape=(40, 40))
    independent = SpatialGaussianMixture(2, beta=0, random_state=0).fit_predict(image)
    smoothed = SpatialGaussianMixture(2, beta=1.5, random_state=0).fit_predict(image)
    assert error_rate(independent, truth) > 0.1
    assert error_rate(smoothed, truth) < 0.2 * error_rate(independent, truth)


def test_beta_auto_is_estimated_and_bounded():
    image, truth = two_region_image(0.7, shape=(40, 40))
    model = SpatialGaussianMixture(2, beta="auto", beta_max=3.0, random_state=0).fit(image)
    assert 0.3 < model.beta_ <= 3.0
    assert model.history_.beta[0] == 1.0 and not np.all(model.history_.beta == 1.0)
    assert error_rate(model.labels_, truth) < 0.05


def test_beta_zero_reproduces_the_independent_mixture_exactly():
    image, _ = two_region_image(0.8)
    spatial = SpatialGaussianMixture(3, beta=0, random_state=0, covariance_type="diag").fit(image)
    plain = GaussianMixture(3, random_state=0, covariance_type="diag").fit(image.reshape(-1, 2))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.array_equal(getattr(spatial, name), getattr(plain, name))
    assert np.array_equal(spatial.labels_, plain.predict(image.reshape(-1, 2)).reshape(image.shape[:2]))


def test_beta_zero_on_distinct_colours_is_fit_image():
    rng = np.random.default_rng(5)
    image = (rng.integers(0, 4, (30, 40, 3)) * 60 + rng.integers(0, 20, (30, 40, 3))).astype(np.uint8)
    pixels = distinct_pixels(image)
    spatial = SpatialGaussianMixture(3, beta=0, random_state=0)
    labels = spatial.fit_sites(pixels.values, pixels.index, pixels.shape, pixels.counts)
    fast = fit_image(image, 3, random_state=0)
    assert np.array_equal(spatial.means_, fast.model.means_)
    assert np.array_equal(labels, fast.labels)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag"])
def test_distinct_path_equals_the_per_site_path(covariance_type):
    rng = np.random.default_rng(6)
    image = (rng.integers(0, 3, (20, 25, 1)) * 50 + rng.integers(0, 6, (20, 25, 1))).astype(np.uint8)
    pixels = distinct_pixels(image)
    kwargs = dict(beta=1.0, random_state=0, tol=0.0, max_iter=5, covariance_type=covariance_type)
    by_value, by_site = SpatialGaussianMixture(3, **kwargs), SpatialGaussianMixture(3, **kwargs)
    with pytest.warns(ConvergenceWarning):
        by_value.fit_sites(pixels.values.astype(float), pixels.index, pixels.shape)
        by_site.fit_sites(image.reshape(-1, 1).astype(float), None, image.shape[:2])
    # Same maths in two layouts: only the summation order differs (k-means with counts or on
    # repeated rows finds the same three well-separated clusters, possibly numbered otherwise).
    a, b = np.argsort(by_value.means_[:, 0]), np.argsort(by_site.means_[:, 0])
    np.testing.assert_allclose(by_value.means_[a], by_site.means_[b], rtol=1e-9)
    assert np.array_equal(np.argsort(a)[by_value.labels_], np.argsort(b)[by_site.labels_])
    np.testing.assert_allclose(by_value.history_.free_energy, by_site.history_.free_energy, rtol=1e-9)


def test_same_seed_same_result_bit_for_bit():
    image, _ = two_region_image(0.9)
    a = SpatialGaussianMixture(3, beta="auto", random_state=7).fit(image)
    b = SpatialGaussianMixture(3, beta="auto", random_state=7).fit(image)
    assert np.array_equal(a.labels_, b.labels_) and np.array_equal(a.means_, b.means_)
    for name, values in a.history_.as_dict().items():
        assert np.array_equal(values, getattr(b.history_, name)), name


def test_predict_proba_on_a_grid():
    image, truth = two_region_image(0.7, shape=(30, 30))
    model = SpatialGaussianMixture(2, beta=1.5, random_state=0).fit(image)
    q = model.predict_proba(image)
    assert q.shape == (30, 30, 2)
    np.testing.assert_allclose(q.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.mean(model.predict(image) == model.labels_) > 0.99


def test_auto_n_components():
    rng = np.random.default_rng(8)
    truth = np.repeat(np.repeat(np.arange(3)[:, np.newaxis], 20, axis=0), 60, axis=1)
    image = (truth * 4.0)[..., np.newaxis] + rng.standard_normal((60, 60, 1))
    model = SpatialGaussianMixture("auto", beta=1.0, random_state=0).fit(image)
    assert model.n_components_ == 3 == model.selection_.n_components
    assert model.means_.shape == (3, 1)


@pytest.mark.parametrize(
    "params, X, match",
    [
        (dict(beta=-0.5), np.zeros((4, 4, 1)), "beta must be"),
        (dict(beta="smooth"), np.zeros((4, 4, 1)), "beta must be"),
        (dict(beta=np.nan), np.zeros((4, 4, 1)), "beta must be"),
        (dict(connectivity=6), np.zeros((4, 4, 1)), "connectivity"),
        (dict(n_sweeps=0), np.zeros((4, 4, 1)), "n_sweeps"),
        (dict(), np.zeros((16, 3)), r"grid data of shape \(H, W, n_features\)"),
        (dict(), np.full((4, 4, 1), np.nan), "NaN"),
        (dict(n_components="many"), np.zeros((4, 4, 1)), "'auto'"),
        (dict(n_components="auto", candidates=[5, 6]), np.arange(16.0).reshape(4, 4, 1) % 3, "cannot fit"),
    ],
)
def test_bad_input_is_one_clear_error(params, X, match):
    model = SpatialGaussianMixture(**{"n_components": 2, "random_state": 0, **params})
    with pytest.raises(ValueError, match=match):
        model.fit(X)


def test_large_grids_choose_k_on_a_sub_grid_and_beta_zero_stays_exact():
    """Over 2**15 sites K is chosen on a sub-grid; at beta = 0 the chosen K is then fitted on all sites."""
    rng = np.random.default_rng(9)
    truth = (np.arange(200)[:, np.newaxis] // 67 + np.zeros(200, dtype=int))  # three bands
    image = (truth * 5.0)[..., np.newaxis] + rng.standard_normal((200, 200, 1))
    auto = SpatialGaussianMixture("auto", beta=0, random_state=0).fit(image)
    plain = GaussianMixture(auto.n_components_, random_state=0).fit(image.reshape(-1, 1))
    assert auto.n_components_ == 3 and auto.selection_.models[0].means_.shape == (1, 1)
    assert np.array_equal(auto.means_, plain.means_)
    smoothed = SpatialGaussianMixture("auto", beta=1.0, random_state=0).fit(image)
    assert smoothed.n_components_ == 3 and smoothed.mixture_ is smoothed.selection_.models[2]
    assert adjusted_rand_index(truth, smoothed.labels_) > 0.99


# ------------------------------------------------------------------------ gmm.segment's wiring
def noisy_photo(seed=0, shape=(48, 64), noise=35.0):
    """A uint8 RGB picture of three vertical bands (dark, mid, light) with strong noise: (image, truth)."""
    rng = np.random.default_rng(seed)
    truth = np.minimum(np.arange(shape[1]) * 3 // shape[1], 2) + np.zeros(shape, dtype=int)
    colours = np.array([[40, 60, 40], [120, 120, 140], [200, 190, 160]], dtype=float)
    image = colours[truth] + noise * rng.standard_normal(shape + (3,))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), truth


def test_segment_smoothing_removes_speckle_and_gives_regions():
    import gmm

    image, truth = noisy_photo(noise=30.0)
    plain = gmm.segment(image, 3, color_space="lab")
    smooth = gmm.segment(image, 3, color_space="lab", smoothing=1.5)
    assert adjusted_rand_index(truth, plain.labels) < 0.95 < 0.99 < adjusted_rand_index(truth, smooth.labels)
    assert smooth.smoothing == 1.5 and smooth.labels.dtype == np.uint8
    assert np.array_equal(smooth.model.labels_, smooth.labels)
    regions = smooth.regions(min_size=50)
    assert regions.dtype == np.int32 and regions.min() == 1
    assert np.unique(regions).size < np.unique(plain.regions(min_size=1)).size
    soft = smooth.render("soft")
    assert soft.shape == image.shape and soft.dtype == np.uint8


def test_segment_smoothing_zero_is_todays_path():
    import gmm

    image, _ = noisy_photo(1)
    today = gmm.segment(image, 3, color_space="lab", random_state=3)
    zero = gmm.segment(image, 3, color_space="lab", random_state=3, smoothing=0.0)
    assert type(zero.model) is GaussianMixture
    assert np.array_equal(today.labels, zero.labels) and np.array_equal(today.model.means_, zero.model.means_)


def test_segment_auto_k_and_auto_smoothing():
    import gmm

    image, truth = noisy_photo(2, shape=(60, 90), noise=15.0)
    auto = gmm.segment(image, "auto", color_space="lab")
    assert auto.n_components == auto.selection.n_components == 3
    both = gmm.segment(image, "auto", color_space="lab", smoothing="auto")
    assert both.n_components == 3 and both.smoothing > 0
    assert adjusted_rand_index(truth, both.labels) > 0.9


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(smoothing=-1.0), "smoothing must be"), (dict(smoothing="strong"), "smoothing must be"),
     (dict(smoothing=1.0, mask=np.ones((48, 64), bool)), "mask"), (dict(n_components="some"), "'auto'")],
)
def test_segment_bad_spatial_input(kwargs, match):
    import gmm

    image, _ = noisy_photo()
    kwargs = {"n_components": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        gmm.segment(image, **kwargs)


@pytest.mark.parametrize(
    "values, index, shape, match",
    [
        (np.zeros((5, 1)), None, (2, 3), "one row per site"),
        (np.zeros((3, 1)), np.array([[0, 1], [2, 3]]), (2, 2), "index must"),
        (np.zeros((3, 1)), np.zeros((2, 3), int), (2, 2), "index must"),
        (np.full((4, 1), np.inf), None, (2, 2), "finite"),
        (np.zeros((4, 1)), None, 4, r"shape must be \(H, W\)"),
    ],
)
def test_fit_sites_checks_the_layout(values, index, shape, match):
    with pytest.raises(ValueError, match=match):
        SpatialGaussianMixture(2, random_state=0).fit_sites(values, index, shape)

"""gmm.plotting: the notebooks' drawing helpers (Agg backend, no files written)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gmm  # noqa: E402
from gmm import plotting  # noqa: E402
from gmm.segmentation import segment  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def grey_model():
    rng = np.random.RandomState(0)
    values = np.concatenate([rng.normal(60, 5, 3000), rng.normal(180, 10, 1000)])
    X = np.clip(np.rint(values), 0, 255)[:, None] / 255.0
    return X, gmm.GaussianMixture(2, random_state=0).fit(X)


def test_channel_marginals_in_intensity_units(grey_model):
    _, model = grey_model
    mixing, means, variances = plotting.channel_marginals(model, 0, scale=1 / 255)
    order = np.argsort(means)
    np.testing.assert_allclose(means[order], [60, 180], atol=1.5)
    np.testing.assert_allclose(np.sqrt(variances[order]), [5, 10], rtol=0.1)
    np.testing.assert_allclose(mixing[order], [0.75, 0.25], atol=0.01)


def test_component_curves_sum_to_the_pixel_count(grey_model):
    X, model = grey_model
    values = np.rint(X[:, 0] * 255)
    _, ax = plt.subplots()
    plotting.histogram_with_components(ax, values, None, *plotting.channel_marginals(model, 0, 1 / 255))
    curves = [line.get_ydata() for line in ax.get_lines()]
    x = ax.get_lines()[0].get_xdata()
    assert len(curves) == 2
    area = np.sum(np.sum(curves, axis=0)[:-1] * np.diff(x))  # pixels per level, integrated over levels
    assert area == pytest.approx(values.size, rel=1e-3)
    assert ax.get_ylim()[1] == pytest.approx(1.1 * np.bincount(values.astype(int)).max())


def test_mask_grid_checks_axes():
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="3 masks for 2 axes"):
        plotting.mask_grid(axes, np.zeros((3, 4, 4), bool))


def test_plot_segmentation_draws_only_label_pictures():
    rng = np.random.default_rng(0)
    image = np.zeros((16, 24, 3), np.uint8)
    image[:, 12:] = (200, 40, 40)
    image = np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)
    result = segment(image, 2, random_state=0)
    fig = plotting.plot_segmentation(result, names=["dark", "red"])
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 3 and len(fig.axes) == 4  # hard, soft, uncertainty, and its colour bar
    hard = np.asarray(panels[0].get_images()[0].get_array()).reshape(-1, 3)
    assert {tuple(c) for c in hard} <= {tuple(c) for c in plotting.palette(2)}  # palette colours, no photo pixels
    with_photo = plotting.plot_segmentation(result, photo=image)
    assert len([ax for ax in with_photo.axes if ax.get_images()]) == 4

"""gmm.plotting: the notebooks' drawing helpers and figure encoding (Agg backend, no files written)."""

from __future__ import annotations

import dataclasses

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


# ------------------------------------------------------------------------------ EM curves and encoding

RULE_LABEL = f"|KL| after E-step < {plotting.ROUNDING_FLOOR:.0e} (rounding)"


@pytest.fixture(scope="module")
def history(grey_model):
    _, model = grey_model
    return model.history_


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_plot_history_draws_the_rounding_floor(history):
    assert RULE_LABEL == "|KL| after E-step < 1e-12 (rounding)"
    assert np.nanmax(np.abs(history.kl)) < plotting.ROUNDING_FLOOR  # a real fit: zero up to rounding
    ax, twin = plotting.plot_history(history)
    lines = _lines(twin)
    assert set(lines) == {"KL after M-step", RULE_LABEL}
    rule = lines[RULE_LABEL]
    assert np.all(np.asarray(rule.get_ydata()) == plotting.ROUNDING_FLOOR)  # a horizontal line at the floor
    assert twin.get_yscale() == "log" and twin.get_ylim()[0] == pytest.approx(plotting.ROUNDING_FLOOR / 10)
    kl_m = lines["KL after M-step"]
    np.testing.assert_array_equal(kl_m.get_xdata(), np.arange(history.n_iter) + 1)
    np.testing.assert_array_equal(kl_m.get_ydata(), np.maximum(history.kl_m, plotting.ROUNDING_FLOOR))
    np.testing.assert_array_equal(_lines(ax)[r"$\log p(y\mid\theta_t)$"].get_ydata(), history.log_likelihood)


def test_plot_history_draws_a_kl_above_the_floor(history):
    kl = np.full(history.n_iter, 1e-14)
    kl[1] = -3e-6  # one E-step gap above the floor: the values are drawn, not the rule
    kl[-1] = 2e-9
    _, twin = plotting.plot_history(dataclasses.replace(history, kl=kl))
    lines = _lines(twin)
    assert RULE_LABEL not in lines
    drawn = lines["|KL| after E-step"]
    np.testing.assert_array_equal(drawn.get_xdata(), np.arange(history.n_iter))
    np.testing.assert_array_equal(drawn.get_ydata(), np.maximum(np.abs(kl), plotting.ROUNDING_FLOOR))


def test_plot_history_without_kl(history):
    ax = plotting.plot_history(history, show_kl=False)
    assert len(ax.figure.axes) == 1 and len(ax.get_lines()) == 3


def _plot(fmt_title="same"):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    ax = fig.subplots()
    ax.plot(np.arange(5), np.arange(5) ** 2, "o-")
    ax.set_title(fmt_title)
    return fig


@pytest.mark.parametrize("fmt", sorted(plotting.STABLE_METADATA))
def test_figure_bytes_is_byte_stable(fmt):
    first, second = plotting.figure_bytes(_plot(), fmt), plotting.figure_bytes(_plot(), fmt)
    assert first == second
    assert plotting.figure_bytes(_plot("other"), fmt) != first
    for run_dependent in (b"Matplotlib v", b"CreationDate", b"ModDate", b"<dc:date>"):
        assert run_dependent not in first


def test_figure_bytes_refuses_other_formats():
    with pytest.raises(ValueError, match="unsupported figure format 'jpg'"):
        plotting.figure_bytes(_plot(), "jpg")


def test_history_png_bytes(history):
    import io

    from PIL import Image

    data = plotting.history_png_bytes(history, "a title")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (600, 350)  # 6 x 3.5 inches at DEFAULT_DPI
    assert plotting.history_png_bytes(history, "a title") == data
    assert plotting.history_png_bytes(history, "another title") != data


def test_figure_legend_lists_each_label_once_below_the_panels():
    fig, axes = plt.subplots(1, 3, layout="constrained")
    plotting.plot_frame_rates(axes[0], {"fixed": 60.0, "warm": 18.0}, targets={"target": 30}, legend=False)
    for ax in axes[1:]:
        plotting.plot_per_frame(ax, {"fixed": np.ones(5), "warm": np.arange(5.0)}, ylabel="y", legend=False)
    assert all(ax.get_legend() is None for ax in axes)
    legend = plotting.figure_legend(fig, axes)
    assert [text.get_text() for text in legend.get_texts()] == ["target", "fixed", "warm"]
    assert axes[0].get_xlim()[1] >= 1.2 * 60  # room for the bars' numbers

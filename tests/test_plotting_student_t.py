"""gmm.plotting's Student-t helpers (notebook 07): what each draws, checked on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from gmm import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_dof_history_draws_one_line_per_component():
    dof = np.array([[100.0, 100.0], [60.0, 30.0], [55.0, 12.0]])
    colors = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    _, ax = plt.subplots()
    plotting.plot_dof_history(ax, dof, ["background", "grass"], colors=colors, linestyle="--", label="nu0 = 100")
    lines = ax.get_lines()
    assert len(lines) == 2
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2])
        np.testing.assert_array_equal(line.get_ydata(), dof[:, k])
        assert line.get_linestyle() == "--"
        np.testing.assert_allclose(matplotlib.colors.to_rgb(line.get_color()), colors[k] / 255)
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["background, nu0 = 100", "grass, nu0 = 100"]


def test_plot_dof_history_checks_its_input():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_dof_history(ax, np.ones(3))
    with pytest.raises(ValueError, match="2 components for 3 names"):
        plotting.plot_dof_history(ax, np.ones((3, 2)), ["a", "b", "c"])


def test_show_changed_labels_colours_only_the_changed_pixels():
    reference = np.array([[0, 0, 1], [1, 2, 2]])
    labels = np.array([[0, 2, 1], [0, 2, 2]])
    colors = np.array([[200, 0, 0], [0, 200, 0], [0, 0, 200]], dtype=np.uint8)
    _, ax = plt.subplots()
    plotting.show_changed_labels(ax, reference, labels, colors=colors, title="t vs Gaussian")
    picture = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(picture[0, 1], colors[2])
    np.testing.assert_array_equal(picture[1, 0], colors[0])
    for row, col in [(0, 0), (0, 2), (1, 1), (1, 2)]:
        np.testing.assert_array_equal(picture[row, col], [235, 235, 235])
    assert ax.get_title() == "t vs Gaussian (33.3%)"
    with pytest.raises(ValueError, match="one shape"):
        plotting.show_changed_labels(ax, reference, labels[:, :2])


def test_show_scale_map_uses_a_log_scale_over_the_map():
    scales = np.array([[0.1, 1.0], [1.2, 0.5]])
    _, ax = plt.subplots()
    shown = plotting.show_scale_map(ax, scales, title="E[u]")
    assert isinstance(shown.norm, LogNorm)
    assert shown.get_clim() == (0.1, 1.2)
    np.testing.assert_array_equal(shown.get_array(), scales)
    assert ax.get_title() == "E[u]"
    assert plotting.show_scale_map(ax, scales, vmin=0.01, vmax=2.0).get_clim() == (0.01, 2.0)
    with pytest.raises(ValueError, match="positive"):
        plotting.show_scale_map(ax, np.zeros((2, 2)))

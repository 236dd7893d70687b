"""One figure style for the project (gmm.plotting): text at least 7 pt at the printed size, figures
no wider than the paper's text, the Okabe-Ito palette, one colour per component meaning, and the
paper's figures saved as byte-stable PDFs beside their PNGs."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from gmm import GaussianMixture  # noqa: E402
from gmm import plotting  # noqa: E402
from gmm.companion import provenance  # noqa: E402
from gmm.companion.figures import PAPER_FORMATS, save_figure  # noqa: E402
from gmm.data.football import FOOTBALL_CLASSES  # noqa: E402
from gmm.render import PALETTE, make_palette  # noqa: E402

PAPER = Path(__file__).resolve().parents[1] / "paper" / "paper.tex"
#: The Okabe & Ito (2008) colours, as published (uint8 RGB).
OKABE_ITO_PUBLISHED = {(0, 0, 0), (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178),
                       (213, 94, 0), (204, 121, 167)}


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, 200), rng.normal(1, 0.8, 300), rng.normal(4, 0.4, 100)])[:, None]
    return GaussianMixture(3, random_state=0).fit(X), X


def _font_sizes(fig):
    """Size (pt) of every visible, non-empty text of a drawn figure, with what it says."""
    fig.canvas.draw()  # tick labels exist only once drawn
    return [(t.get_fontsize(), t.get_text()) for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _helper_figures(model):
    """Figures made by the plotting helpers under the style, at the sizes the notebooks use."""
    fitted, X = model
    labels = np.repeat(np.arange(3), 12).reshape(6, 6)
    masks = np.stack([labels == k for k in range(3)])
    fig_a, axes = plotting.printed_figure(2.4, ncols=2)
    plotting.plot_mixture_1d(axes[0], X, fitted)
    plotting.plot_history(fitted.history_, ax=axes[1])
    axes[1].set_title("a title")
    fig_b, axes = plotting.printed_figure(2.2, ncols=4)
    plotting.show_label_map(axes[0], labels, title="labels", names=["background", "animal", "grass"],
                            colors=plotting.component_colours(["background", "animal", "grass"]))
    plotting.mask_grid(axes[1:], masks, row_label="rgb model")
    fig_c, axes = plotting.printed_figure(2.2, ncols=2)
    plotting.plot_elbo_terms(axes, fitted.history_)
    fig_d, ax = plotting.printed_figure(2.2, width=3.0)
    plotting.plot_frame_rates(ax, {"fixed": 120.0, "warm": 14.0}, targets={"target": 30})
    return [fig_a, fig_b, fig_c, fig_d]


def test_text_is_at_least_7pt_at_the_printed_size(model):
    with plotting.figure_style():
        figures = _helper_figures(model)
    try:
        for fig in figures:
            sizes = _font_sizes(fig)
            assert sizes, "no text found"
            small = [(size, text) for size, text in sizes if size < plotting.MIN_FONT_SIZE]
            assert not small, f"text under {plotting.MIN_FONT_SIZE} pt: {small}"
            assert fig.get_figwidth() <= plotting.TEXT_WIDTH
    finally:
        for fig in figures:
            plt.close(fig)


def test_without_the_style_the_check_fails():
    # The size check can fail: matplotlib's own small legend text is under 7 pt.
    with matplotlib.rc_context({"legend.fontsize": "x-small", "font.size": 8}):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], label="a line")
        ax.legend()
        assert min(size for size, _ in _font_sizes(fig)) < plotting.MIN_FONT_SIZE
        plt.close(fig)


def test_text_width_matches_the_paper_and_printed_figure_refuses_wider():
    geometry = re.search(r"\\usepackage\[a4paper,margin=(\d+)mm\]\{geometry\}", PAPER.read_text())
    assert geometry, "paper.tex no longer sets its margins as the style assumes"
    assert plotting.TEXT_WIDTH == pytest.approx((210 - 2 * int(geometry.group(1))) / 25.4)
    assert plotting.FULL_WIDTH <= plotting.TEXT_WIDTH
    with pytest.raises(ValueError, match="text width"):
        plotting.printed_figure(2.0, width=plotting.TEXT_WIDTH + 0.1)


def test_palette_is_okabe_ito():
    assert {tuple(c) for c in PALETTE} == OKABE_ITO_PUBLISHED
    assert set(plotting.OKABE_ITO.values()) == OKABE_ITO_PUBLISHED
    line_colours = {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in plotting.LINE_COLOURS}
    assert line_colours <= OKABE_ITO_PUBLISHED and (240, 228, 66) not in line_colours  # no yellow lines on white
    cycle = matplotlib.rcParams["axes.prop_cycle"]
    with plotting.figure_style():
        assert [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]] == list(plotting.LINE_COLOURS)
        assert matplotlib.rcParams["axes.formatter.useoffset"] is False
    assert matplotlib.rcParams["axes.prop_cycle"] == cycle  # the context leaves the process as it was


def test_every_component_meaning_has_one_okabe_ito_colour():
    assert {"background", "animal", "grass", *FOOTBALL_CLASSES} <= set(plotting.COMPONENT_COLOURS)
    assert set(plotting.COMPONENT_COLOURS.values()) <= OKABE_ITO_PUBLISHED
    classes = plotting.component_colours(FOOTBALL_CLASSES)
    assert len({tuple(c) for c in classes}) == len(FOOTBALL_CLASSES)  # the classes are told apart
    animal = plotting.component_colours(["background", "animal", "grass"])
    for order in (["animal", "grass", "background"], ["grass", "animal"]):  # the fox's colour does not hang on its index
        np.testing.assert_array_equal(plotting.component_colours(order)[order.index("animal")], animal[1])


def test_unnamed_components_get_distinct_unused_colours():
    colours = plotting.component_colours(["animal", None, "component 2", "grass"])
    assert len({tuple(c) for c in colours}) == 4
    assert tuple(colours[1]) not in {plotting.COMPONENT_COLOURS["animal"], plotting.COMPONENT_COLOURS["grass"]}
    assert {tuple(c) for c in colours[1:3]} <= {tuple(c) for c in make_palette(20)}


def test_helpers_draw_a_component_in_its_colour(model):
    # The same colours reach the label map, the masks and the histogram curves.
    fitted, _ = model
    colours = plotting.component_colours(["background", "animal", "grass"])
    labels = np.array([[0, 1], [2, 1]])
    with plotting.figure_style():
        fig, axes = plotting.printed_figure(2.0, ncols=5)
        plotting.show_label_map(axes[0], labels, colors=colours)
        plotting.mask_grid(axes[1:4], np.stack([labels == k for k in range(3)]), colors=colours)
        plotting.histogram_with_components(axes[4], np.arange(256), None, fitted.weights_, fitted.means_[:, 0],
                                           fitted.covariances_[:, 0, 0], colors=colours)
    shown = axes[0].images[0].get_array()
    np.testing.assert_array_equal(shown[0, 1], colours[1])
    for k in range(3):
        np.testing.assert_array_equal(axes[1 + k].images[0].get_array()[labels == k][0], colours[k])
    curves = [line.get_color() for line in axes[4].lines]
    np.testing.assert_allclose(np.array(curves, dtype=float), colours / 255)
    plt.close(fig)


def test_paper_figures_are_saved_as_png_and_byte_stable_pdf(tmp_path):
    def draw():
        with plotting.figure_style():
            fig, ax = plotting.printed_figure(2.0, width=3.0)
            ax.plot([0, 1, 4], label="a curve")
            ax.legend()
        return fig

    first = save_figure(draw(), "99_paper", fmt=PAPER_FORMATS, directory=tmp_path, close=True)
    pdf = (tmp_path / "99_paper.pdf").read_bytes()
    save_figure(draw(), "99_paper", fmt=PAPER_FORMATS, directory=tmp_path, close=True)
    assert first == tmp_path / "99_paper.png"
    assert (tmp_path / "99_paper.pdf").read_bytes() == pdf and pdf.startswith(b"%PDF")
    assert b"CreationDate" not in pdf and b"Matplotlib v" not in pdf
    manifest = provenance.load_manifest(tmp_path / provenance.MANIFEST_NAME)
    assert set(manifest["figures"]) == {"99_paper.png", "99_paper.pdf"}
    # The PDF page is the size the figure was drawn at: the paper includes it at its natural size.
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and float(box.group(1)) == pytest.approx(3.0 * 72) and float(box.group(2)) == pytest.approx(2.0 * 72)


def test_notebooks_use_the_style_and_preview_at_100_dpi():
    for notebook in sorted((PAPER.parents[1] / "notebooks").glob("0*.ipynb")):
        text = notebook.read_text()
        assert "use_figure_style()" in text, f"{notebook.name} does not apply the project's figure style"
        assert not re.search(r'figure\.dpi\\?"\] = (\d+)', text) or all(
            int(d) >= 100 for d in re.findall(r'figure\.dpi\\?"\] = (\d+)', text)), notebook.name
        assert "tab:red" not in text and "tab:green" not in text, f"{notebook.name} uses colours outside the palette"

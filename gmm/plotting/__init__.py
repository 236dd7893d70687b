"""Every plot of the project: EM curves, label maps, masks, histograms, responsibilities.

The one package that draws. matplotlib is imported inside the functions, so importing the
library never imports it. :func:`figure_bytes` encodes a figure without run-dependent metadata
(the same figure gives the same bytes); files are written by :func:`gmm.outputs.atomic_write`
(the CLI) or :func:`gmm.companion.figures.save_figure` (the notebooks, with provenance).

Licence rule: the fox, moose and football photos may not be redistributed, so these helpers draw
*label-derived* pictures (palette label maps, component masks, histograms, responsibility maps),
never the photo itself; :func:`show_photo_panel` is called only when a notebook runs locally
with ``show_photo=True``.

Every name is imported from here (``from gmm.plotting import plot_history``); the modules:

- :mod:`~gmm.plotting.style`: sizes, colours, the one style, byte-stable encoding;
- :mod:`~gmm.plotting.curves`: curves over iterations (EM, the t mixture, the optimisers);
- :mod:`~gmm.plotting.images`: label maps, masks, segmentations and other pictures;
- :mod:`~gmm.plotting.distributions`: histograms and densities of the data and the fits;
- :mod:`~gmm.plotting.comparisons`: per-frame curves, frame rates, paired differences.
"""

from gmm.plotting.comparisons import figure_legend, plot_frame_rates, plot_paired_differences, plot_per_frame
from gmm.plotting.curves import (history_png_bytes, plot_collapse, plot_dof_history, plot_elbo_terms,
                                 plot_gap_to_optimum, plot_history)
from gmm.plotting.distributions import (channel_marginals, histogram_with_components, plot_channel_histograms,
                                        plot_mixture_1d, plot_mixture_2d, plot_value_counts)
from gmm.plotting.images import (mask_grid, plot_responsibility_crops, plot_segmentation, show_changed_labels,
                                 show_label_map, show_photo_panel, show_scale_map)
from gmm.plotting.style import (COMPONENT_COLOURS, DEFAULT_DPI, FULL_WIDTH, LINE_COLOURS, MIN_FONT_SIZE, OKABE_ITO,
                                ROUNDING_FLOOR, STABLE_METADATA, TEXT_WIDTH, component_colours, figure_bytes,
                                figure_style, palette, printed_figure, style_params, use_figure_style)

__all__ = [
    "COMPONENT_COLOURS",
    "DEFAULT_DPI",
    "FULL_WIDTH",
    "LINE_COLOURS",
    "MIN_FONT_SIZE",
    "OKABE_ITO",
    "ROUNDING_FLOOR",
    "STABLE_METADATA",
    "TEXT_WIDTH",
    "channel_marginals",
    "component_colours",
    "figure_bytes",
    "figure_legend",
    "figure_style",
    "histogram_with_components",
    "history_png_bytes",
    "mask_grid",
    "palette",
    "plot_channel_histograms",
    "plot_collapse",
    "plot_dof_history",
    "plot_elbo_terms",
    "plot_frame_rates",
    "plot_gap_to_optimum",
    "plot_history",
    "plot_mixture_1d",
    "plot_mixture_2d",
    "plot_paired_differences",
    "plot_per_frame",
    "plot_responsibility_crops",
    "plot_segmentation",
    "plot_value_counts",
    "printed_figure",
    "show_changed_labels",
    "show_label_map",
    "show_photo_panel",
    "show_scale_map",
    "style_params",
    "use_figure_style",
]

"""The companion's machinery: what only this repository needs, apart from the library.

The library (everything else in :mod:`gmm`) is what a user installs and uses on their own
images; it never imports this subpackage. This subpackage knows the checkout
(:mod:`~gmm.companion.paths`), runs the numbered notebooks (:mod:`~gmm.companion.pipeline`),
saves their figures (:mod:`~gmm.companion.figures`) and numbers (:mod:`~gmm.companion.numbers`)
with the provenance each call declares (:mod:`~gmm.companion.provenance`), holds the notebooks'
experiment helpers (:mod:`~gmm.companion.experiments`) and checks that a rerun reproduces the
committed outputs (:mod:`~gmm.companion.reproduce`). Imports go one way: companion -> library.
"""

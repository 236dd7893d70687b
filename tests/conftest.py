"""Shared test settings and fixtures."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (CI must not be flaky) and leave no
# example database in the checkout. HYPOTHESIS_PROFILE=explore draws fresh random examples.
settings.register_profile("gmm", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gmm"))


@pytest.fixture
def blobs():
    """Three well-separated 2-D Gaussian clusters of 60 points each: (X, true labels)."""
    rng = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    labels = np.repeat(np.arange(3), 60)
    X = centres[labels] + rng.normal(scale=[[1.0, 0.5]], size=(labels.size, 2))
    return X, labels

"""The k-means start (gmm._kmeans) is scikit-learn's ``KMeans(n_init=1)``, label for label.

And the fused kernels' threads (gmm._threads.share_blocks) change no bit of a fit.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

import gmm
from gmm.data import load_image
from gmm import _init, _kernels, _threads
from gmm._kmeans import kmeans_labels


def sklearn_labels(X, w, k, seed):
    state = np.random.RandomState(seed)
    labels = KMeans(k, n_init=1, random_state=state).fit(X, sample_weight=w).labels_
    return labels, state


def ours(X, w, k, seed):
    state = np.random.RandomState(seed)
    return kmeans_labels(X, w, k, state), state


def photo_like_colours(seed, n=6000):
    """Distinct uint8 colours in a few clouds, with heavy-tailed counts, as an image's are."""
    rng = np.random.RandomState(seed)
    centres = rng.randint(30, 225, size=(5, 3))
    values = np.clip(centres[rng.randint(0, 5, n)] + rng.normal(0, 18, (n, 3)), 0, 255).astype(np.uint8)
    values = np.unique(values, axis=0).astype(np.float64)
    counts = np.floor(rng.pareto(1.2, values.shape[0]) * 3 + 1)
    return values, counts


CASES = [
    ("blobs", lambda seed: (make_blobs(3000, n_features=3, centers=4, random_state=seed)[0], None)),
    ("weighted blobs", lambda seed: (make_blobs(3000, n_features=2, centers=3, cluster_std=2.5, random_state=seed)[0],
                                     np.random.RandomState(seed).uniform(0.1, 5, 3000))),
    ("colours", photo_like_colours),
    ("five features", lambda seed: (np.random.RandomState(seed).standard_t(3, size=(2000, 5)), None)),
    ("one feature", lambda seed: (np.random.RandomState(seed).gamma(2.0, size=(1500, 1)), None)),
]


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("k", [2, 3, 5, 8])
@pytest.mark.parametrize("seed", [0, 1])
def test_labels_and_random_state_equal_scikit_learns(name, make, k, seed):
    X, w = make(seed)
    expected, their_state = sklearn_labels(X, w, k, seed)
    labels, our_state = ours(X, w, k, seed)
    np.testing.assert_array_equal(labels, expected)
    # the stream is left where scikit-learn leaves it, so n_init > 1 starts follow as there
    assert our_state.random_sample() == their_state.random_sample()


@pytest.mark.parametrize("name,k", [("fox", 3), ("fox", 4), ("fox", 6), ("moose", 3), ("moose", 6),
                                    # integer RGB colours equidistant from two centres: exact ties,
                                    # which only BLAS's order of operations (fused multiply-adds) breaks
                                    # as scikit-learn's does
                                    ("bsds_268002", 3), ("bsds_35058", 6), ("bsds_376020", 6), ("bsds_101085", 6)])
def test_labels_equal_scikit_learns_on_photos_distinct_colours(name, k):
    """The case that matters: photos' distinct colours, weighted by their counts."""
    pixels = gmm.distinct_pixels(load_image(name))
    X, w = pixels.values.astype(np.float64), pixels.counts.astype(np.float64)
    np.testing.assert_array_equal(ours(X, w, k, 0)[0], sklearn_labels(X, w, k, 0)[0])


def test_grey_features_are_centred_as_numpy_centres_them():
    """One feature is a contiguous column, which numpy sums pairwise (two or more: in order);
    a different mean moved a grey football frame's start (found by rerunning notebook 10)."""
    from gmm._kmeans import _centred

    rng = np.random.RandomState(0)
    for d in (1, 2, 3, 5):
        for n in (5, 233, 5000):
            X = rng.gamma(2.0, size=(n, d)) * rng.uniform(0.1, 300)
            XT, norms, variances = _centred(X)
            centred = X - X.mean(axis=0)
            np.testing.assert_array_equal(XT, centred.T)
            np.testing.assert_array_equal(norms, np.einsum("ij,ij->i", centred, centred))
            np.testing.assert_array_equal(variances, np.var(X, axis=0))


def test_empty_clusters_are_relocated_as_scikit_learn_does(monkeypatch):
    """Lloyd from given centres, one of them far from every sample so that its cluster empties at
    once: scikit-learn's relocation (which ours calls) must give its labels, and be called."""
    from sklearn.cluster import _k_means_common
    from sklearn.cluster._kmeans import _kmeans_single_lloyd

    from gmm import _kmeans

    calls = []
    relocate = _k_means_common._relocate_empty_clusters_dense

    def recording(*args):
        calls.append(int(np.sum(args[4] == 0)))
        return relocate(*args)

    monkeypatch.setattr(_k_means_common, "_relocate_empty_clusters_dense", recording)
    rng = np.random.RandomState(3)
    X = np.concatenate([rng.normal(0, 1, (300, 2)), rng.normal(6, 0.5, (40, 2))])
    w = rng.uniform(0.5, 2.0, X.shape[0])
    centres = np.array([[0.0, 0.0], [6.0, 6.0], [100.0, 100.0], [-80.0, 5.0]])
    expected = _kmeans_single_lloyd(X, w, centres.copy(), max_iter=300, tol=1e-6, n_threads=1)[0]
    labels = _kmeans._lloyd(np.ascontiguousarray(X.T), w, centres.copy(), 300, 1e-6)
    np.testing.assert_array_equal(labels, expected)
    assert calls and calls[0] == 2  # both far centres emptied on the first step


def test_fewer_distinct_clusters_warn_in_scikit_learns_words():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 10, axis=0)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(2\) found smaller than n_clusters \(3\)"):
        kmeans_labels(X, None, 3, np.random.RandomState(0))


def test_float32_and_few_samples_go_to_scikit_learn(monkeypatch):
    calls = []
    real = _init.KMeans

    class Recording(real):
        def fit(self, *args, **kwargs):
            calls.append(args[0].dtype)
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(_init, "KMeans", Recording)
    X = make_blobs(500, n_features=3, centers=3, random_state=0)[0]
    _init.kmeans_labels(X, None, 3, np.random.RandomState(0))
    assert calls == []
    _init.kmeans_labels(X.astype(np.float32), None, 3, np.random.RandomState(0))
    assert calls == [np.float32]
    monkeypatch.setattr(_kernels, "USE_NUMBA", False)
    _init.kmeans_labels(X, None, 3, np.random.RandomState(0))
    assert calls == [np.float32, np.float64]


def test_the_mixture_starts_where_scikit_learns_kmeans_start_puts_it(monkeypatch):
    """A whole fit with our k-means equals the fit with scikit-learn's KMeans, bit for bit."""
    X, _ = make_blobs(4000, n_features=3, centers=5, cluster_std=2.0, random_state=2)
    fast = gmm.GaussianMixture(5, random_state=0, n_init=3).fit(X)
    monkeypatch.setattr(_init, "kmeans_labels", lambda X, w, k, state: KMeans(k, n_init=1, random_state=state)
                        .fit(X, sample_weight=w).labels_)
    slow = gmm.GaussianMixture(5, random_state=0, n_init=3).fit(X)
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)


# ------------------------------------------------------------------------- threads
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_threads_change_no_bit_of_a_fit(monkeypatch, covariance_type):
    """Blocks write their own partial sums, added in block order: 1, 2 or 3 threads give the
    same fit and labels bit for bit (enough samples that the blocks are shared out)."""
    X, _ = make_blobs(60_000, n_features=3, centers=4, cluster_std=3.0, random_state=1)
    w = np.random.RandomState(0).randint(1, 20, X.shape[0]).astype(np.float64)
    fits = []
    for threads in ("1", "2", "3"):
        monkeypatch.setenv(_threads.THREADS_ENV, threads)
        model = gmm.GaussianMixture(4, covariance_type=covariance_type, random_state=0, tol=1e-6)
        labels = model.fit_predict(X, sample_weight=w)
        fits.append((labels, model.means_, model.covariances_, model.lower_bound_, model.history_.log_likelihood))
    for other in fits[1:]:
        for a, b in zip(fits[0], other):
            np.testing.assert_array_equal(a, b)


def test_share_blocks_covers_every_block_once(monkeypatch):
    monkeypatch.setenv(_threads.THREADS_ENV, "3")
    for n_blocks in (1, 15, 47, 48, 200):
        seen = np.zeros(n_blocks, dtype=int)

        def work(start, stop):
            seen[start:stop] += 1

        _threads.share_blocks(work, n_blocks, min_blocks_per_thread=16)
        assert (seen == 1).all()
    assert len(_threads.block_parts(200, 16)) == 3 and len(_threads.block_parts(40, 16)) == 2
    assert _threads.block_parts(15, 16) == [(0, 15)]


def test_a_failing_block_raises_in_the_caller(monkeypatch):
    monkeypatch.setenv(_threads.THREADS_ENV, "2")

    def work(start, stop):
        if start > 0:
            raise RuntimeError("block failed")

    with pytest.raises(RuntimeError, match="block failed"):
        _threads.share_blocks(work, 64, min_blocks_per_thread=16)


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_a_bad_thread_count_is_named(monkeypatch, value):
    monkeypatch.setenv(_threads.THREADS_ENV, value)
    with pytest.raises(ValueError, match="GMM_NUM_THREADS must be a positive integer"):
        _threads.n_threads()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_fits_with_threads_of_its_own(monkeypatch):
    """The pool is rebuilt after fork (a child has none of its parent's threads): no deadlock."""
    monkeypatch.setenv(_threads.THREADS_ENV, "2")
    X, _ = make_blobs(40_000, n_features=3, centers=3, random_state=0)
    expected = gmm.GaussianMixture(3, random_state=0).fit(X).means_
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: fit, report, leave without running the parent's cleanup
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                means = gmm.GaussianMixture(3, random_state=0).fit(X).means_
            os.write(write, b"1" if np.array_equal(means, expected) else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def test_thread_count_follows_gmm_then_omp(monkeypatch):
    monkeypatch.delenv(_threads.THREADS_ENV, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as Dask sets it in its worker processes
    assert _threads.n_threads() == 1
    monkeypatch.setenv(_threads.THREADS_ENV, "3")
    assert _threads.n_threads() == 3
    monkeypatch.delenv(_threads.THREADS_ENV)
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert _threads.n_threads() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_one_pass_lloyd_steps_equal_the_threaded_steps(monkeypatch, name, make):
    """Small inputs take each Lloyd step in one pass (assign, add, compare); large ones assign on
    threads, then add in order. Forcing the threaded path on the same data changes no label.
    (Colours with 2 to 4 clusters always take the one-pass colour step: k = 6 covers them here,
    and the test below compares the two one-pass steps.)"""
    from gmm import _kmeans

    X, w = make(2)
    one_pass = [kmeans_labels(X, w, k, np.random.RandomState(0)) for k in (2, 3, 6)]
    monkeypatch.setattr(_kmeans, "_MIN_BLOCKS_PER_THREAD", 2)
    for threads in ("2", "3"):
        monkeypatch.setenv(_threads.THREADS_ENV, threads)
        assert len(_threads.block_parts(-(-X.shape[0] // 256), 2)) > 1  # the threaded path, really
        for k, expected in zip((2, 3, 6), one_pass):
            np.testing.assert_array_equal(kmeans_labels(X, w, k, np.random.RandomState(0)), expected)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_colour_lloyd_step_equals_the_general_step_bit_for_bit(k, seed):
    """Three features and up to four clusters: sums held in registers, +0.0 added to the others'.

    Integer colours put many samples at exactly equal distances (the first centre must win),
    and a centre on a sample makes a zero distance; sums, weights, labels and the 'changed'
    flag must be the general step's to the bit, over several steps."""
    from gmm import _kmeans, _kmeans_kernels as kernels

    rng = np.random.RandomState(seed)
    X = rng.randint(0, 8, size=(3000, 3)).astype(np.float64)  # few levels: ties everywhere
    w = rng.uniform(0.5, 4.0, 3000)
    XT, _, _ = _kmeans._centred(X)
    centers = np.ascontiguousarray(XT[:, rng.choice(3000, k, replace=False)].T)
    state = {name: (np.full(3000, -1, dtype=np.int32), np.zeros((k, 3)), np.zeros(k)) for name in ("general", "colour")}
    for _ in range(4):
        norms = _kmeans._squared_norms(centers)
        changed = {name: step(XT, w, centers, norms, *state[name])
                   for name, step in (("general", kernels.assign_and_accumulate), ("colour", kernels.lloyd_step_colour))}
        assert changed["general"] == changed["colour"]
        for general, colour in zip(state["general"], state["colour"]):
            np.testing.assert_array_equal(colour, general)
            assert np.array_equal(np.signbit(colour), np.signbit(general))
        labels, sums, weights = state["general"]
        centers = np.ascontiguousarray(np.where(weights[:, None] > 0, sums / np.maximum(weights, 1e-300)[:, None],
                                                centers))

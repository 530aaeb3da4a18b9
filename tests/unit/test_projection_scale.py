"""Maps of large collections: UMAP on a sample, the rest placed by their sampled neighbours.

The data is tests/manifold_vectors.py's (overlapping clusters on a curved manifold in 1408-d),
where a full UMAP fit keeps clearly less than every neighbour, so a worse method shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from reelscope.projection import ProjectionParams, pca_preview, project
from reelscope.projection_scale import place_by_neighbours, reduce_rows, sample_rows
from tests.manifold_vectors import manifold_vectors
from tests.map_quality import neighbour_agreement, probe_rows, true_neighbours

SAMPLED_NOTE = "placed by their nearest sampled neighbours"
# The sampled map may keep at most this much less of the original space's 10-NN than a full
# fit of the same rows (the bench goal, projection_100k_knn_delta >= -0.02).
MARGIN = 0.02


@pytest.fixture(scope="module")
def rows_20k() -> np.ndarray:
    vectors, _ = manifold_vectors(20_000, seed=1)
    return vectors


def test_a_sampled_map_keeps_the_neighbours_a_full_fit_keeps(rows_20k):
    probes = probe_rows(len(rows_20k))
    truth = true_neighbours(rows_20k, probes)
    full = project(rows_20k, ProjectionParams(sample_above=len(rows_20k)))
    sampled = project(rows_20k, ProjectionParams(sample_above=5_000, sample_size=5_000))
    assert full.note is None and SAMPLED_NOTE in sampled.note
    assert sampled.method == "umap" and sampled.coords.shape == (len(rows_20k), 2)
    assert np.isfinite(sampled.coords).all()
    full_score = neighbour_agreement(full.coords, probes, truth)
    sampled_score = neighbour_agreement(sampled.coords, probes, truth)
    print(f"10-NN agreement: full {full_score:.4f}, sampled {sampled_score:.4f}")
    assert full_score < 0.5  # data where a full fit keeps far from every neighbour
    assert sampled_score >= full_score - MARGIN


def test_a_sampled_map_is_the_same_with_the_same_seed(rows_20k):
    rows = rows_20k[:6_000]
    params = ProjectionParams(sample_above=3_000, sample_size=2_000, seed=3)
    first = project(rows, params)
    again = project(rows, params)
    assert SAMPLED_NOTE in first.note
    assert np.array_equal(first.coords, again.coords)
    other = project(rows, ProjectionParams(sample_above=3_000, sample_size=2_000, seed=4))
    assert not np.array_equal(first.coords, other.coords)


def test_collections_up_to_the_threshold_are_fitted_whole(rows_20k):
    rows = rows_20k[:400]
    whole = project(rows, ProjectionParams(sample_above=400, sample_size=100))
    sampled = project(rows, ProjectionParams(sample_above=399, sample_size=100))
    assert whole.note is None and whole.method == "umap"
    assert "100 of 400 points" in sampled.note


def test_the_stored_key_changes_with_how_a_large_map_is_made():
    keys = {
        ProjectionParams().key("h"),
        ProjectionParams(sample_size=5_000).key("h"),
        ProjectionParams(sample_above=50_000).key("h"),
        ProjectionParams(place_k=5).key("h"),
        ProjectionParams(place_sharpness=30.0).key("h"),
        ProjectionParams(seed=1).key("h"),
    }
    assert len(keys) == 6


def test_sample_rows_are_distinct_sorted_and_seeded():
    rows = sample_rows(1_000, 100, seed=0)
    assert len(set(rows.tolist())) == 100 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, sample_rows(1_000, 100, seed=0))
    assert not np.array_equal(rows, sample_rows(1_000, 100, seed=1))
    assert np.array_equal(sample_rows(50, 100, seed=0), np.arange(50))


def test_placement_keeps_sampled_rows_and_puts_a_copy_on_its_original(rows_20k):
    rows = np.concatenate([rows_20k[:500], rows_20k[:5]])  # the last 5 repeat sampled rows
    sample = np.arange(500)
    reduced = reduce_rows(rows, sample, dims=50, seed=0)
    sample_coords = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    coords = place_by_neighbours(reduced, sample, sample_coords, k=10, sharpness=100.0)
    assert np.array_equal(coords[:500], sample_coords)
    # a copy's best neighbour is its original (cosine 1): it carries by far the most weight
    assert np.abs(coords[500:] - sample_coords[:5]).max() < 0.5
    assert np.isfinite(coords).all()


def test_reduce_rows_reads_chunks_of_a_memory_mapped_matrix(tmp_path, rows_20k):
    path = tmp_path / "vectors.npy"
    np.save(path, rows_20k)
    mapped = np.load(path, mmap_mode="r")
    sample = sample_rows(len(mapped), 2_000, seed=0)
    reduced = reduce_rows(mapped, sample, dims=50, seed=0)
    assert reduced.shape == (len(mapped), 50) and reduced.dtype == np.float32
    assert np.allclose(np.linalg.norm(reduced, axis=1), 1, atol=1e-4)
    assert np.array_equal(reduced, reduce_rows(np.asarray(rows_20k), sample, dims=50, seed=0))


def test_a_large_preview_is_the_pca_of_a_sample_applied_to_every_row(rows_20k, monkeypatch):
    from reelscope import projection

    rows = rows_20k[:3_000]
    small = pca_preview(rows, 2)
    monkeypatch.setattr(projection, "SAMPLE_ABOVE", 1_000)  # as a collection above it
    large = pca_preview(rows, 2)
    assert large.coords.shape == small.coords.shape == (3_000, 2)
    # the sample's axes are the whole's up to sign: each coordinate correlates ~±1
    for axis in range(2):
        assert abs(np.corrcoef(large.coords[:, axis], small.coords[:, axis])[0, 1]) > 0.95

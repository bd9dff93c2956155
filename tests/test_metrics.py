"""Ranking metrics: hand-computed cases, edge cases and agreement with a per-query reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.metrics import reference_evaluate
from hpl.metrics import RankingResult, evaluate_i2i, evaluate_t2i, format_results


def assert_same_result(actual: RankingResult, expected: RankingResult) -> None:
    assert actual.num_valid == expected.num_valid
    assert actual.num_skipped == expected.num_skipped
    assert actual.r1 == pytest.approx(expected.r1, abs=1e-9)
    assert actual.r5 == pytest.approx(expected.r5, abs=1e-9)
    assert actual.r10 == pytest.approx(expected.r10, abs=1e-9)
    assert actual.map == pytest.approx(expected.map, abs=1e-9)
    assert actual.minp == pytest.approx(expected.minp, abs=1e-9)
    np.testing.assert_allclose(actual.cmc, expected.cmc, rtol=0, atol=1e-9)


def test_i2i_positive_negative_alternating() -> None:
    # Ranked list P, N, P, N: the gallery sims are in ranking order, all on other cameras.
    simmat = np.array([[0.9, 0.8, 0.7, 0.6]])
    result = evaluate_i2i(simmat, [1], [1, 2, 1, 3], [0], [1, 1, 1, 1])
    assert result.r1 == 100.0
    assert result.map == pytest.approx(100 * (1 / 1 + 2 / 3) / 2)
    assert result.minp == pytest.approx(100 * 2 / 3)
    assert result.num_valid == 1
    assert result.num_skipped == 0


def test_i2i_same_camera_removed() -> None:
    # Query (pid 1, cam 1); gallery in ranking order (1, c1), (0, c2), (1, c3), (2, c1).
    simmat = np.array([[0.9, 0.8, 0.7, 0.6]])
    g_pids, g_camids = [1, 0, 1, 2], [1, 2, 3, 1]
    result = evaluate_i2i(simmat, [1], g_pids, [1], g_camids)
    assert result.r1 == 0.0
    assert result.cmc[1] == 100.0
    assert result.map == pytest.approx(50.0)
    assert result.minp == pytest.approx(50.0)


def test_i2i_without_removal_counts_same_camera() -> None:
    # The same gallery scored as T2I keeps the same-camera match: R1 = 1, AP = 0.8333.
    simmat = np.array([[0.9, 0.8, 0.7, 0.6]])
    result = evaluate_t2i(simmat, [1], [1, 0, 1, 2])
    assert result.r1 == 100.0
    assert result.map == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_t2i_three_image_case() -> None:
    # Person A is pid 0 and person B pid 1; gallery pids A, A, B.
    simmat = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.3]])
    result = evaluate_t2i(simmat, [0, 1], [0, 0, 1])
    assert result.r1 == pytest.approx(50.0)
    assert result.r5 == pytest.approx(100.0)
    assert result.map == pytest.approx(66.6667, abs=1e-3)
    assert result.minp == pytest.approx(58.3333, abs=1e-3)
    assert result.num_valid == 2


def test_query_without_positive_skipped() -> None:
    simmat = np.array([[0.9, 0.8], [0.1, 0.2], [0.5, 0.4]])
    # Query 1 has pid 7, absent from the gallery; query 2 only matches on its own camera.
    result = evaluate_i2i(simmat, [1, 7, 2], [1, 2], [0, 0, 1], [1, 1])
    assert result.num_valid == 1
    assert result.num_skipped == 2
    assert result.r1 == 100.0
    assert np.isfinite(result.map)


def test_all_queries_skipped_reports_zero() -> None:
    result = evaluate_t2i(np.array([[0.3, 0.2]]), [5], [1, 2])
    assert result.num_valid == 0
    assert result.num_skipped == 1
    assert result.map == 0.0
    assert result.minp == 0.0
    assert not np.isnan(result.cmc).any()


def test_empty_gallery_skips_every_query() -> None:
    result = evaluate_i2i(np.zeros((3, 0)), [1, 2, 3], [], [0, 0, 0], [])
    assert result.num_valid == 0
    assert result.num_skipped == 3


def test_no_queries() -> None:
    result = evaluate_t2i(np.zeros((0, 4)), [], [1, 2, 3, 4])
    assert result.num_valid == 0
    assert result.num_skipped == 0


def test_one_image_gallery() -> None:
    result = evaluate_t2i(np.array([[0.5], [0.1]]), [1, 2], [1])
    assert result.num_valid == 1
    assert result.num_skipped == 1
    assert result.r1 == 100.0
    assert result.r10 == 100.0
    np.testing.assert_allclose(result.cmc, np.full(10, 100.0))


def test_small_gallery_pads_cmc() -> None:
    # Three images, positive ranked third: CMC is 0, 0, 100 and stays at 100 up to max_rank.
    result = evaluate_t2i(np.array([[0.9, 0.8, 0.1]]), [1], [2, 3, 1], max_rank=10)
    np.testing.assert_allclose(result.cmc, [0, 0] + [100.0] * 8)
    assert result.r5 == 100.0
    assert result.cmc.shape == (10,)


def test_ties_follow_gallery_order() -> None:
    # All similarities equal: the ranking is the gallery order, so the positive at index 2 is third.
    simmat = np.full((1, 4), 0.5)
    result = evaluate_t2i(simmat, [1], [2, 3, 1, 4])
    assert result.r1 == 0.0
    assert result.cmc[2] == 100.0
    assert result.map == pytest.approx(100 / 3)


def test_ties_positive_first_in_gallery_order() -> None:
    simmat = np.array([[0.5, 0.5, 0.9]])
    result = evaluate_t2i(simmat, [1], [1, 2, 3])
    assert result.cmc[0] == 0.0
    assert result.cmc[1] == 100.0


def test_torch_input_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    simmat = rng.standard_normal((20, 50)).astype(np.float32)
    q_pids, g_pids = rng.integers(0, 5, 20), rng.integers(0, 5, 50)
    q_camids, g_camids = rng.integers(0, 3, 20), rng.integers(0, 3, 50)
    from_numpy = evaluate_i2i(simmat, q_pids, g_pids, q_camids, g_camids)
    from_torch = evaluate_i2i(
        torch.from_numpy(simmat),
        torch.from_numpy(q_pids),
        torch.from_numpy(g_pids),
        torch.from_numpy(q_camids),
        torch.from_numpy(g_camids),
    )
    assert_same_result(from_torch, from_numpy)


def test_half_precision_torch_input() -> None:
    simmat = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.8, 0.3]], dtype=torch.float16)
    result = evaluate_t2i(simmat, torch.tensor([0, 1]), torch.tensor([0, 0, 1]))
    assert result.map == pytest.approx(66.6667, abs=1e-3)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_similarity_rejected(bad_value: float) -> None:
    simmat = np.array([[0.9, bad_value, 0.5]])
    with pytest.raises(ValueError, match="non-finite"):
        evaluate_t2i(simmat, [1], [1, 2, 3])


def test_label_length_mismatch_rejected() -> None:
    with pytest.raises(ValueError, match="g_pids"):
        evaluate_t2i(np.zeros((1, 3)), [1], [1, 2])


def test_one_dimensional_simmat_rejected() -> None:
    with pytest.raises(ValueError, match="2-D"):
        evaluate_t2i(np.zeros(3), [1], [1, 2, 3])


def test_max_rank_below_one_rejected() -> None:
    with pytest.raises(ValueError, match="max_rank"):
        evaluate_t2i(np.zeros((1, 3)), [1], [1, 2, 3], max_rank=0)


@pytest.mark.parametrize("seed", range(6))
def test_i2i_agrees_with_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    num_queries, num_gallery = rng.integers(1, 60), rng.integers(1, 300)
    simmat = rng.standard_normal((num_queries, num_gallery)).astype(np.float32)
    if seed % 2:
        simmat = np.round(simmat, 1)  # many exact ties
    q_pids, g_pids = rng.integers(0, 8, num_queries), rng.integers(0, 8, num_gallery)
    q_camids, g_camids = rng.integers(0, 3, num_queries), rng.integers(0, 3, num_gallery)
    for max_rank in (1, 5, 20):
        actual = evaluate_i2i(simmat, q_pids, g_pids, q_camids, g_camids, max_rank=max_rank)
        expected = reference_evaluate(simmat, q_pids, g_pids, q_camids, g_camids, max_rank=max_rank)
        assert_same_result(actual, expected)


@pytest.mark.parametrize("seed", range(6))
def test_t2i_agrees_with_reference(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    num_queries, num_gallery = rng.integers(1, 60), rng.integers(1, 300)
    simmat = rng.standard_normal((num_queries, num_gallery))  # float64 path
    if seed % 2:
        simmat = np.round(simmat, 1)
    q_pids, g_pids = rng.integers(0, 10, num_queries), rng.integers(0, 10, num_gallery)
    actual = evaluate_t2i(simmat, q_pids, g_pids)
    expected = reference_evaluate(simmat, q_pids, g_pids)
    assert_same_result(actual, expected)


def test_chunked_evaluation_agrees_with_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny chunk size forces many chunks, including a last partial one.
    monkeypatch.setattr("hpl.metrics._CHUNK_ENTRIES", 700)
    rng = np.random.default_rng(7)
    simmat = rng.standard_normal((45, 200)).astype(np.float32)
    q_pids, g_pids = rng.integers(0, 6, 45), rng.integers(0, 6, 200)
    q_camids, g_camids = rng.integers(0, 2, 45), rng.integers(0, 2, 200)
    actual = evaluate_i2i(simmat, q_pids, g_pids, q_camids, g_camids)
    expected = reference_evaluate(simmat, q_pids, g_pids, q_camids, g_camids)
    assert_same_result(actual, expected)


def test_format_results_table() -> None:
    result = evaluate_t2i(np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.3]]), [0, 1], [0, 0, 1])
    table = format_results({"T2I": result})
    lines = table.splitlines()
    assert lines[0].startswith("| task | R1 | R5 | R10 | mAP | mINP |")
    assert lines[2] == "| T2I | 50.00 | 100.00 | 100.00 | 66.67 | 58.33 | 2 | 0 |"


@pytest.mark.parametrize("entries_per_bucket", [1, 1000])
def test_bucket_grid_size_does_not_change_results(
    monkeypatch: pytest.MonkeyPatch, entries_per_bucket: int
) -> None:
    # One bucket per row compares everything exactly; one entry per bucket compares almost nothing.
    monkeypatch.setattr("hpl.metrics._ENTRIES_PER_BUCKET", entries_per_bucket)
    rng = np.random.default_rng(11)
    simmat = np.round(rng.standard_normal((40, 250)), 1).astype(np.float32)
    q_pids, g_pids = rng.integers(0, 5, 40), rng.integers(0, 5, 250)
    q_camids, g_camids = rng.integers(0, 3, 40), rng.integers(0, 3, 250)
    actual = evaluate_i2i(simmat, q_pids, g_pids, q_camids, g_camids)
    expected = reference_evaluate(simmat, q_pids, g_pids, q_camids, g_camids)
    assert_same_result(actual, expected)


@pytest.mark.parametrize(
    "values",
    [
        np.full((3, 50), 0.25, dtype=np.float32),  # every entry tied: a zero-width grid
        np.linspace(-3e38, 3e38, 150, dtype=np.float32).reshape(3, 50),  # the grid width overflows
        np.linspace(0.5, 0.5 + 50 * np.finfo(np.float32).eps, 150, dtype=np.float32).reshape(3, 50),
    ],
    ids=["all-tied", "huge-range", "tiny-range"],
)
def test_degenerate_similarity_ranges(values: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    simmat = rng.permuted(values, axis=1)
    q_pids, g_pids = np.array([0, 1, 2]), rng.integers(0, 3, 50)
    q_camids, g_camids = np.zeros(3, dtype=int), rng.integers(0, 2, 50)
    assert_same_result(
        evaluate_i2i(simmat, q_pids, g_pids, q_camids, g_camids),
        reference_evaluate(simmat, q_pids, g_pids, q_camids, g_camids),
    )
    assert_same_result(evaluate_t2i(simmat, q_pids, g_pids), reference_evaluate(simmat, q_pids, g_pids))

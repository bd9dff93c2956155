"""Time hpl.metrics against a per-query reference on a Market-sized evaluation.

Run from the repository root: `python -m benchmarks.metrics`.

The reference ranks each query with a full stable argsort and scores it with plain numpy, as the
torchreid and fast-reid loops do. The tests in tests/test_metrics.py also import it as the
ground truth for the vectorised code.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from hpl.metrics import RankingResult, evaluate_i2i, evaluate_t2i


def reference_evaluate(
    simmat: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray | None = None,
    g_camids: np.ndarray | None = None,
    max_rank: int = 10,
) -> RankingResult:
    """Score one query at a time; I2I when camids are given, else T2I.

    simmat: (Q, G), higher is closer. Returns the same fields as hpl.metrics.
    """
    num_queries, num_gallery = simmat.shape
    cmc_hits, average_precisions, inverse_precisions, first_ranks = [], [], [], []
    for query in range(num_queries):
        order = np.argsort(-simmat[query], kind="stable")
        matches = g_pids[order] == q_pids[query]
        if q_camids is not None and g_camids is not None:
            removed = matches & (g_camids[order] == q_camids[query])
            matches = matches[~removed]
        if not matches.any():
            continue

        positions = np.flatnonzero(matches) + 1  # 1-based ranks of the positives
        hits = np.cumsum(matches)
        cmc_hits.append(np.minimum(hits, 1))
        first_ranks.append(positions[0])
        average_precisions.append(np.mean(np.arange(1, positions.size + 1) / positions))
        inverse_precisions.append(positions.size / positions[-1])

    num_valid = len(first_ranks)
    if num_valid == 0:
        return RankingResult(0.0, 0.0, 0.0, 0.0, 0.0, np.zeros(max_rank), 0, num_queries)

    first = np.asarray(first_ranks)
    cmc = np.zeros(max_rank)
    for hits in cmc_hits:
        padded = np.concatenate([hits, np.full(max(0, max_rank - hits.size), hits[-1])])
        cmc += padded[:max_rank]
    return RankingResult(
        r1=float(np.mean(first <= 1) * 100),
        r5=float(np.mean(first <= 5) * 100),
        r10=float(np.mean(first <= 10) * 100),
        map=float(np.mean(average_precisions) * 100),
        minp=float(np.mean(inverse_precisions) * 100),
        cmc=cmc / num_valid * 100,
        num_valid=num_valid,
        num_skipped=num_queries - num_valid,
    )


def make_market_like(
    num_queries: int,
    num_gallery: int,
    num_pids: int,
    num_cameras: int,
    dim: int,
    noise: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build a random (Q, G) simmat with identity structure, and pids and camids for both sides.

    Features are a per-identity centre plus noise, so the rankings are neither perfect nor random.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_pids, dim)).astype(np.float32)
    q_pids = rng.integers(0, num_pids, num_queries)
    g_pids = rng.integers(0, num_pids, num_gallery)
    q_camids = rng.integers(0, num_cameras, num_queries)
    g_camids = rng.integers(0, num_cameras, num_gallery)

    q_features = centres[q_pids] + noise * rng.standard_normal((num_queries, dim)).astype(np.float32)
    g_features = centres[g_pids] + noise * rng.standard_normal((num_gallery, dim)).astype(np.float32)
    q_features /= np.linalg.norm(q_features, axis=1, keepdims=True)
    g_features /= np.linalg.norm(g_features, axis=1, keepdims=True)
    simmat = q_features @ g_features.T
    return simmat, q_pids, g_pids, q_camids, g_camids


def results_match(left: RankingResult, right: RankingResult, tolerance: float = 1e-6) -> bool:
    """Compare every score, the CMC curve and the query counts."""
    scores_left = [left.r1, left.r5, left.r10, left.map, left.minp]
    scores_right = [right.r1, right.r5, right.r10, right.map, right.minp]
    return (
        np.allclose(scores_left, scores_right, rtol=0, atol=tolerance)
        and np.allclose(left.cmc, right.cmc, rtol=0, atol=tolerance)
        and left.num_valid == right.num_valid
        and left.num_skipped == right.num_skipped
    )


def describe_machine() -> str:
    """Describe the CPU, thread settings and library versions behind the figures."""
    cpu_model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    import torch

    return (
        f"- CPU: {cpu_model}, nproc {os.cpu_count()}\n"
        f"- Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} intra-op threads)"
    )


# Noise levels of the benchmark and what they resemble. The last one is the worst case for any
# shortcut that skips gallery entries ranked behind every positive: nearly none can be skipped.
NOISE_LEVELS = {
    "trained-model-like": 1.0,
    "weak model": 1.5,
    "no identity signal (worst case)": 100.0,
}


def time_call(function: Callable[[], RankingResult]) -> tuple[RankingResult, float]:
    """Run `function` once and return its result and the wall time in seconds."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=3000, help="number of queries (Q)")
    parser.add_argument("--gallery", type=int, default=15000, help="number of gallery images (G)")
    parser.add_argument("--pids", type=int, default=750, help="number of identities")
    parser.add_argument("--cameras", type=int, default=6, help="number of cameras")
    parser.add_argument("--dim", type=int, default=64, help="feature width used to build the simmat")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()

    print(
        f"## Metrics: {args.queries} queries x {args.gallery} gallery, {args.pids} pids, {args.cameras} cameras\n"
    )
    print(describe_machine() + "\n")
    print(
        f"Features: a random centre per identity ({args.dim}-d) plus Gaussian noise of the given "
        "standard deviation per coordinate, L2-normalised; simmat = q @ g.T (float32). "
        "Both sides run single-threaded numpy.\n"
    )
    print(
        "| data | noise | task | mAP | mINP | vectorised (s) | per-query reference (s) | speed-up | same numbers |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")

    for setting, noise in NOISE_LEVELS.items():
        simmat, q_pids, g_pids, q_camids, g_camids = make_market_like(
            args.queries, args.gallery, args.pids, args.cameras, args.dim, noise, args.seed
        )
        i2i_args = (simmat, q_pids, g_pids, q_camids, g_camids)
        t2i_args = (simmat, q_pids, g_pids)
        tasks = [
            ("I2I", partial(evaluate_i2i, *i2i_args), partial(reference_evaluate, *i2i_args)),
            ("T2I", partial(evaluate_t2i, *t2i_args), partial(reference_evaluate, *t2i_args)),
        ]
        for task, vectorised, reference in tasks:
            fast_result, fast_seconds = time_call(vectorised)
            reference_result, reference_seconds = time_call(reference)
            same = results_match(fast_result, reference_result)
            print(
                f"| {setting} | {noise} | {task} | {fast_result.map:.2f} | {fast_result.minp:.2f} "
                f"| {fast_seconds:.3f} | {reference_seconds:.3f} "
                f"| {reference_seconds / fast_seconds:.1f}x | {same} |"
            )


if __name__ == "__main__":
    main()

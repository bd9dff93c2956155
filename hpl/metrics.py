"""Ranking metrics for image-to-image (I2I) and text-to-image (T2I) person retrieval.

Both tasks report CMC (R1, R5, R10), mAP and mINP, in percent.

- I2I follows the Market-1501 protocol of torchreid and fast-reid: for each query, the gallery
  entries with the query's pid and camid are removed before scoring, and a query left without any
  positive is skipped and counted.
- T2I follows IRRA: every gallery image of the query's person is a positive and nothing is removed.
  A query whose person is missing from the gallery is skipped and counted here, where IRRA crashes.

mINP follows fast-reid: the number of positives divided by the 1-based rank of the last positive in
the filtered ranking.

Ties in similarity are broken by gallery order, so the ranking is the one that a stable
`argsort(-simmat)` produces.

The implementation never sorts a gallery row. CMC, AP and INP only need the rank of every
positive in the filtered list. Each row's entries are bucketed on a uniform grid between its least
similar positive and its maximum, with about four entries per bucket. The bucket counts give, for
each positive, the number of entries in higher buckets. The few entries that share a bucket with a
positive are then ordered exactly. The cost is a handful of linear passes over the similarity matrix,
whatever the model's quality. benchmarks/metrics.py measures it against a per-query full sort.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

logger = logging.getLogger(__name__)

# Upper bound on the number of similarity entries (queries x gallery) handled at once. Each entry
# costs about 20 bytes of temporaries (a float copy, bucket numbers, a mask and the histogram), so
# a chunk stays near 10 MB and in cache.
_CHUNK_ENTRIES = 500_000

# Average gallery entries per bucket of the similarity grid (see _score_chunk). Fewer buckets keep
# the per-row histograms in cache; more shrink the set of entries that are compared exactly.
_ENTRIES_PER_BUCKET = 4

ArrayLike = np.ndarray | torch.Tensor | Sequence[float] | Sequence[int]


@dataclass(frozen=True)
class RankingResult:
    """Retrieval metrics averaged over the valid queries.

    r1, r5, r10, map and minp are percentages in [0, 100]. `cmc` is the CMC curve in percent
    (shape (max_rank,), entry i is the hit rate within the top i + 1). When the gallery is shorter
    than max_rank, the curve stays at its last value. `num_valid` counts the queries that had at
    least one positive, `num_skipped` those that had none and were left out of every mean.
    """

    r1: float
    r5: float
    r10: float
    map: float
    minp: float
    cmc: np.ndarray
    num_valid: int
    num_skipped: int


def evaluate_i2i(
    simmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    max_rank: int = 10,
) -> RankingResult:
    """Score an I2I ranking with the Market-1501 protocol.

    simmat: (Q, G), higher is closer. q_pids, q_camids: (Q,). g_pids, g_camids: (G,).
    Gallery entries with the same pid and camid as the query are removed for that query.
    Other people seen by the query's camera stay as negatives, and distractors (pid 0) stay too.
    Numpy arrays and torch tensors are both accepted.

    Raises ValueError on shape mismatches, non-finite similarities or max_rank < 1.
    """
    sims = _as_simmat(simmat)
    q_pid_array = _as_labels(q_pids, "q_pids", sims.shape[0])
    g_pid_array = _as_labels(g_pids, "g_pids", sims.shape[1])
    q_camid_array = _as_labels(q_camids, "q_camids", sims.shape[0])
    g_camid_array = _as_labels(g_camids, "g_camids", sims.shape[1])
    return _evaluate(sims, q_pid_array, g_pid_array, q_camid_array, g_camid_array, max_rank)


def evaluate_t2i(
    simmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    max_rank: int = 10,
) -> RankingResult:
    """Score a T2I ranking with the IRRA protocol (no camera filtering).

    simmat: (Q, G) caption-to-image similarities, higher is closer. q_pids: (Q,), g_pids: (G,).
    Every gallery image of the caption's person is a positive.
    Numpy arrays and torch tensors are both accepted.

    Raises ValueError on shape mismatches, non-finite similarities or max_rank < 1.
    """
    sims = _as_simmat(simmat)
    q_pid_array = _as_labels(q_pids, "q_pids", sims.shape[0])
    g_pid_array = _as_labels(g_pids, "g_pids", sims.shape[1])
    return _evaluate(sims, q_pid_array, g_pid_array, None, None, max_rank)


def format_results(results: Mapping[str, RankingResult], digits: int = 2) -> str:
    """Format one Markdown table row per named result, for logs and reports.

    Example: `format_results({"I2I": i2i_result, "T2I": t2i_result})`.
    """
    header = "| task | R1 | R5 | R10 | mAP | mINP | queries | skipped |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    lines = [header, rule]
    for name, result in results.items():
        scores = [result.r1, result.r5, result.r10, result.map, result.minp]
        cells = [f"{score:.{digits}f}" for score in scores]
        lines.append(f"| {name} | {' | '.join(cells)} | {result.num_valid} | {result.num_skipped} |")
    return "\n".join(lines)


def _as_simmat(simmat: ArrayLike) -> np.ndarray:
    """Convert the similarity matrix to a float numpy array and validate it."""
    if isinstance(simmat, torch.Tensor):
        simmat = simmat.detach().cpu()
        if simmat.dtype not in (torch.float32, torch.float64):
            simmat = simmat.to(torch.float64)
        sims = simmat.numpy()
    else:
        sims = np.asarray(simmat)

    if sims.ndim != 2:
        raise ValueError(f"simmat must be 2-D (Q, G), got shape {sims.shape}")
    if sims.dtype not in (np.float32, np.float64):
        # float64 represents every float16 and int32 value exactly, so the order is kept.
        sims = sims.astype(np.float64)
    if not _all_finite(sims):
        bad = int((~np.isfinite(sims)).sum())
        raise ValueError(
            f"simmat contains {bad} non-finite values (NaN or inf); check the features that produced it"
        )
    return sims


def _all_finite(values: np.ndarray) -> bool:
    """Check that no entry is NaN or infinite, with one reduction in the common case.

    A NaN or an infinity makes the float64 sum non-finite, so a finite sum proves every entry finite.
    A non-finite sum can also come from overflow, which the element-wise check then settles.
    """
    if np.isfinite(values.sum(dtype=np.float64)):
        return True
    return bool(np.isfinite(values).all())


def _as_labels(labels: ArrayLike, name: str, expected_length: int) -> np.ndarray:
    """Convert pids or camids to a 1-D int64 numpy array of the expected length."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    values = np.asarray(labels).reshape(-1).astype(np.int64)
    if values.size != expected_length:
        raise ValueError(f"{name} has {values.size} entries but simmat has {expected_length} along that axis")
    return values


def _evaluate(
    sims: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray | None,
    g_camids: np.ndarray | None,
    max_rank: int,
) -> RankingResult:
    """Score every query chunk by chunk and average over the valid queries."""
    if max_rank < 1:
        raise ValueError(f"max_rank must be at least 1, got {max_rank}")

    num_queries, num_gallery = sims.shape
    chunk_size = max(1, _CHUNK_ENTRIES // max(num_gallery, 1))
    same_rows, same_cols = _same_pid_entries(q_pids, g_pids)
    first_ranks = [np.zeros(0, dtype=np.int64)]
    average_precisions = [np.zeros(0)]
    inverse_precisions = [np.zeros(0)]
    for start in range(0, num_queries, chunk_size):
        stop = min(start + chunk_size, num_queries)
        low, high = np.searchsorted(same_rows, [start, stop])
        q_camid_chunk = None if q_camids is None else q_camids[start:stop]
        first, ap, inp = _score_chunk(
            sims[start:stop],
            (same_rows[low:high] - start, same_cols[low:high]),
            q_pids[start:stop],
            g_pids,
            q_camid_chunk,
            g_camids,
        )
        first_ranks.append(first)
        average_precisions.append(ap)
        inverse_precisions.append(inp)

    return _summarise(
        np.concatenate(first_ranks),
        np.concatenate(average_precisions),
        np.concatenate(inverse_precisions),
        num_queries,
        max_rank,
    )


def _score_chunk(
    sims: np.ndarray,
    same_pid: tuple[np.ndarray, np.ndarray],
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray | None,
    g_camids: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score the C queries of one chunk.

    sims: (C, G). same_pid: the (row, gallery index) pairs with equal pids, sorted by row.
    Returns, for the valid queries only (V of them, in query order): the 1-based
    filtered rank of the first positive (V,), the average precision (V,) and the inverse negative
    penalty (V,).
    """
    num_rows, num_gallery = sims.shape
    empty = np.zeros(0)
    if num_gallery == 0:
        return empty.astype(np.int64), empty, empty

    # Step 1: the entries sharing the query's pid. With camids, those that also share its camid
    # are removed (neither positive nor negative), and the others are the positives.
    same_rows, same_cols = same_pid
    if q_camids is None or g_camids is None:
        is_positive = np.ones(same_rows.size, dtype=bool)
    else:
        is_positive = q_camids[same_rows] != g_camids[same_cols]
    pos_rows, pos_cols = same_rows[is_positive], same_cols[is_positive]  # sorted by row
    num_positives = np.bincount(pos_rows, minlength=num_rows)  # (C,)
    pos_start = np.cumsum(num_positives) - num_positives
    valid_rows = np.flatnonzero(num_positives)
    if valid_rows.size == 0:
        return empty.astype(np.int64), empty, empty

    # Step 2: bucket every entry on a uniform grid spanning [least similar positive, row maximum],
    # and count the entries of each bucket.
    num_buckets = max(1, num_gallery // _ENTRIES_PER_BUCKET)
    slots = num_buckets + 1
    bucket = _bucket_entries(sims, num_buckets, pos_rows, pos_cols, pos_start, valid_rows)
    bucket[same_rows[~is_positive], same_cols[~is_positive]] = 0  # removed entries never count
    bucket += (np.arange(num_rows, dtype=bucket.dtype) * slots)[:, None]
    per_row = np.bincount(bucket.ravel(), minlength=num_rows * slots).reshape(num_rows, slots)
    # ahead_of_bucket[i]: entries in strictly higher buckets of the same row, all strictly more similar.
    ahead_of_bucket = (per_row.sum(axis=1, keepdims=True) - np.cumsum(per_row, axis=1)).ravel()

    # Step 3: entries sharing a bucket with a positive are ordered exactly: by similarity, then by
    # gallery index. Buckets never interleave, so sorting by (row, -similarity, index) keeps each
    # bucket contiguous and lists every row's positives in ranking order.
    shares_bucket = np.zeros(num_rows * slots, dtype=bool)
    shares_bucket[bucket[pos_rows, pos_cols]] = True
    near = np.flatnonzero(shares_bucket[bucket])
    near_rows, near_cols = np.divmod(near, num_gallery)
    near_keys = -sims[near_rows, near_cols]
    order = np.lexsort((near_cols, near_keys, near_rows))
    near, near_rows, near_cols = near[order], near_rows[order], near_cols[order]
    near_bucket = bucket.ravel()[near]
    starts_group = np.ones(near.size, dtype=bool)
    starts_group[1:] = near_bucket[1:] != near_bucket[:-1]
    group_start = np.maximum.accumulate(np.where(starts_group, np.arange(near.size), 0))
    ahead_in_bucket = np.arange(near.size) - group_start

    # Step 4: the 1-based rank of every positive in its row's filtered list.
    is_near_positive = q_pids[near_rows] == g_pids[near_cols]
    if q_camids is not None and g_camids is not None:
        is_near_positive &= q_camids[near_rows] != g_camids[near_cols]
    pos_ranks = 1 + ahead_of_bucket[near_bucket[is_near_positive]] + ahead_in_bucket[is_near_positive]

    # Step 5: AP is the mean precision at the positives, and INP uses the rank of the last positive.
    hits = np.arange(pos_ranks.size) - pos_start[pos_rows] + 1
    precision_sum = np.bincount(pos_rows, weights=hits / pos_ranks, minlength=num_rows)
    first_rank = pos_ranks[pos_start[valid_rows]]
    last_rank = pos_ranks[pos_start[valid_rows] + num_positives[valid_rows] - 1]
    average_precision = precision_sum[valid_rows] / num_positives[valid_rows]
    inverse_negative_penalty = num_positives[valid_rows] / last_rank
    return first_rank, average_precision, inverse_negative_penalty


def _same_pid_entries(q_pids: np.ndarray, g_pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """List the (row, gallery index) pairs with equal pids, sorted by row, then by gallery index.

    Groups the gallery by pid once, so the cost follows the number of pairs, not Q x G.
    """
    gallery_order = np.argsort(g_pids, kind="stable")
    sorted_pids = g_pids[gallery_order]
    first = np.searchsorted(sorted_pids, q_pids, side="left")
    counts = np.searchsorted(sorted_pids, q_pids, side="right") - first
    rows = np.repeat(np.arange(q_pids.size), counts)
    offset_in_row = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = gallery_order[np.repeat(first, counts) + offset_in_row]
    return rows, cols


def _bucket_entries(
    sims: np.ndarray,
    num_buckets: int,
    pos_rows: np.ndarray,
    pos_cols: np.ndarray,
    pos_start: np.ndarray,
    valid_rows: np.ndarray,
) -> np.ndarray:
    """Map each entry to a bucket 0..num_buckets of its row, monotone in similarity.

    Each row's grid has num_buckets equal buckets from its least similar positive to its maximum,
    numbered 1..num_buckets; entries below the grid go to bucket 0 (or 1 when within one bucket of
    the least similar positive). Every step (subtract, scale, clip, truncate) is monotone in
    floating point, so an entry in a higher bucket is strictly more similar. Entries that share a
    bucket are compared exactly by the caller. Returns (C, G) int32.
    """
    row_max = sims.max(axis=1)
    low = row_max.copy()  # rows without positives get an empty grid, and no positive reads it
    low[valid_rows] = np.minimum.reduceat(sims[pos_rows, pos_cols], pos_start[valid_rows])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        scale = num_buckets / (row_max - low)
    # A zero-width grid (every candidate equal) or an overflowing scale puts all candidates in
    # bucket 1, where the exact comparison settles them.
    scale[~np.isfinite(scale)] = 0
    with np.errstate(over="ignore", invalid="ignore"):
        position = sims - low[:, None]
        position *= scale[:, None]
    position[scale == 0] = 0
    np.clip(position, -1, num_buckets - 1, out=position)
    bucket = position.astype(np.int32)
    bucket += 1
    return bucket


def _summarise(
    first_ranks: np.ndarray,
    average_precisions: np.ndarray,
    inverse_precisions: np.ndarray,
    num_queries: int,
    max_rank: int,
) -> RankingResult:
    """Average the per-query scores of the valid queries into a RankingResult."""
    num_valid = int(first_ranks.size)
    num_skipped = num_queries - num_valid
    if num_skipped:
        logger.info(
            "%d of %d queries have no positive in the gallery and were skipped", num_skipped, num_queries
        )
    if num_valid == 0:
        # NOTE: with no valid query every score is reported as 0, not NaN; check num_valid.
        logger.warning("no query has a positive in the gallery; every score is reported as 0")
        return RankingResult(0.0, 0.0, 0.0, 0.0, 0.0, np.zeros(max_rank), 0, num_skipped)

    first = first_ranks
    cutoffs = np.arange(1, max_rank + 1)
    cmc = (first[:, None] <= cutoffs[None, :]).mean(axis=0) * 100.0

    def hit_rate(rank: int) -> float:
        return float((first <= rank).mean() * 100.0)

    return RankingResult(
        r1=hit_rate(1),
        r5=hit_rate(5),
        r10=hit_rate(10),
        map=float(average_precisions.mean() * 100.0),
        minp=float(inverse_precisions.mean() * 100.0),
        cmc=cmc,
        num_valid=num_valid,
        num_skipped=num_skipped,
    )

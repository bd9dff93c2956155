"""Time faiss gallery search (hpl.index) against a numpy full sort, and measure IVF recall.

Run from the repository root: `python -m benchmarks.search [--threads 2]`.

Part 1 compares exact faiss search (IndexFlatIP, one batch of 100 queries) with
`np.argsort(-gallery @ query)` per query on 10k, 100k and 1M random L2-normalised 512-d float32
vectors. Part 2 compares the two IVF options, ivf (exact distances within the probed lists) and
ivfpq (4-bit PQ codes, then exact re-ranking), with the default nlist and several nprobe values,
against exact faiss search at 1M: recall@10 and speed.
Uniformly random vectors have no neighbourhood structure, the worst case for IVF, so part 2 also
runs on clustered vectors (20 images around each of 50k random identity centres), closer to real
person features.
"""

from __future__ import annotations

import argparse
import os
import sys

# BLAS and OpenMP read their thread counts when numpy and faiss load, so set them first.
if __name__ == "__main__":
    _threads = "1"
    for position, argument in enumerate(sys.argv):
        if argument == "--threads" and position + 1 < len(sys.argv):
            _threads = sys.argv[position + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = _threads
    os.environ["OMP_NUM_THREADS"] = _threads
    os.environ["MKL_NUM_THREADS"] = _threads

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import TypeVar  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.metrics import describe_machine  # noqa: E402
from hpl.index import (  # noqa: E402
    IndexParams,
    create_faiss_index,
    default_ivfpq_nprobe,
    default_nlist,
    default_nprobe,
    train_faiss_index,
)

T = TypeVar("T")

DIM = 512
NUM_QUERIES = 100
BLOCK = 100_000  # rows generated at a time, to keep one copy of the gallery in memory


def random_unit_vectors(num_vectors: int, seed: int, centres: np.ndarray | None = None) -> np.ndarray:
    """Return (N, 512) L2-normalised float32 vectors: Gaussian, or around random `centres` rows."""
    rng = np.random.default_rng(seed)
    vectors = np.empty((num_vectors, DIM), dtype=np.float32)
    for start in range(0, num_vectors, BLOCK):
        stop = min(start + BLOCK, num_vectors)
        block = rng.standard_normal((stop - start, DIM), dtype=np.float32)
        if centres is not None:
            block *= 0.7
            block += centres[rng.integers(0, centres.shape[0], stop - start)]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start:stop] = block
    return vectors


def numpy_search(gallery: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Rank the whole gallery for each query with a full sort, as a plain numpy caller would."""
    return np.stack([np.argsort(-(gallery @ query))[:k] for query in queries])


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact top-k ids that `found` (Q, k) contains."""
    return float(
        np.mean(
            [np.intersect1d(row, truth).size / truth.size for row, truth in zip(found, exact, strict=True)]
        )
    )


def timed(function: Callable[..., T], *args: object) -> tuple[T, float]:
    """Call `function` once and return its result and the wall time in seconds."""
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def compare_exact(
    gallery: np.ndarray, queries: np.ndarray, numpy_queries: int
) -> tuple[faiss.Index, np.ndarray]:
    """Print faiss exact versus numpy per-query times on one gallery; return the index and top-10."""
    index = create_faiss_index(DIM, IndexParams(kind="flat"), gallery.shape[0])
    index.add(gallery)
    (_, faiss_ids), faiss_seconds = timed(index.search, queries, 10)
    numpy_ids, numpy_seconds = timed(numpy_search, gallery, queries[:numpy_queries], 10)

    faiss_per_query = faiss_seconds / queries.shape[0] * 1000
    numpy_per_query = numpy_seconds / numpy_queries * 1000
    same = recall(faiss_ids[:numpy_queries], numpy_ids)
    print(
        f"| {gallery.shape[0]:,} | {queries.shape[0]} | {faiss_per_query:.3f} | {numpy_queries} "
        f"| {numpy_per_query:.3f} | {numpy_per_query / faiss_per_query:.1f}x | {same:.3f} |",
        flush=True,
    )
    return index, faiss_ids


def compare_ivf(label: str, kind: str, gallery: np.ndarray, queries: np.ndarray, exact: faiss.Index) -> None:
    """Print recall@10 and speed of one IVF kind against exact search for several nprobe values."""
    (_, exact_ids), exact_seconds = timed(exact.search, queries, 10)
    nlist = default_nlist(gallery.shape[0])
    ivf = create_faiss_index(DIM, IndexParams(kind=kind), gallery.shape[0])
    start = time.perf_counter()
    train_faiss_index(ivf, gallery)
    ivf.add(gallery)
    build_seconds = time.perf_counter() - start

    default_probes = default_nprobe(nlist) if kind == "ivf" else default_ivfpq_nprobe(nlist)
    for nprobe in sorted(p for p in {8, 16, 32, 128, 256, default_probes} if p <= nlist):
        faiss.extract_index_ivf(ivf).nprobe = nprobe
        (_, ivf_ids), ivf_seconds = timed(ivf.search, queries, 10)
        default = " (default)" if nprobe == default_probes else ""
        print(
            f"| {label} | {kind} | {nlist} | {nprobe}{default} | {recall(ivf_ids, exact_ids):.3f} "
            f"| {ivf_seconds / queries.shape[0] * 1000:.3f} | {exact_seconds / queries.shape[0] * 1000:.3f} "
            f"| {exact_seconds / ivf_seconds:.1f}x | {build_seconds:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for faiss (OpenMP) and numpy (BLAS) alike"
    )
    parser.add_argument("--max-size", type=int, default=1_000_000, help="largest gallery size to run")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)

    print("## Gallery search: faiss (hpl.index) against numpy\n")
    print(describe_machine())
    print(
        f"- faiss {faiss.__version__}: {args.threads} OpenMP threads (faiss.omp_set_num_threads); numpy BLAS: "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} (set before import); "
        "np.argsort is single-threaded\n"
    )

    print("### Exact search: faiss IndexFlatIP against np.argsort(-gallery @ query), top-10\n")
    print(
        "| gallery | faiss queries | faiss ms/query | numpy queries | numpy ms/query | speed-up | same top-10 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    queries = random_unit_vectors(NUM_QUERIES, seed=1)
    sizes = [size for size in (10_000, 100_000, 1_000_000) if size <= args.max_size]
    exact = None
    for size in sizes:
        gallery = random_unit_vectors(size, seed=2)
        numpy_queries = NUM_QUERIES if size < 1_000_000 else 10
        exact, _ = compare_exact(gallery, queries, numpy_queries)
        if size != sizes[-1]:
            del gallery, exact

    print(f"\n### IVF against exact faiss search at {sizes[-1]:,} vectors, {NUM_QUERIES} queries, top-10\n")
    print("| data | kind | nlist | nprobe | recall@10 | IVF ms/query | exact ms/query | speed-up | build s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("ivf", "ivfpq"):
        compare_ivf("uniform random", kind, gallery, queries, exact)
    del gallery, exact

    num_identities = max(1, sizes[-1] // 20)
    centres = np.random.default_rng(3).standard_normal((num_identities, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True) / np.sqrt(DIM)
    gallery = random_unit_vectors(sizes[-1], seed=4, centres=centres)
    clustered_queries = random_unit_vectors(NUM_QUERIES, seed=5, centres=centres)
    exact = create_faiss_index(DIM, IndexParams(kind="flat"), gallery.shape[0])
    exact.add(gallery)
    for kind in ("ivf", "ivfpq"):
        compare_ivf(f"clustered ({num_identities:,} identities)", kind, gallery, clustered_queries, exact)


if __name__ == "__main__":
    main()

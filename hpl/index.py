"""Gallery index: two faiss indexes (I2I and T2I features) over one gallery, with metadata.

Each gallery image is embedded once into an I2I feature and a T2I feature, both L2-normalised
float32 of width D. This module stores them, searches them and saves them. It does not embed: the
caller passes the features, so it needs no model.

Saved layout (one folder, written atomically):
    manifest.json   format version, checkpoint fingerprint, gallery listing digest, D, counts,
                    index kind and parameters, creation time
    entries.json    per gallery entry: path relative to the gallery root, pid, camid, sha256
    i2i.faiss       faiss index of the I2I features (faiss.write_index)
    t2i.faiss       faiss index of the T2I features
Nothing is pickled. Loading checks the fingerprint and the listing digest against what the caller
expects and raises IndexMismatchError when either differs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
TASKS = ("i2i", "t2i")
KINDS = ("flat", "ivf", "ivfpq", "hnsw")
IVF_KINDS = ("ivf", "ivfpq")  # kinds built on k-means lists, with nlist and nprobe
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MANIFEST_NAME = "manifest.json"
ENTRIES_NAME = "entries.json"

# Largest allowed deviation of a feature's L2 norm from 1. Features are checked, never rescaled,
# because an unnormalised feature usually means the caller skipped a step of the model.
NORM_TOLERANCE = 1e-3

# Market-1501 names (0002_c1s1_000451_03.jpg, junk boxes start with -1) and DukeMTMC-reID names
# (0005_c2_f0046985.jpg): pid, then the 1-based camera number after "_c".
_LABELLED_NAME = re.compile(r"^(-?\d+)_c(\d+)(?:s\d+)?_")

# IVF defaults: about sqrt(G) lists, each trained on at most this many sampled vectors per list, so
# k-means stays fast at a million vectors. faiss warns below 39 training vectors per list.
_IVF_TRAINING_PER_LIST = 64
_IVF_MIN_PER_LIST = 39

# ivfpq codes: one 4-bit sub-quantizer (16 centroids) per 8 feature dimensions, which faiss scans
# with SIMD ("fast scan"). Training the 16 centroids well needs about 39 vectors per centroid.
_PQ_DIMS_PER_CODE = 8
_PQ_MIN_VECTORS = 16 * _IVF_MIN_PER_LIST

# faiss 1.15 searches a flat index query by query, without BLAS, while (queries x D) < 128000, a
# default tuned for machines with many OpenMP threads. With a few threads, one matrix product wins
# from about 4 queries of width 512: with faiss 1.15.1 on 2 cores, 16 queries on 100k vectors took
# 4 ms per query with BLAS and 13 ms without. So batches switch to BLAS there, unless the caller
# has already changed the threshold. The threshold is process-wide and is set on import.
_FAISS_DIMENSION_AWARE_BLAS_DEFAULT = 128_000
_BLAS_MIN_QUERY_ENTRIES = 4 * 512
if faiss.cvar.distance_compute_blas_threshold == _FAISS_DIMENSION_AWARE_BLAS_DEFAULT:
    faiss.cvar.distance_compute_blas_threshold = _BLAS_MIN_QUERY_ENTRIES


class IndexMismatchError(ValueError):
    """A saved index was built from another checkpoint, another gallery or another format."""


@dataclass(frozen=True)
class GalleryFile:
    """One image file of a gallery folder, as listed by scan_gallery."""

    path: str  # relative to the gallery root, with forward slashes
    size: int  # bytes
    mtime_ns: int


@dataclass(frozen=True)
class GalleryEntry:
    """Metadata of one indexed gallery image. pid and camid are -1 when the file name has none."""

    path: str  # relative to the gallery root, with forward slashes
    pid: int = -1
    camid: int = -1  # 0-based
    sha256: str = ""


@dataclass(frozen=True)
class SearchResult:
    """One ranked gallery match. score is the inner product (cosine similarity), rank is 1-based."""

    path: str
    score: float
    pid: int
    camid: int
    rank: int


@dataclass(frozen=True)
class IndexParams:
    """Kind of faiss index and its settings. Unset IVF settings are derived from the gallery size."""

    kind: str = "flat"  # "flat" (exact), "ivf", "ivfpq" or "hnsw"
    nlist: int | None = None  # IVF lists; default about sqrt(G), see default_nlist
    nprobe: int | None = None  # IVF lists visited per query; default see default_nprobe
    k_factor: int = 8  # ivfpq: candidates per requested result re-ranked with exact features
    hnsw_m: int = 32  # HNSW neighbours per node
    ef_construction: int = 80  # HNSW candidate list size while building
    ef_search: int = 128  # HNSW candidate list size while searching


def parse_pid_camid(file_name: str) -> tuple[int, int]:
    """Read (pid, 0-based camid) from a Market-1501 or DukeMTMC-reID file name, else (-1, -1)."""
    match = _LABELLED_NAME.match(Path(file_name).name)
    if match is None:
        return -1, -1
    return int(match.group(1)), int(match.group(2)) - 1


def is_identity_pid(pid: int) -> bool:
    """Tell whether a parsed pid names a person: Market-1501 uses 0000 for distractors and -1 for junk."""
    return pid > 0


def scan_gallery(
    folder: str | os.PathLike[str], extensions: Iterable[str] = IMAGE_EXTENSIONS
) -> list[GalleryFile]:
    """List the image files under `folder`, recursively, sorted by relative path.

    Extensions are matched case-insensitively. Raises FileNotFoundError when the folder is missing.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"gallery folder not found: {root}")

    suffixes = {
        extension.lower() if extension.startswith(".") else f".{extension.lower()}"
        for extension in extensions
    }
    files = []
    for path in root.rglob("*"):
        if path.suffix.lower() not in suffixes or not path.is_file():
            continue
        stat = path.stat()
        files.append(GalleryFile(path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    return sorted(files, key=lambda file: file.path)


def listing_digest(files: Iterable[GalleryFile]) -> str:
    """Hash the sorted (relative path, size, mtime_ns) triples of a gallery listing (sha256 hex).

    Any added, removed, resized or touched file changes the digest. File contents are not read.
    """
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda file: file.path):
        digest.update(f"{file.path}\t{file.size}\t{file.mtime_ns}\n".encode())
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hash a file's contents (sha256 hex), reading it in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gallery_entries(folder: str | os.PathLike[str], files: Sequence[GalleryFile]) -> list[GalleryEntry]:
    """Build the metadata of each listed file: labels from its name and the hash of its contents."""
    root = Path(folder)
    entries = []
    for file in files:
        pid, camid = parse_pid_camid(file.path)
        entries.append(GalleryEntry(file.path, pid, camid, file_sha256(root / file.path)))
    return entries


def default_nlist(num_vectors: int) -> int:
    """Number of IVF lists for a gallery of G vectors: about sqrt(G), at least 39 vectors per list."""
    by_size = round(math.sqrt(num_vectors))
    return max(1, min(by_size, num_vectors // _IVF_MIN_PER_LIST))


def default_nprobe(nlist: int) -> int:
    """IVF lists visited per query: a sixteenth of the lists, at least 8 (or all when fewer).

    NOTE: this favours speed. At 1M vectors (nlist 1000, nprobe 62) benchmarks/search.py measured
    recall@10 0.88 on clustered vectors and 0.17 on uniformly random ones. That is about 10x
    faster than exact search one query at a time, but slower than exact search over a batch of
    100 queries, which uses BLAS. ivfpq is the faster option for large galleries.
    """
    return min(nlist, max(8, nlist // 16))


def default_ivfpq_nprobe(nlist: int) -> int:
    """IVF lists visited per query by ivfpq: a quarter of the lists, at least 16 (or all when fewer).

    Compressed codes are cheap to scan, so ivfpq affords four times the lists of ivf. At 1M
    clustered vectors (nlist 1000) benchmarks/search.py measured recall@10 0.99 at 250 lists.
    """
    return min(nlist, max(16, nlist // 4))


def create_faiss_index(dim: int, params: IndexParams, num_vectors: int) -> faiss.Index:
    """Create an empty inner-product faiss index of width D for about `num_vectors` vectors.

    Kinds: "flat" is exact. "ivf" scans the nprobe closest of nlist k-means lists. "ivfpq" scans
    the same lists as 4-bit product-quantisation codes, then re-ranks the k * k_factor best
    candidates with the exact features. "hnsw" walks a neighbour graph.
    IVF indexes still need training (see train_faiss_index) before vectors are added.
    Raises ValueError for an unknown kind, or for ivfpq on a width not divisible by 8 or on fewer
    than 624 vectors.
    """
    if params.kind == "flat":
        return faiss.IndexFlatIP(dim)
    if params.kind == "ivf":
        nlist = params.nlist or default_nlist(num_vectors)
        index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        index.nprobe = params.nprobe or default_nprobe(nlist)
        return index
    if params.kind == "ivfpq":
        return _create_ivfpq_index(dim, params, num_vectors)
    if params.kind == "hnsw":
        index = faiss.index_factory(dim, f"HNSW{params.hnsw_m},Flat", faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        index.hnsw.efSearch = params.ef_search
        return index
    raise ValueError(f"unknown index kind {params.kind!r}; expected one of {', '.join(KINDS)}")


def _create_ivfpq_index(dim: int, params: IndexParams, num_vectors: int) -> faiss.Index:
    """Create IVF lists of fast-scan PQ codes, wrapped in an exact re-ranking step."""
    if dim % _PQ_DIMS_PER_CODE:
        raise ValueError(f"ivfpq needs a feature width divisible by {_PQ_DIMS_PER_CODE}, got {dim}; use ivf")
    if num_vectors < _PQ_MIN_VECTORS:
        raise ValueError(
            f"ivfpq needs at least {_PQ_MIN_VECTORS} gallery vectors to train its codes, got {num_vectors}; "
            "use flat, which is exact and fast at this size"
        )
    nlist = params.nlist or default_nlist(num_vectors)
    num_codes = dim // _PQ_DIMS_PER_CODE
    index = faiss.index_factory(dim, f"IVF{nlist},PQ{num_codes}x4fs,RFlat", faiss.METRIC_INNER_PRODUCT)
    faiss.extract_index_ivf(index).nprobe = params.nprobe or default_ivfpq_nprobe(nlist)
    index.k_factor = params.k_factor
    return index


def train_faiss_index(index: faiss.Index, vectors: np.ndarray, seed: int = 0) -> None:
    """Train an IVF index on the gallery vectors (G, D), or a sample of them; other kinds need nothing.

    At most 64 vectors per list are sampled, with a fixed seed, so k-means at 1M vectors and 1,000
    lists runs on 64k vectors instead of all of them.
    """
    if index.is_trained:
        return
    ivf = faiss.extract_index_ivf(index)
    num_samples = min(vectors.shape[0], ivf.nlist * _IVF_TRAINING_PER_LIST)
    if num_samples < vectors.shape[0]:
        rows = np.random.default_rng(seed).choice(vectors.shape[0], num_samples, replace=False)
        sample = vectors[np.sort(rows)]
    else:
        sample = vectors
    logger.info("training IVF index: %d lists on %d vectors", ivf.nlist, sample.shape[0])
    index.train(sample)


def validate_features(features: np.ndarray, dim: int | None, name: str) -> np.ndarray:
    """Check a (N, D) feature matrix and return it as C-contiguous float32.

    Raises ValueError when it is not 2-D, has the wrong width, contains NaN or inf, or has a row
    whose L2 norm differs from 1 by more than NORM_TOLERANCE.
    """
    array = np.asarray(features)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (N, D) array, got shape {array.shape}; use reshape(1, -1) for one vector"
        )
    if dim is not None and array.shape[1] != dim:
        raise ValueError(f"{name} has width {array.shape[1]}, but the index contains {dim}-d features")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.shape[0] == 0:
        return array

    finite_rows = np.isfinite(array).all(axis=1)
    if not finite_rows.all():
        bad_rows = np.flatnonzero(~finite_rows)
        raise ValueError(
            f"{name} has NaN or inf in {bad_rows.size} rows (first: row {bad_rows[0]}); "
            "check the images and the model that produced them"
        )
    norms = np.linalg.norm(array, axis=1)
    off_rows = np.flatnonzero(np.abs(norms - 1.0) > NORM_TOLERANCE)
    if off_rows.size:
        raise ValueError(
            f"{name} is not L2-normalised: row {off_rows[0]} has norm {norms[off_rows[0]]:.6f} "
            f"({off_rows.size} rows off by more than {NORM_TOLERANCE}); normalise the features first"
        )
    return array


class GalleryIndex:
    """Two faiss indexes, `i2i` and `t2i`, over the same gallery entries, with their metadata.

    Entry i of `entries` is vector i of both indexes. `fingerprint` identifies the checkpoint that
    produced the features and `listing_digest` the gallery folder (see listing_digest); both are
    stored by save and checked by load. Example:

        files = scan_gallery(root)
        index = GalleryIndex.build(gallery_entries(root, files), i2i_features, t2i_features,
                                   fingerprint=checkpoint_id, listing_digest=listing_digest(files))
        hits = index.search(text_features, task="t2i", k=10)
    """

    def __init__(
        self, dim: int, params: IndexParams | None = None, fingerprint: str = "", listing_digest: str = ""
    ) -> None:
        if dim < 1:
            raise ValueError(f"feature width must be positive, got {dim}")
        self.dim = dim
        self.params = params or IndexParams()
        if self.params.kind not in KINDS:
            raise ValueError(f"unknown index kind {self.params.kind!r}; expected one of {', '.join(KINDS)}")
        self.fingerprint = fingerprint
        self.listing_digest = listing_digest
        self.entries: list[GalleryEntry] = []
        self.i2i: faiss.Index | None = None
        self.t2i: faiss.Index | None = None

    @classmethod
    def build(
        cls,
        entries: Sequence[GalleryEntry],
        i2i_features: np.ndarray,
        t2i_features: np.ndarray,
        params: IndexParams | None = None,
        fingerprint: str = "",
        listing_digest: str = "",
    ) -> GalleryIndex:
        """Build an index from G entries and their features, each (G, D) L2-normalised float32."""
        i2i_array = validate_features(i2i_features, None, "i2i_features")
        index = cls(i2i_array.shape[1], params, fingerprint, listing_digest)
        index.add(entries, i2i_array, t2i_features)
        return index

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def is_empty(self) -> bool:
        """Whether the gallery has no entries, in which case every search returns no results."""
        return not self.entries

    def add(
        self, entries: Sequence[GalleryEntry], i2i_features: np.ndarray, t2i_features: np.ndarray
    ) -> None:
        """Append N entries with their I2I and T2I features, each (N, D) L2-normalised float32.

        Every input is validated before anything is added, so a ValueError leaves the index
        unchanged. An IVF index is trained on the first non-empty batch it receives.
        """
        i2i_array = validate_features(i2i_features, self.dim, "i2i_features")
        t2i_array = validate_features(t2i_features, self.dim, "t2i_features")
        if not len(entries) == i2i_array.shape[0] == t2i_array.shape[0]:
            raise ValueError(
                f"got {len(entries)} entries, {i2i_array.shape[0]} I2I features and "
                f"{t2i_array.shape[0]} T2I features; each entry needs one feature of each"
            )
        if not entries:
            return

        for task, vectors in (("i2i", i2i_array), ("t2i", t2i_array)):
            faiss_index = getattr(self, task)
            if faiss_index is None:
                faiss_index = create_faiss_index(self.dim, self.params, vectors.shape[0])
                train_faiss_index(faiss_index, vectors)
                setattr(self, task, faiss_index)
                self.params = _resolved_params(self.params, faiss_index)
            faiss_index.add(vectors)
        self.entries.extend(entries)

    def search(self, query_vectors: np.ndarray, task: str = "i2i", k: int = 10) -> list[list[SearchResult]]:
        """Return the k best gallery matches of each of Q query vectors (Q, D), best first.

        task picks the index: "i2i" for image queries, "t2i" for text queries. k larger than the
        gallery returns the whole gallery (approximate kinds may return fewer). An empty gallery
        returns Q empty lists and logs a warning; check `is_empty` to tell the cases apart.
        """
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected 'i2i' (image query) or 't2i' (text query)")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        queries = validate_features(query_vectors, self.dim, "query_vectors")
        faiss_index = getattr(self, task)
        if faiss_index is None or faiss_index.ntotal == 0:
            logger.warning("the gallery index is empty, so the search returns no results")
            return [[] for _ in range(queries.shape[0])]

        scores, ids = faiss_index.search(queries, min(k, faiss_index.ntotal))  # (Q, k) each
        results = []
        for query_scores, query_ids in zip(scores, ids, strict=True):
            found = query_ids >= 0  # faiss pads with -1 when it finds fewer than k
            ranked = []
            for rank, (score, entry_id) in enumerate(
                zip(query_scores[found], query_ids[found], strict=True), start=1
            ):
                entry = self.entries[entry_id]
                ranked.append(SearchResult(entry.path, float(score), entry.pid, entry.camid, rank))
            results.append(ranked)
        return results

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the index to `folder` atomically, replacing any index already there.

        Everything is written to a temporary sibling folder first, which then takes the place of
        `folder`. A failure before that leaves the old index untouched. While the two folders are
        swapped (two renames), `folder` is briefly missing.
        """
        target = Path(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            self._write_files(staging)
            _replace_folder(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logger.info("saved gallery index of %d entries to %s", len(self), target)

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        expected_fingerprint: str | None = None,
        expected_listing_digest: str | None = None,
    ) -> GalleryIndex:
        """Read an index written by save, checking it against the expected checkpoint and gallery.

        Raises FileNotFoundError when the folder or its manifest is missing (not an index, or a save
        that never finished), IndexMismatchError when the format version, fingerprint or listing
        digest differs, and ValueError when the files disagree with each other.
        """
        root = Path(folder)
        manifest = _read_manifest(root)
        _check_manifest(root, manifest, expected_fingerprint, expected_listing_digest)

        params = IndexParams(**manifest["params"])
        index = cls(manifest["dim"], params, manifest["fingerprint"], manifest["listing_digest"])
        with open(root / ENTRIES_NAME, encoding="utf-8") as stream:
            index.entries = [GalleryEntry(**entry) for entry in json.load(stream)]
        if index.entries:
            index.i2i = faiss.read_index(str(root / "i2i.faiss"))
            index.t2i = faiss.read_index(str(root / "t2i.faiss"))
            _apply_search_params(index.i2i, params)
            _apply_search_params(index.t2i, params)

        for task in TASKS:
            faiss_index = getattr(index, task)
            count = 0 if faiss_index is None else faiss_index.ntotal
            if count != len(index.entries) or count != manifest["counts"][task]:
                raise ValueError(
                    f"index folder {root} is inconsistent: {task}.faiss has {count} vectors, "
                    f"entries.json has {len(index.entries)} entries; rebuild the index"
                )
        return index

    def _write_files(self, folder: Path) -> None:
        """Write the faiss files, entries.json and, last, manifest.json into `folder`."""
        if self.entries:
            faiss.write_index(self.i2i, str(folder / "i2i.faiss"))
            faiss.write_index(self.t2i, str(folder / "t2i.faiss"))
        _write_json(folder / ENTRIES_NAME, [asdict(entry) for entry in self.entries])
        manifest = {
            "format_version": FORMAT_VERSION,
            "fingerprint": self.fingerprint,
            "listing_digest": self.listing_digest,
            "dim": self.dim,
            "counts": {task: len(self.entries) for task in TASKS},
            "kind": self.params.kind,
            "params": asdict(self.params),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _write_json(folder / MANIFEST_NAME, manifest)


def _write_json(path: Path, value: object) -> None:
    """Write JSON and flush it to disk, so a later rename never exposes a partial file."""
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(value, stream, indent=1)
        stream.flush()
        os.fsync(stream.fileno())


def _replace_folder(staging: Path, target: Path) -> None:
    """Move the complete `staging` folder to `target`, keeping the old target until that succeeds."""
    if not target.exists():
        os.replace(staging, target)
        return

    backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(backup)  # only the unique name is needed; os.replace needs a free destination
    os.replace(target, backup)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _read_manifest(root: Path) -> dict:
    """Read manifest.json, raising FileNotFoundError with the remedy when there is none."""
    if not root.is_dir():
        raise FileNotFoundError(f"gallery index folder not found: {root}; build the index first")
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{manifest_path} is missing, so {root} is not a gallery index or its save did not finish; "
            "delete the folder and rebuild the index"
        )
    with open(manifest_path, encoding="utf-8") as stream:
        return json.load(stream)


def _check_manifest(
    root: Path, manifest: dict, expected_fingerprint: str | None, expected_listing_digest: str | None
) -> None:
    """Raise IndexMismatchError when the manifest does not match the expected format and inputs."""
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"gallery index {root} has format version {version}, this code reads version {FORMAT_VERSION}; "
            "rebuild the index"
        )
    if expected_fingerprint is not None and manifest["fingerprint"] != expected_fingerprint:
        raise IndexMismatchError(
            f"gallery index {root} was built with checkpoint {manifest['fingerprint']!r}, "
            f"but the loaded checkpoint is {expected_fingerprint!r}; rebuild the index with this checkpoint"
        )
    if expected_listing_digest is not None and manifest["listing_digest"] != expected_listing_digest:
        raise IndexMismatchError(
            f"gallery index {root} was built from another version of the gallery folder "
            f"(listing digest {manifest['listing_digest'][:12]}..., now {expected_listing_digest[:12]}...): "
            "files were added, removed or modified; rebuild the index"
        )


def _resolved_params(params: IndexParams, faiss_index: faiss.Index) -> IndexParams:
    """Record the IVF list count and nprobe actually used, so the manifest states them."""
    if params.kind not in IVF_KINDS:
        return params
    ivf = faiss.extract_index_ivf(faiss_index)
    return replace(params, nlist=int(ivf.nlist), nprobe=int(ivf.nprobe))


def _apply_search_params(faiss_index: faiss.Index, params: IndexParams) -> None:
    """Restore the search-time settings of an approximate index after reading it from disk."""
    if params.kind in IVF_KINDS and params.nprobe is not None:
        faiss.extract_index_ivf(faiss_index).nprobe = params.nprobe
    if params.kind == "ivfpq":
        faiss_index.k_factor = params.k_factor
    if params.kind == "hnsw":
        faiss_index.hnsw.efSearch = params.ef_search


if __name__ == "__main__":
    # `python -m hpl.index build|search ...`: the command line lives in hpl.index_cli.
    from hpl.index_cli import main

    raise SystemExit(main())

"""Gallery index: exact and approximate search, bad input, atomic save and load checks."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import faiss
import numpy as np
import pytest

import hpl.index
from hpl.index import (
    GalleryEntry,
    GalleryIndex,
    IndexMismatchError,
    IndexParams,
    gallery_entries,
    listing_digest,
    parse_pid_camid,
    scan_gallery,
)

DIM = 16


def unit_vectors(num_vectors: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((num_vectors, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clustered_vectors(num_vectors: int, centres: np.ndarray, seed: int) -> np.ndarray:
    """Unit vectors around the given centres, as features of a few hundred people would be."""
    rng = np.random.default_rng(seed)
    dim = centres.shape[1]
    vectors = centres[rng.integers(0, centres.shape[0], num_vectors)]
    vectors += 0.5 * rng.standard_normal((num_vectors, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_entries(num_entries: int) -> list[GalleryEntry]:
    return [
        GalleryEntry(f"{i % 50:04d}_c{i % 6 + 1}s1_{i:06d}_01.jpg", i % 50, i % 6, f"{i:064x}")
        for i in range(num_entries)
    ]


def make_index(num_entries: int = 200, params: IndexParams | None = None, **manifest: str) -> GalleryIndex:
    return GalleryIndex.build(
        make_entries(num_entries),
        unit_vectors(num_entries, seed=1),
        unit_vectors(num_entries, seed=2),
        params,
        **manifest,
    )


def test_exact_search_matches_brute_force() -> None:
    gallery_i2i, gallery_t2i = unit_vectors(300, seed=1), unit_vectors(300, seed=2)
    index = GalleryIndex.build(make_entries(300), gallery_i2i, gallery_t2i)
    queries = unit_vectors(5, seed=3)
    for task, gallery in (("i2i", gallery_i2i), ("t2i", gallery_t2i)):
        results = index.search(queries, task=task, k=7)
        scores = queries @ gallery.T
        for query, ranked in enumerate(results):
            expected_ids = np.argsort(-scores[query], kind="stable")[:7]
            assert [result.path for result in ranked] == [index.entries[i].path for i in expected_ids]
            np.testing.assert_allclose(
                [result.score for result in ranked], scores[query, expected_ids], atol=1e-5
            )
            assert [result.rank for result in ranked] == list(range(1, 8))


def test_search_results_carry_metadata() -> None:
    index = make_index(20)
    query = index.i2i.reconstruct(3)[None, :]  # the I2I feature of entry 3 itself
    best = index.search(query, "i2i", k=1)[0][0]
    assert best.path == index.entries[3].path
    assert best.pid == index.entries[3].pid
    assert best.camid == index.entries[3].camid
    assert best.score == pytest.approx(1.0, abs=1e-5)


def test_k_larger_than_gallery_returns_all() -> None:
    index = make_index(12)
    results = index.search(unit_vectors(3, seed=5), "t2i", k=100)
    assert [len(ranked) for ranked in results] == [12, 12, 12]
    assert all(len({result.path for result in ranked}) == 12 for ranked in results)


def test_one_image_gallery() -> None:
    index = make_index(1)
    results = index.search(unit_vectors(2, seed=5), "i2i", k=10)
    assert [len(ranked) for ranked in results] == [1, 1]
    assert results[0][0].rank == 1


def test_empty_gallery_returns_nothing() -> None:
    index = GalleryIndex.build([], np.zeros((0, DIM), np.float32), np.zeros((0, DIM), np.float32))
    assert index.is_empty
    assert len(index) == 0
    assert index.search(unit_vectors(2), "t2i", k=5) == [[], []]


def test_index_without_entries_is_empty() -> None:
    index = GalleryIndex(DIM)
    assert index.is_empty
    assert index.search(unit_vectors(1), "i2i", k=3) == [[]]


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_non_finite_features_rejected(bad_value: float) -> None:
    index = make_index(10)
    features = unit_vectors(2, seed=9)
    features[1, 3] = bad_value
    with pytest.raises(ValueError, match="NaN or inf"):
        index.add(make_entries(2), unit_vectors(2), features)
    assert len(index) == 10
    assert index.i2i.ntotal == 10
    assert index.t2i.ntotal == 10


def test_non_finite_query_rejected() -> None:
    queries = unit_vectors(2)
    queries[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        make_index(10).search(queries, "i2i", k=3)


def test_wrong_width_rejected() -> None:
    index = make_index(10)
    with pytest.raises(ValueError, match="width"):
        index.add(make_entries(2), unit_vectors(2, dim=DIM + 1), unit_vectors(2, dim=DIM + 1))
    with pytest.raises(ValueError, match="width"):
        index.search(unit_vectors(1, dim=DIM - 1), "t2i", k=3)


def test_one_dimensional_query_rejected() -> None:
    with pytest.raises(ValueError, match="2-D"):
        make_index(10).search(unit_vectors(1)[0], "i2i", k=3)


def test_unnormalised_features_rejected() -> None:
    with pytest.raises(ValueError, match="not L2-normalised"):
        GalleryIndex.build(make_entries(3), 2 * unit_vectors(3), unit_vectors(3))


def test_entry_count_mismatch_rejected() -> None:
    with pytest.raises(ValueError, match="entries"):
        GalleryIndex.build(make_entries(4), unit_vectors(3), unit_vectors(3))


def test_unknown_task_and_bad_k_rejected() -> None:
    index = make_index(10)
    with pytest.raises(ValueError, match="task"):
        index.search(unit_vectors(1), "x2i", k=3)
    with pytest.raises(ValueError, match="k must"):
        index.search(unit_vectors(1), "i2i", k=0)


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError, match="kind"):
        GalleryIndex(DIM, IndexParams(kind="pq"))


def test_save_load_round_trip(tmp_path: Path) -> None:
    index = make_index(50, fingerprint="ckpt-1", listing_digest="abc")
    index.save(tmp_path / "index")
    loaded = GalleryIndex.load(
        tmp_path / "index", expected_fingerprint="ckpt-1", expected_listing_digest="abc"
    )

    assert loaded.entries == index.entries
    assert loaded.dim == DIM
    assert loaded.params == index.params
    queries = unit_vectors(4, seed=7)
    for task in ("i2i", "t2i"):
        assert loaded.search(queries, task, k=9) == index.search(queries, task, k=9)
    np.testing.assert_array_equal(loaded.i2i.reconstruct_n(0, 50), index.i2i.reconstruct_n(0, 50))


def test_manifest_contents(tmp_path: Path) -> None:
    make_index(30, fingerprint="ckpt-1", listing_digest="abc").save(tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["format_version"] == hpl.index.FORMAT_VERSION
    assert manifest["fingerprint"] == "ckpt-1"
    assert manifest["listing_digest"] == "abc"
    assert manifest["dim"] == DIM
    assert manifest["counts"] == {"i2i": 30, "t2i": 30}
    assert manifest["kind"] == "flat"
    assert manifest["created"]
    assert sorted(os.listdir(tmp_path / "index")) == [
        "entries.json",
        "i2i.faiss",
        "manifest.json",
        "t2i.faiss",
    ]


def test_save_load_empty_gallery(tmp_path: Path) -> None:
    GalleryIndex(DIM).save(tmp_path / "index")
    loaded = GalleryIndex.load(tmp_path / "index")
    assert loaded.is_empty
    assert loaded.search(unit_vectors(1), "t2i", k=3) == [[]]


def test_save_replaces_existing_index(tmp_path: Path) -> None:
    make_index(10, fingerprint="old").save(tmp_path / "index")
    make_index(20, fingerprint="new").save(tmp_path / "index")
    loaded = GalleryIndex.load(tmp_path / "index", expected_fingerprint="new")
    assert len(loaded) == 20
    assert os.listdir(tmp_path) == ["index"]


def test_failed_save_keeps_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_index(10, fingerprint="old").save(tmp_path / "index")

    def fail_midway(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(hpl.index, "_write_json", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        make_index(20, fingerprint="new").save(tmp_path / "index")

    loaded = GalleryIndex.load(tmp_path / "index", expected_fingerprint="old")
    assert len(loaded) == 10
    assert os.listdir(tmp_path) == ["index"]


def test_failed_swap_restores_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_index(10, fingerprint="old").save(tmp_path / "index")
    real_replace = os.replace
    calls = []

    def replace_failing_second(source: object, destination: object) -> None:
        calls.append(source)
        if len(calls) == 2:
            raise OSError("rename failed")
        real_replace(source, destination)

    monkeypatch.setattr(hpl.index.os, "replace", replace_failing_second)
    with pytest.raises(OSError, match="rename failed"):
        make_index(20, fingerprint="new").save(tmp_path / "index")
    monkeypatch.setattr(hpl.index.os, "replace", real_replace)

    loaded = GalleryIndex.load(tmp_path / "index", expected_fingerprint="old")
    assert len(loaded) == 10
    assert os.listdir(tmp_path) == ["index"]


def test_fingerprint_mismatch_detected(tmp_path: Path) -> None:
    make_index(10, fingerprint="ckpt-1").save(tmp_path / "index")
    with pytest.raises(IndexMismatchError, match="checkpoint 'ckpt-1'.*rebuild"):
        GalleryIndex.load(tmp_path / "index", expected_fingerprint="ckpt-2")


def test_listing_mismatch_detected(tmp_path: Path) -> None:
    make_index(10, listing_digest="a" * 64).save(tmp_path / "index")
    with pytest.raises(IndexMismatchError, match="gallery folder.*rebuild"):
        GalleryIndex.load(tmp_path / "index", expected_listing_digest="b" * 64)


def test_mismatch_error_is_value_error() -> None:
    assert issubclass(IndexMismatchError, ValueError)


def test_format_version_mismatch_detected(tmp_path: Path) -> None:
    make_index(10).save(tmp_path / "index")
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 999"):
        GalleryIndex.load(tmp_path / "index")


def test_missing_folder_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        GalleryIndex.load(tmp_path / "absent")


def test_half_written_folder_rejected(tmp_path: Path) -> None:
    make_index(10).save(tmp_path / "index")
    (tmp_path / "index" / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json is missing"):
        GalleryIndex.load(tmp_path / "index")


def test_inconsistent_counts_rejected(tmp_path: Path) -> None:
    make_index(10).save(tmp_path / "index")
    entries_path = tmp_path / "index" / "entries.json"
    entries_path.write_text(json.dumps(json.loads(entries_path.read_text())[:9]))
    with pytest.raises(ValueError, match="inconsistent"):
        GalleryIndex.load(tmp_path / "index")


def test_saved_files_contain_no_pickle(tmp_path: Path) -> None:
    make_index(10).save(tmp_path / "index")
    for path in (tmp_path / "index").iterdir():
        assert not path.read_bytes().startswith(b"\x80"), f"{path.name} looks like a pickle"


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("0002_c1s1_000451_03.jpg", (2, 0)),
        ("bounding_box_test/0000_c6s1_000001_01.jpg", (0, 5)),
        ("-1_c3s2_000100_02.jpg", (-1, 2)),
        ("0005_c2_f0046985.jpg", (5, 1)),
        ("0702_c8_f0123456.jpg", (702, 7)),
        ("photo.jpg", (-1, -1)),
        ("IMG_c1_0001.jpg", (-1, -1)),
        ("0000_000_01_0303morning_0015_0.jpg", (-1, -1)),
    ],
)
def test_parse_pid_camid(file_name: str, expected: tuple[int, int]) -> None:
    assert parse_pid_camid(file_name) == expected


def test_scan_gallery_lists_images_sorted(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.jpg").write_bytes(b"b")
    (tmp_path / "a.PNG").write_bytes(b"aa")
    (tmp_path / "sub" / "0002_c1s1_000451_03.jpeg").write_bytes(b"ccc")
    (tmp_path / "notes.txt").write_text("not an image")
    files = scan_gallery(tmp_path)
    assert [file.path for file in files] == ["a.PNG", "b.jpg", "sub/0002_c1s1_000451_03.jpeg"]
    assert [file.size for file in files] == [2, 1, 3]
    assert [file.path for file in scan_gallery(tmp_path, extensions=["jpg"])] == ["b.jpg"]


def test_scan_missing_gallery_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gallery folder not found"):
        scan_gallery(tmp_path / "absent")


def test_listing_digest_tracks_changes(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"a")
    first = listing_digest(scan_gallery(tmp_path))
    assert listing_digest(scan_gallery(tmp_path)) == first
    assert listing_digest(reversed(scan_gallery(tmp_path))) == first

    (tmp_path / "b.jpg").write_bytes(b"b")
    added = listing_digest(scan_gallery(tmp_path))
    assert added != first

    stat = (tmp_path / "b.jpg").stat()
    os.utime(tmp_path / "b.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert listing_digest(scan_gallery(tmp_path)) != added


def test_gallery_entries_hash_and_labels(tmp_path: Path) -> None:
    (tmp_path / "0002_c1s1_000451_03.jpg").write_bytes(b"image bytes")
    (tmp_path / "photo.jpg").write_bytes(b"")
    entries = gallery_entries(tmp_path, scan_gallery(tmp_path))
    assert entries[0] == GalleryEntry(
        "0002_c1s1_000451_03.jpg", 2, 0, hashlib.sha256(b"image bytes").hexdigest()
    )
    assert entries[1] == GalleryEntry("photo.jpg", -1, -1, hashlib.sha256(b"").hexdigest())


def recall_at_10(index: GalleryIndex, gallery: np.ndarray, queries: np.ndarray) -> float:
    exact = np.argsort(-(queries @ gallery.T), axis=1)[:, :10]
    path_to_id = {entry.path: i for i, entry in enumerate(index.entries)}
    found = [[path_to_id[result.path] for result in ranked] for ranked in index.search(queries, "i2i", k=10)]
    return float(
        np.mean([len(set(row) & set(expected)) / 10 for row, expected in zip(found, exact, strict=True)])
    )


@pytest.mark.parametrize(
    "params",
    [
        IndexParams(kind="ivf"),
        IndexParams(kind="ivf", nlist=32, nprobe=8),
        IndexParams(kind="ivfpq"),
        IndexParams(kind="ivfpq", nlist=32, nprobe=16, k_factor=4),
        IndexParams(kind="hnsw"),
    ],
    ids=["ivf-default", "ivf-explicit", "ivfpq-default", "ivfpq-explicit", "hnsw"],
)
def test_approximate_kinds_have_high_recall(params: IndexParams, tmp_path: Path) -> None:
    centres = np.random.default_rng(11).standard_normal((200, 64)).astype(np.float32)
    gallery = clustered_vectors(4000, centres, seed=12)
    queries = clustered_vectors(50, centres, seed=13)
    index = GalleryIndex.build(make_entries(4000), gallery, gallery, params)
    assert recall_at_10(index, gallery, queries) >= 0.95

    index.save(tmp_path / "index")
    loaded = GalleryIndex.load(tmp_path / "index")
    assert loaded.params == index.params
    assert loaded.search(queries, "t2i", k=10) == index.search(queries, "t2i", k=10)


def test_ivf_defaults_scale_with_gallery() -> None:
    assert hpl.index.default_nlist(1_000_000) == 1000
    assert hpl.index.default_nlist(10_000) == 100
    assert hpl.index.default_nlist(100) == 2
    assert hpl.index.default_nlist(5) == 1
    assert hpl.index.default_nprobe(1000) == 62
    assert hpl.index.default_nprobe(4) == 4


def test_ivfpq_settings_survive_save(tmp_path: Path) -> None:
    centres = np.random.default_rng(3).standard_normal((50, 64)).astype(np.float32)
    gallery = clustered_vectors(1000, centres, seed=4)
    index = GalleryIndex.build(make_entries(1000), gallery, gallery, IndexParams(kind="ivfpq", k_factor=3))
    assert index.params.nlist == hpl.index.default_nlist(1000)
    assert index.params.nprobe == hpl.index.default_ivfpq_nprobe(index.params.nlist)
    index.save(tmp_path / "index")
    loaded = GalleryIndex.load(tmp_path / "index")
    assert loaded.i2i.k_factor == 3
    assert faiss.extract_index_ivf(loaded.i2i).nprobe == index.params.nprobe


@pytest.mark.parametrize(
    ("num_vectors", "dim", "message"),
    [(100, 64, "at least 624 gallery vectors"), (1000, 60, "divisible by 8")],
    ids=["too-few-vectors", "odd-width"],
)
def test_ivfpq_rejects_unsuitable_gallery(num_vectors: int, dim: int, message: str) -> None:
    vectors = unit_vectors(num_vectors, seed=1, dim=dim)
    with pytest.raises(ValueError, match=message):
        GalleryIndex.build(make_entries(num_vectors), vectors, vectors, IndexParams(kind="ivfpq"))


def test_ivf_index_on_tiny_gallery() -> None:
    index = make_index(5, IndexParams(kind="ivf"))
    results = index.search(unit_vectors(2, seed=4), "i2i", k=10)
    assert [len(ranked) for ranked in results] == [5, 5]


def test_batched_exact_search_matches_single_queries() -> None:
    # Batches of a few queries take faiss's BLAS path, single queries its sequential scan.
    gallery = unit_vectors(3000, seed=21)
    queries = unit_vectors(12, seed=22)
    index = GalleryIndex.build(make_entries(3000), gallery, gallery, IndexParams(kind="flat"))
    batched = index.search(queries, "i2i", k=10)
    single = [index.search(query[None], "i2i", k=10)[0] for query in queries]
    assert [[r.path for r in ranked] for ranked in batched] == [[r.path for r in ranked] for ranked in single]

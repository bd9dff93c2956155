"""Tests of the T2I + I2I pair merge: leak removal and one label per person across both sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_builders import build_market, build_t2i, cuhk_entry

from hpl.data.pairs import PairDataset, load_pair, merge_pair
from hpl.data.records import I2IDataset, ImageRecord, T2IDataset

# Persons of the fixture in the synthetic benchmark format: Market pid, CUHK id (None when absent).
TRUTH = [
    {"person": 0, "market_pid": 1, "cuhk_id": 1},  # both train, one shared image
    {"person": 1, "market_pid": 2, "cuhk_id": 2},  # both train, shared image plus own images
    {"person": 2, "market_pid": 3, "cuhk_id": None},  # Market train only
    {"person": 3, "market_pid": None, "cuhk_id": 3},  # CUHK train only
    {"person": 4, "market_pid": 10, "cuhk_id": 4},  # Market test, CUHK train: leak
    {"person": 5, "market_pid": 11, "cuhk_id": 50},  # both test
    {"person": 6, "market_pid": 4, "cuhk_id": 51},  # Market train, CUHK test: leak
    {"person": 7, "market_pid": None, "cuhk_id": 52},  # CUHK test only
]
TRAINED_PERSONS = {0, 1, 2, 3}

MARKET_TRAIN = [
    "0001_c1s1_000001_01.jpg",
    "0001_c2s1_000002_01.jpg",
    "0002_c1s1_000003_01.jpg",
    "0002_c3s1_000004_01.jpg",
    "0003_c4s1_000005_01.jpg",
    "0003_c5s1_000006_01.jpg",
    "0004_c1s1_000007_01.jpg",
    "0004_c6s1_000008_01.jpg",
]
MARKET_QUERY = ["0010_c1s1_000101_00.jpg", "0011_c2s1_000102_00.jpg"]
MARKET_GALLERY = [
    "0010_c2s1_000103_01.jpg",
    "0010_c3s1_000104_01.jpg",
    "0011_c4s1_000105_01.jpg",
    "0000_c1s1_000106_01.jpg",
    "-1_c1s1_000107_01.jpg",
]
CUHK_ENTRIES = [
    cuhk_entry(1, "train", "Market/0001_c1s1_000001_01.jpg"),
    cuhk_entry(2, "train", "Market/0002_c3s1_000004_01.jpg"),
    cuhk_entry(2, "train", "SYN/000002_01.jpg"),
    cuhk_entry(3, "train", "SYN/000003_01.jpg"),
    cuhk_entry(3, "train", "SYN/000003_02.jpg"),
    cuhk_entry(4, "train", "Market/0010_c2s1_000103_01.jpg"),
    cuhk_entry(4, "train", "SYN/000004_01.jpg"),
    cuhk_entry(50, "test", "Market/0011_c2s1_000102_00.jpg"),
    cuhk_entry(50, "test", "SYN/000050_01.jpg"),
    cuhk_entry(51, "test", "Market/0004_c6s1_000008_01.jpg"),
    cuhk_entry(52, "test", "SYN/000052_01.jpg"),
]


@pytest.fixture
def synthetic_out(tmp_path) -> Path:
    build_market(tmp_path, MARKET_TRAIN, MARKET_QUERY, MARKET_GALLERY, folder="Market-1501")
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    (tmp_path / "truth.json").write_text(json.dumps({"persons": TRUTH}), encoding="utf-8")
    return tmp_path


@pytest.fixture
def pair(synthetic_out) -> PairDataset:
    return load_pair("cuhk_pedes", synthetic_out)


def _labels_of(records: list[ImageRecord], pid: int) -> set[int]:
    return {record.label for record in records if record.pid == pid}


def test_shared_persons_get_one_label(pair, synthetic_out):
    truth = json.loads((synthetic_out / "truth.json").read_text())["persons"]
    for person in truth:
        if person["person"] not in TRAINED_PERSONS:
            continue
        labels = _labels_of(pair.train_i2i, person["market_pid"]) | _labels_of(
            pair.train_t2i, person["cuhk_id"]
        )
        assert len(labels) == 1, person


def test_distinct_persons_distinct_labels(pair):
    label_of_person = {}
    for person in TRUTH:
        if person["person"] in TRAINED_PERSONS:
            labels = _labels_of(pair.train_i2i, person["market_pid"]) | _labels_of(
                pair.train_t2i, person["cuhk_id"]
            )
            label_of_person[person["person"]] = labels.pop()
    assert len(set(label_of_person.values())) == len(TRAINED_PERSONS)
    assert pair.num_labels == len(TRAINED_PERSONS)
    all_labels = {record.label for record in pair.train_i2i + pair.train_t2i}
    assert all_labels == set(range(pair.num_labels))


def test_no_test_image_in_training(pair):
    test_keys = {record.key for record in pair.i2i_query + pair.i2i_gallery + pair.t2i_test}
    train_keys = {record.key for record in pair.train_i2i + pair.train_t2i}
    assert not test_keys & train_keys


def test_leaked_persons_dropped_entirely(pair):
    assert 4 not in {record.pid for record in pair.train_t2i}
    assert 4 not in {record.pid for record in pair.train_i2i}
    assert sorted({record.pid for record in pair.train_i2i}) == [1, 2, 3]
    assert sorted({record.pid for record in pair.train_t2i}) == [1, 2, 3]


def test_drop_and_merge_counts(pair):
    stats = pair.stats
    assert stats.dropped_t2i_images == 2
    assert stats.dropped_i2i_images == 2
    assert stats.dropped_leaked_images == 2
    assert stats.dropped_t2i_persons == 1
    assert stats.dropped_i2i_persons == 1
    assert stats.shared_labels == 2
    assert stats.merged_persons == 4
    assert stats.t2i_train_images == len(pair.train_t2i) == 5
    assert stats.i2i_train_images == len(pair.train_i2i) == 6


def test_test_splits_untouched(pair, synthetic_out):
    assert len(pair.i2i_query) == 2
    assert len(pair.i2i_gallery) == 4
    assert sorted(record.pid for record in pair.t2i_test) == [50, 50, 51, 52]
    assert {record.label for record in pair.i2i_query + pair.i2i_gallery + pair.t2i_test} == {-1}


def test_captions_kept_on_t2i_training(pair):
    assert all(record.captions for record in pair.train_t2i)
    assert not any(record.captions for record in pair.train_i2i)


def _record(pid: int, key: str, captions: tuple[str, ...] = ()) -> ImageRecord:
    return ImageRecord(path=f"/data/{key}", pid=pid, captions=captions, key=key)


def test_chain_of_shared_keys_merges_all():
    t2i = T2IDataset(
        name="t2i",
        train=[_record(5, "a", ("x",)), _record(6, "b", ("y",)), _record(7, "t7", ("z",))],
    )
    i2i = I2IDataset(name="i2i", train=[_record(100, "a"), _record(100, "b"), _record(101, "c")])
    pair = merge_pair(t2i, i2i)
    assert pair.num_labels == 3
    assert _labels_of(pair.train_t2i, 5) == _labels_of(pair.train_t2i, 6) == _labels_of(pair.train_i2i, 100)
    assert _labels_of(pair.train_i2i, 100) == {0}
    assert _labels_of(pair.train_i2i, 101) == {1}
    assert _labels_of(pair.train_t2i, 7) == {2}
    assert pair.stats.merged_persons == 3


def test_same_pid_in_train_and_test_not_linked():
    t2i = T2IDataset(name="t2i", train=[_record(0, "train0", ("x",))], test=[_record(0, "test0", ("y",))])
    i2i = I2IDataset(
        name="i2i", train=[_record(0, "i-train0")], query=[_record(0, "q0")], gallery=[_record(0, "g0")]
    )
    pair = merge_pair(t2i, i2i)
    assert len(pair.train_t2i) == 1
    assert len(pair.train_i2i) == 1
    assert pair.num_labels == 2


def test_protect_val_drops_val_persons():
    t2i = T2IDataset(name="t2i", train=[_record(1, "t1", ("x",))], val=[_record(9, "shared", ("y",))])
    i2i = I2IDataset(name="i2i", train=[_record(3, "shared"), _record(3, "own")])
    assert len(merge_pair(t2i, i2i).train_i2i) == 2
    protected = merge_pair(t2i, i2i, protect_val=True)
    assert protected.train_i2i == []
    assert protected.num_labels == 1


def test_merge_is_deterministic(synthetic_out):
    first = load_pair("cuhk_pedes", synthetic_out)
    second = load_pair("cuhk_pedes", synthetic_out)
    assert first == second


def test_load_pair_rejects_swapped_sets(synthetic_out):
    with pytest.raises(ValueError, match="not a text-to-image dataset"):
        load_pair("market1501", synthetic_out, i2i_name="cuhk_pedes")

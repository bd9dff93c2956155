"""Tests of the six dataset readers and the registry on tiny folders in each real format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_builders import build_market, build_t2i, cuhk_entry, write_images

from hpl.data.datasets import PAPER_PAIRS, dataset_names, load_dataset, register_dataset
from hpl.data.i2i_readers import read_dukemtmc, read_market1501, read_msmt17
from hpl.data.records import ImageRecord
from hpl.data.t2i_readers import read_cuhk_pedes, read_icfg_pedes, read_rstpreid

MARKET_TRAIN = [
    "0002_c1s1_000451_01.jpg",
    "0002_c3s1_000551_02.jpg",
    "0007_c2s1_000101_01.jpg",
    "0010_c6s2_000201_01.jpg",
]
MARKET_QUERY = ["0004_c1s1_000001_00.jpg", "0005_c2s1_000002_00.jpg"]
MARKET_GALLERY = [
    "0004_c2s1_000010_01.jpg",
    "0004_c1s1_000011_02.jpg",
    "0005_c5s1_000012_01.jpg",
    "0000_c1s1_000013_01.jpg",
    "0000_c3s1_000014_02.jpg",
    "-1_c1s1_000015_01.jpg",
    "-1_c4s1_000016_03.jpg",
]


@pytest.fixture
def market_dir(tmp_path) -> Path:
    dataset_dir = build_market(
        tmp_path, MARKET_TRAIN, MARKET_QUERY, MARKET_GALLERY, folder="Market-1501-v15.09.15"
    )
    (dataset_dir / "bounding_box_test" / "Thumbs.db").write_bytes(b"\x00")
    return dataset_dir


def _pids(records: list[ImageRecord]) -> list[int]:
    return [record.pid for record in records]


def test_market_counts_and_pids(market_dir):
    dataset = read_market1501(market_dir)
    assert dataset.name == "market1501"
    assert sorted(_pids(dataset.train)) == [2, 2, 7, 10]
    assert sorted(_pids(dataset.query)) == [4, 5]
    assert sorted(_pids(dataset.gallery)) == [0, 0, 4, 4, 5]


def test_market_junk_dropped_distractors_kept(market_dir):
    gallery = read_market1501(market_dir).gallery
    assert -1 not in _pids(gallery)
    assert _pids(gallery).count(0) == 2


def test_market_camids_labels_keys(market_dir):
    train = read_market1501(market_dir).train
    by_name = {Path(record.path).name: record for record in train}
    assert [by_name[name].camid for name in MARKET_TRAIN] == [0, 2, 1, 5]
    assert {record.pid: record.label for record in train} == {2: 0, 7: 1, 10: 2}
    assert by_name["0007_c2s1_000101_01.jpg"].key == "market1501/0007_c2s1_000101_01.jpg"
    assert all(Path(record.path).is_absolute() and Path(record.path).is_file() for record in train)


def test_market_test_records_unlabelled(market_dir):
    dataset = read_market1501(market_dir)
    assert {record.label for record in dataset.query + dataset.gallery} == {-1}


def test_market_parent_folder_accepted(market_dir):
    from_parent = read_market1501(market_dir.parent)
    from_folder = read_market1501(market_dir)
    assert from_parent == from_folder


def test_market_missing_folder_names_layout(tmp_path):
    (tmp_path / "Market-1501-v15.09.15" / "query").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="bounding_box_train") as caught:
        read_market1501(tmp_path)
    assert "Expected layout" in str(caught.value)


def test_market_invalid_file_name(market_dir):
    write_images(market_dir / "query", ["holiday.jpg"])
    with pytest.raises(ValueError, match="holiday.jpg"):
        read_market1501(market_dir)


def test_market_real_sample(market_sample):
    dataset = read_market1501(market_sample)
    assert len(dataset.train) == 32
    assert len(set(_pids(dataset.train))) == 16
    assert sorted({record.label for record in dataset.train}) == list(range(16))
    assert len(dataset.query) == 32
    assert len(dataset.gallery) == 32
    assert set(_pids(dataset.query)) == set(_pids(dataset.gallery))
    assert not set(_pids(dataset.train)) & set(_pids(dataset.query))
    assert {record.camid for record in dataset.query + dataset.gallery + dataset.train} <= set(range(6))
    assert all(Path(record.path).is_file() for record in dataset.gallery)


def test_duke_counts_camids(tmp_path):
    dataset_dir = build_market(
        tmp_path,
        ["0005_c2_f0046985.jpg", "0005_c8_f0046999.jpg", "0009_c1_f0000100.jpg"],
        ["0011_c3_f0000200.jpg"],
        ["0011_c4_f0000300.jpg", "0012_c4_f0000301.jpg"],
        folder="DukeMTMC-reID",
    )
    dataset = read_dukemtmc(tmp_path)
    assert dataset.name == "dukemtmc"
    assert sorted(_pids(dataset.train)) == [5, 5, 9]
    assert sorted(record.camid for record in dataset.train) == [0, 1, 7]
    assert _pids(dataset.query) == [11]
    assert sorted(_pids(dataset.gallery)) == [11, 12]
    assert dataset.gallery[0].key == "dukemtmc/0011_c4_f0000300.jpg"
    assert read_dukemtmc(dataset_dir) == dataset


def _build_msmt(root: Path, version: int = 1) -> Path:
    dataset_dir = root / f"MSMT17_V{version}"
    train_dir, test_dir = ("train", "test") if version == 1 else ("mask_train_v2", "mask_test_v2")
    lists = {
        "list_train.txt": [
            "0000/0000_000_01_0303morning_0015_0.jpg 0",
            "0000/0000_001_03_0303morning_0100_1.jpg 0",
            "0001/0001_000_15_0303noon_0200_0.jpg 1",
        ],
        "list_val.txt": ["0001/0001_001_02_0303noon_0300_0.jpg 1"],
        "list_query.txt": ["0000/0000_000_05_0304morning_0010_0.jpg 0"],
        "list_gallery.txt": [
            "0000/0000_001_06_0304morning_0020_0.jpg 0",
            "0001/0001_000_01_0304noon_0030_0.jpg 1",
        ],
    }
    for list_name, lines in lists.items():
        image_dir = train_dir if list_name in ("list_train.txt", "list_val.txt") else test_dir
        write_images(dataset_dir / image_dir, (line.split()[0] for line in lines))
        (dataset_dir / list_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dataset_dir


def test_msmt_val_merged_into_train(tmp_path):
    dataset = read_msmt17(_build_msmt(tmp_path))
    assert sorted(_pids(dataset.train)) == [0, 0, 1, 1]
    assert {record.pid: record.label for record in dataset.train} == {0: 0, 1: 1}
    assert all(Path(record.path).is_file() for record in dataset.train + dataset.query + dataset.gallery)


def test_msmt_val_left_out(tmp_path):
    dataset = read_msmt17(_build_msmt(tmp_path), merge_val=False)
    assert sorted(_pids(dataset.train)) == [0, 0, 1]


def test_msmt_test_pids_offset(tmp_path):
    dataset = read_msmt17(_build_msmt(tmp_path))
    assert _pids(dataset.query) == [2]
    assert sorted(_pids(dataset.gallery)) == [2, 3]
    assert not set(_pids(dataset.train)) & set(_pids(dataset.query + dataset.gallery))


def test_msmt_camids_and_keys(tmp_path):
    dataset = read_msmt17(_build_msmt(tmp_path))
    assert sorted(record.camid for record in dataset.train) == [0, 1, 2, 14]
    assert dataset.query[0].camid == 4
    assert dataset.query[0].key == "msmt17/0000_000_05_0304morning_0010_0.jpg"


def test_msmt_v2_layout(tmp_path):
    _build_msmt(tmp_path, version=2)
    dataset = read_msmt17(tmp_path)
    assert len(dataset.train) == 4
    assert "mask_train_v2" in dataset.train[0].path
    assert "mask_test_v2" in dataset.gallery[0].path


def test_msmt_invalid_list_line(tmp_path):
    dataset_dir = _build_msmt(tmp_path)
    with (dataset_dir / "list_query.txt").open("a", encoding="utf-8") as list_file:
        list_file.write("0003/0003_000_01_0304morning_0011_0.jpg\n")
    with pytest.raises(ValueError, match=r"list_query.txt:2"):
        read_msmt17(dataset_dir)


def test_msmt_missing_lists(tmp_path):
    (tmp_path / "MSMT17_V1" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="list_train.txt"):
        read_msmt17(tmp_path)


CUHK_ENTRIES = [
    cuhk_entry(1, "train", "CUHK01/0001001.png"),
    cuhk_entry(1, "train", "Market/0002_c1s1_000451_01.jpg"),
    cuhk_entry(2, "train", "CUHK03/cam_a/0002_01.png"),
    cuhk_entry(3, "train", "train_query/p3_s1.jpg", captions=["a man in blue"]),
    cuhk_entry(5, "val", "CUHK01/0005001.png"),
    cuhk_entry(6, "validation", "CUHK01/0006001.png"),
    cuhk_entry(7, "test", "Market/0007_c2s1_000101_01.jpg"),
    cuhk_entry(8, "test", "CUHK01/0008001.png", captions=["   ", ""]),
]


def test_cuhk_splits_and_counts(tmp_path):
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    dataset = read_cuhk_pedes(tmp_path)
    assert dataset.name == "cuhk_pedes"
    assert sorted(_pids(dataset.train)) == [1, 1, 2, 3]
    assert sorted(_pids(dataset.val)) == [5, 6]
    assert _pids(dataset.test) == [7]


def test_cuhk_train_label_is_id_minus_one(tmp_path):
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    dataset = read_cuhk_pedes(tmp_path)
    assert all(record.label == record.pid - 1 for record in dataset.train)
    assert {record.label for record in dataset.val + dataset.test} == {-1}


def test_cuhk_captions_and_keys(tmp_path):
    dataset_dir = build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    train = {record.path: record for record in read_cuhk_pedes(dataset_dir).train}
    market_image = train[str(dataset_dir / "imgs" / "Market" / "0002_c1s1_000451_01.jpg")]
    assert market_image.key == "market1501/0002_c1s1_000451_01.jpg"
    assert market_image.captions == ("person 1 in a red coat", "person 1 carrying a bag")
    cuhk_image = train[str(dataset_dir / "imgs" / "CUHK03" / "cam_a" / "0002_01.png")]
    assert cuhk_image.key == "cuhk_pedes/CUHK03/cam_a/0002_01.png"
    assert cuhk_image.camid == -1


def test_cuhk_blank_captions_skipped(tmp_path):
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    dataset = read_cuhk_pedes(tmp_path)
    assert 8 not in _pids(dataset.test)


def test_cuhk_missing_annotation(tmp_path):
    (tmp_path / "CUHK-PEDES" / "imgs").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="reid_raw.json"):
        read_cuhk_pedes(tmp_path)


def test_cuhk_invalid_json(tmp_path):
    dataset_dir = build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    (dataset_dir / "reid_raw.json").write_text("[{", encoding="utf-8")
    with pytest.raises(ValueError, match="Invalid JSON"):
        read_cuhk_pedes(dataset_dir)


def test_cuhk_entry_missing_key(tmp_path):
    entries = [*CUHK_ENTRIES, {"id": 9, "split": "test", "captions": ["x"]}]
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", entries[:-1])
    (tmp_path / "CUHK-PEDES" / "reid_raw.json").write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match=r"entry 8: missing keys \['file_path'\]"):
        read_cuhk_pedes(tmp_path)


@pytest.mark.parametrize("file_path", ["/etc/passwd", "../outside.jpg", "CUHK01/../../outside.jpg"])
def test_cuhk_path_outside_images_rejected(tmp_path, file_path):
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    entries = [*CUHK_ENTRIES, cuhk_entry(9, "test", file_path)]
    (tmp_path / "CUHK-PEDES" / "reid_raw.json").write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match="expected a path inside"):
        read_cuhk_pedes(tmp_path)


ICFG_ENTRIES = [
    {
        "id": 0,
        "split": "train",
        "file_path": "train/0000/0000_000_01_0303morning_0015_0.jpg",
        "captions": ["a"],
    },
    {
        "id": 0,
        "split": "train",
        "file_path": "train/0000/0000_001_04_0303morning_0016_0.jpg",
        "captions": ["b"],
    },
    {"id": 1, "split": "train", "file_path": "train/0001/0001_000_15_0303noon_0200_0.jpg", "captions": ["c"]},
    {"id": 2, "split": "test", "file_path": "test/0002/0002_000_07_0304noon_0030_0.jpg", "captions": ["d"]},
]


@pytest.mark.parametrize("annotation", ["ICFG-PEDES.json", "ICFG_PEDES.json"])
def test_icfg_both_annotation_names(tmp_path, annotation):
    build_t2i(tmp_path, "ICFG-PEDES", annotation, ICFG_ENTRIES)
    dataset = read_icfg_pedes(tmp_path)
    assert dataset.name == "icfg_pedes"
    assert sorted(_pids(dataset.train)) == [0, 0, 1]
    assert _pids(dataset.test) == [2]
    assert dataset.val == []


def test_icfg_labels_camids_keys(tmp_path):
    build_t2i(tmp_path, "ICFG-PEDES", "ICFG-PEDES.json", ICFG_ENTRIES)
    dataset = read_icfg_pedes(tmp_path / "ICFG-PEDES")
    assert all(record.label == record.pid for record in dataset.train)
    assert sorted(record.camid for record in dataset.train) == [0, 3, 14]
    assert dataset.test[0].key == "msmt17/0002_000_07_0304noon_0030_0.jpg"
    assert dataset.test[0].captions == ("d",)


def test_icfg_missing_annotation(tmp_path):
    (tmp_path / "ICFG-PEDES" / "imgs").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="ICFG_PEDES.json"):
        read_icfg_pedes(tmp_path)


RSTP_ENTRIES = [
    {"id": 0, "split": "train", "img_path": "0000_c14_0031.jpg", "captions": ["a woman", "long hair"]},
    {"id": 0, "split": "train", "img_path": "0000_c01_0032.jpg", "captions": ["a woman", "a bag"]},
    {"id": 4, "split": "train", "img_path": "0004_c02_0001.jpg", "captions": ["a man", "shorts"]},
    {"id": 9, "split": "val", "img_path": "0009_c03_0001.jpg", "captions": ["x", "y"]},
    {"id": 12, "split": "test", "img_path": "0012_c15_0001.jpg", "captions": ["z", "w"]},
]


def test_rstpreid_splits_camids_keys(tmp_path):
    dataset_dir = build_t2i(tmp_path, "RSTPReid", "data_captions.json", RSTP_ENTRIES, path_field="img_path")
    dataset = read_rstpreid(tmp_path)
    assert sorted(_pids(dataset.train)) == [0, 0, 4]
    assert {record.pid: record.label for record in dataset.train} == {0: 0, 4: 1}
    assert _pids(dataset.val) == [9]
    assert _pids(dataset.test) == [12]
    assert sorted(record.camid for record in dataset.train) == [0, 1, 13]
    assert dataset.test[0].camid == 14
    assert dataset.test[0].path == str(dataset_dir / "imgs" / "0012_c15_0001.jpg")
    assert dataset.test[0].key == "msmt17/0012_c15_0001.jpg"


def test_rstpreid_file_path_field_rejected(tmp_path):
    build_t2i(tmp_path, "RSTPReid", "data_captions.json", ICFG_ENTRIES)
    with pytest.raises(ValueError, match="img_path"):
        read_rstpreid(tmp_path)


def test_load_dataset_dispatches(tmp_path):
    _build_msmt(tmp_path)
    build_t2i(tmp_path, "CUHK-PEDES", "reid_raw.json", CUHK_ENTRIES)
    assert load_dataset("cuhk_pedes", tmp_path).name == "cuhk_pedes"
    assert len(load_dataset("msmt17", tmp_path, merge_val=False).train) == 3


def test_load_dataset_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="market1501"):
        load_dataset("market", tmp_path)


def test_registry_names_and_pairs():
    names = dataset_names()
    for name in ("market1501", "dukemtmc", "msmt17", "cuhk_pedes", "icfg_pedes", "rstpreid"):
        assert name in names
    for t2i_name, i2i_name in PAPER_PAIRS.items():
        assert t2i_name in names
        assert i2i_name in names


def test_register_dataset_rejects_duplicate():
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("market1501", read_cuhk_pedes)

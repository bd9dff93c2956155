"""Readers of the text-to-image ReID sets: CUHK-PEDES, ICFG-PEDES and RSTPReid.

Each reader returns a `T2IDataset` whose records carry the captions of one image, the raw pid of the
annotation file, contiguous training labels and a `key` naming the image in the I2I set it comes from:

- CUHK-PEDES images under `Market/` in `file_path` get `market1501/<file name>`, the key that
  `read_market1501` gives the same file. Other CUHK-PEDES images get `cuhk_pedes/<file_path>`.
- ICFG-PEDES and RSTPReid images get `msmt17/<file name>`, the key of `read_msmt17`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from hpl.data.reader_utils import assign_train_labels, camid_from_number, find_dataset_dir
from hpl.data.records import ImageRecord, T2IDataset

logger = logging.getLogger(__name__)

CUHK_PEDES_ANNOTATION = "reid_raw.json"
ICFG_PEDES_ANNOTATIONS = ("ICFG-PEDES.json", "ICFG_PEDES.json")
RSTPREID_ANNOTATION = "data_captions.json"

# Folder of `file_path` that contains the CUHK-PEDES images taken from Market-1501.
CUHK_PEDES_MARKET_FOLDER = "Market"

# MSMT17 names: split-relative pid, image index, camera (01-15), date and time, frame, box.
_MSMT_NAME = re.compile(r"^\d+_\d+_(\d+)_[^_]+_\d+_\d+\.jpg$")
# RSTPReid names: pid, camera, image index.
_RSTP_NAME = re.compile(r"^\d+_c(\d+)_\d+\.jpg$")


def read_cuhk_pedes(root: str | Path) -> T2IDataset:
    """Read CUHK-PEDES (Li et al., "Person Search with Natural Language Description", CVPR 2017).

    `root` is the `CUHK-PEDES` folder (`imgs/` and `reid_raw.json`) or its parent. Statistics: ids
    1..13,003. Train 11,003 ids / 34,054 images / about 68,000 captions, val 1,000 / 3,078 / 6,158,
    test 1,000 / 3,074 / 6,156. Any split other than train and test is read as val. Training labels
    are `id - 1` because the training ids are 1..11,003 (in general, the rank of the id among the
    training ids). Val and test keep the raw id, so only equality of pids matters there. Camids are
    unknown (-1).
    """
    dataset_dir = find_dataset_dir(
        root,
        ("CUHK-PEDES",),
        (CUHK_PEDES_ANNOTATION, "imgs"),
        layout="CUHK-PEDES/{imgs/CUHK01/0363004.png, imgs/Market/..., reid_raw.json}",
    )
    return _read_annotations(
        "cuhk_pedes",
        dataset_dir / CUHK_PEDES_ANNOTATION,
        dataset_dir / "imgs",
        path_field="file_path",
        key_of=_cuhk_pedes_key,
        camid_of=lambda _file_name, _where: -1,
    )


def _cuhk_pedes_key(relative_path: PurePosixPath) -> str:
    if relative_path.parts and relative_path.parts[0] == CUHK_PEDES_MARKET_FOLDER:
        return f"market1501/{relative_path.name}"
    return f"cuhk_pedes/{relative_path}"


def read_icfg_pedes(root: str | Path) -> T2IDataset:
    """Read ICFG-PEDES (Ding et al., "Semantically Self-Aligned Network for Text-to-Image Part-aware
    Person Re-identification", 2021), built from MSMT17 images.

    `root` is the `ICFG-PEDES` folder (`imgs/{train,test}` and `ICFG-PEDES.json`, also accepted under
    the name `ICFG_PEDES.json`) or its parent. Statistics: 4,102 ids, 54,522 images, one caption per
    image. Train 3,102 ids / 34,674 images, test 1,000 / 19,848, no val split (any split other than
    train and test is read as val). Training ids are contiguous from 0, so the label equals the id.
    Camids come from the camera field of the MSMT17 file name (-1 for other names).

    NOTE: keys are `msmt17/<file name>`, which matches `read_msmt17` only if ICFG-PEDES kept the
    MSMT17 file names. Its identities were re-split, so a renamed pid prefix would break the match.
    """
    layout = "ICFG-PEDES/{imgs/{train,test}/..., ICFG-PEDES.json or ICFG_PEDES.json}"
    dataset_dir = find_dataset_dir(root, ("ICFG-PEDES", "ICFG_PEDES"), ("imgs",), layout=layout)
    annotations = [dataset_dir / name for name in ICFG_PEDES_ANNOTATIONS if (dataset_dir / name).is_file()]
    if not annotations:
        expected = " or ".join(str(dataset_dir / name) for name in ICFG_PEDES_ANNOTATIONS)
        raise FileNotFoundError(
            f"ICFG-PEDES annotation file not found: expected {expected}. Layout: {layout}"
        )

    return _read_annotations(
        "icfg_pedes",
        annotations[0],
        dataset_dir / "imgs",
        path_field="file_path",
        key_of=lambda relative_path: f"msmt17/{relative_path.name}",
        camid_of=_camid_from_pattern(_MSMT_NAME),
    )


def read_rstpreid(root: str | Path) -> T2IDataset:
    """Read RSTPReid (Zhu et al., "DSSL: Deep Surroundings-person Separation Learning for Text-based
    Person Retrieval", ACM MM 2021), built from MSMT17 images.

    `root` is the `RSTPReid` folder (a flat `imgs/` and `data_captions.json`, whose entries name the
    image in `img_path`) or its parent. Statistics: 4,101 ids, 20,505 images (5 per id), 15 cameras,
    2 captions per image. Train 3,701 ids / 18,505 images, val 200 / 1,000, test 200 / 1,000. Camids
    come from the `c14` field of names such as `0000_c14_0031.jpg`. Known noise (non-Latin
    characters, one caption reused for different ids) is kept as it is.

    NOTE: keys are `msmt17/<file name>`. RSTPReid renamed its images (`0000_c14_0031.jpg`), so the
    keys match MSMT17 images only in a copy that kept the MSMT17 names. The pairing used by HPL,
    RSTPReid with DukeMTMC-reID, shares no images anyway.
    """
    dataset_dir = find_dataset_dir(
        root,
        ("RSTPReid",),
        (RSTPREID_ANNOTATION, "imgs"),
        layout="RSTPReid/{imgs/0000_c14_0031.jpg, data_captions.json}",
    )
    return _read_annotations(
        "rstpreid",
        dataset_dir / RSTPREID_ANNOTATION,
        dataset_dir / "imgs",
        path_field="img_path",
        key_of=lambda relative_path: f"msmt17/{relative_path.name}",
        camid_of=_camid_from_pattern(_RSTP_NAME),
    )


def _camid_from_pattern(pattern: re.Pattern[str]) -> Callable[[str, str], int]:
    def camid_of(file_name: str, where: str) -> int:
        match = pattern.match(file_name)
        return camid_from_number(int(match.group(1)), where) if match else -1

    return camid_of


def _read_annotations(
    name: str,
    annotation_file: Path,
    image_dir: Path,
    path_field: str,
    key_of: Callable[[PurePosixPath], str],
    camid_of: Callable[[str, str], int],
) -> T2IDataset:
    """Read a JSON list of {id, split, captions, <path_field>} entries into train, val and test."""
    entries = _load_json_list(annotation_file)
    splits: dict[str, list[ImageRecord]] = {"train": [], "val": [], "test": []}
    without_captions = 0
    for index, entry in enumerate(entries):
        where = f"{annotation_file} entry {index}"
        fields = _entry_fields(entry, where, path_field)
        captions = _clean_captions(fields["captions"], where)
        if not captions:
            without_captions += 1
            continue

        relative_path = PurePosixPath(str(fields[path_field]).replace("\\", "/"))
        if relative_path.is_absolute() or ".." in relative_path.parts:
            raise ValueError(
                f"Invalid {path_field} {str(relative_path)!r} in {where}: expected a path inside {image_dir}"
            )
        record = ImageRecord(
            path=str(image_dir / relative_path),
            pid=_parse_id(fields["id"], where),
            camid=camid_of(relative_path.name, where),
            captions=captions,
            key=key_of(relative_path),
        )
        split = fields["split"] if fields["split"] in ("train", "test") else "val"
        splits[split].append(record)

    if without_captions:
        logger.warning(
            "%s: skipped %d images without any caption in %s", name, without_captions, annotation_file
        )
    dataset = T2IDataset(
        name=name, train=assign_train_labels(splits["train"]), val=splits["val"], test=splits["test"]
    )
    _log_t2i(dataset, annotation_file)
    return dataset


def _load_json_list(annotation_file: Path) -> list[Any]:
    try:
        entries = json.loads(annotation_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"Invalid JSON in {annotation_file}: {err}. Restore the original file.") from err
    if not isinstance(entries, list):
        raise ValueError(
            f"Invalid annotation file {annotation_file}: expected a JSON list of image entries, "
            f"got {type(entries).__name__}"
        )
    return entries


def _entry_fields(entry: Any, where: str, path_field: str) -> dict[str, Any]:
    required = ("id", "split", "captions", path_field)
    if not isinstance(entry, dict):
        raise ValueError(
            f"Invalid {where}: expected an object with keys {required}, got {type(entry).__name__}"
        )
    missing = [key for key in required if key not in entry]
    if missing:
        raise ValueError(f"Invalid {where}: missing keys {missing} (expected {required})")
    return entry


def _parse_id(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise ValueError(f"Invalid id {value!r} in {where}: expected an integer")
    return int(value)


def _clean_captions(value: Any, where: str) -> tuple[str, ...]:
    """Return the non-blank captions, stripped. A single string counts as one caption."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(caption, str) for caption in value):
        raise ValueError(f"Invalid captions in {where}: expected a list of strings, got {value!r}")
    return tuple(caption.strip() for caption in value if caption.strip())


def _log_t2i(dataset: T2IDataset, annotation_file: Path) -> None:
    for split, records in (("train", dataset.train), ("val", dataset.val), ("test", dataset.test)):
        logger.info(
            "%s %s: %d ids, %d images, %d captions (%s)",
            dataset.name,
            split,
            len({record.pid for record in records}),
            len(records),
            sum(len(record.captions) for record in records),
            annotation_file,
        )

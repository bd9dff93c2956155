"""Plain records that every dataset reader returns and every consumer reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImageRecord:
    """One pedestrian image with its labels.

    `pid` is the dataset's raw identity (-1 when unknown, 0 for Market-style distractors), `camid` the
    0-based camera index (-1 when unknown), `captions` the descriptions of this image (empty for I2I
    sets), and `key` a dataset-independent name of the image file used to find the same image in two
    datasets (for example the Market-1501 file name of a CUHK-PEDES image taken from Market-1501).
    `label` is the contiguous training class index (0..num_labels-1) of training records and -1 on
    query, gallery, val and test records.
    """

    path: str
    pid: int
    camid: int = -1
    captions: tuple[str, ...] = ()
    key: str = ""
    label: int = -1


@dataclass(frozen=True)
class I2IDataset:
    """An image-to-image ReID set: training images, query images and gallery images."""

    name: str
    train: list[ImageRecord] = field(default_factory=list)
    query: list[ImageRecord] = field(default_factory=list)
    gallery: list[ImageRecord] = field(default_factory=list)


@dataclass(frozen=True)
class T2IDataset:
    """A text-to-image ReID set: every record carries one or more captions."""

    name: str
    train: list[ImageRecord] = field(default_factory=list)
    val: list[ImageRecord] = field(default_factory=list)
    test: list[ImageRecord] = field(default_factory=list)

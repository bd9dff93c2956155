"""Joint training data of a T2I set and its I2I partner, free of test images and with one label per person.

The T2I sets reuse images of the I2I sets (CUHK-PEDES contains Market-1501 crops, ICFG-PEDES and
RSTPReid are built from MSMT17), so training on both naively leaks test images and gives one person
two labels. `merge_pair` links records through their `key` (the same image file in both sets) and:

1. groups persons with a union-find: two persons are one when they share an image key, across any
   split of either set;
2. drops every training image of a group that reaches a test split (T2I test, I2I query or gallery),
   which removes the shared test images themselves and the other images of those test persons;
3. numbers the remaining groups 0..num_labels-1 and writes that `label` into both training lists.

Persons shared by the two sets without any shared image cannot be detected and keep two labels.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hpl.data.datasets import PAPER_PAIRS, load_dataset
from hpl.data.records import I2IDataset, ImageRecord, T2IDataset

logger = logging.getLogger(__name__)

# A person node of the union-find: (split group, pid). Pids are compared only within one split group
# because some sets number train and test persons independently (MSMT17 before offsetting, ICFG-PEDES).
PersonNode = tuple[str, int]

_T2I_TRAIN, _T2I_VAL, _T2I_TEST = "t2i_train", "t2i_val", "t2i_test"
_I2I_TRAIN, _I2I_TEST = "i2i_train", "i2i_test"


@dataclass(frozen=True)
class PairStats:
    """Counts of what `merge_pair` kept, dropped and merged."""

    t2i_train_images: int  # T2I training images kept
    i2i_train_images: int  # I2I training images kept
    dropped_t2i_images: int  # T2I training images of persons found in a test split
    dropped_i2i_images: int  # I2I training images of persons found in a test split
    dropped_leaked_images: int  # of the dropped images, those that are themselves test images
    dropped_t2i_persons: int  # T2I training pids dropped
    dropped_i2i_persons: int  # I2I training pids dropped
    shared_labels: int  # labels covering training persons of both sets
    merged_persons: int  # training pids that share their label with another training pid


@dataclass(frozen=True)
class PairDataset:
    """A T2I set and its I2I partner ready for joint training.

    `train_t2i` and `train_i2i` carry the joint `label` (0..num_labels-1, one per person across both
    sets). The evaluation splits are the readers' records, unchanged.
    """

    name: str
    train_t2i: list[ImageRecord]
    train_i2i: list[ImageRecord]
    num_labels: int
    i2i_query: list[ImageRecord]
    i2i_gallery: list[ImageRecord]
    t2i_test: list[ImageRecord]
    t2i_val: list[ImageRecord]
    stats: PairStats


class _UnionFind:
    def __init__(self) -> None:
        self._parent: dict[object, object] = {}

    def find(self, node: object) -> object:
        root = self._parent.setdefault(node, node)
        while root != self._parent[root]:
            root = self._parent[root]
        while node != root:
            self._parent[node], node = root, self._parent[node]
        return root

    def union(self, first: object, second: object) -> None:
        first_root, second_root = self.find(first), self.find(second)
        if first_root != second_root:
            self._parent[second_root] = first_root


def merge_pair(t2i: T2IDataset, i2i: I2IDataset, protect_val: bool = False) -> PairDataset:
    """Merge a T2I set and its I2I partner into leak-free joint training lists with shared labels.

    `protect_val` also treats the T2I val split as a test split, so val persons never train either.
    The result is deterministic: I2I training persons are numbered first in pid order, then the
    T2I-only persons in pid order.
    """
    splits = {
        _T2I_TRAIN: t2i.train,
        _T2I_VAL: t2i.val,
        _T2I_TEST: t2i.test,
        _I2I_TRAIN: i2i.train,
        _I2I_TEST: i2i.query + i2i.gallery,
    }
    protected = {_T2I_TEST, _I2I_TEST} | ({_T2I_VAL} if protect_val else set())
    groups = _link_persons(splits)

    protected_roots = {
        groups.find(node) for group in protected for node in _person_nodes(group, splits[group])
    }
    protected_keys = {record.key for group in protected for record in splits[group] if record.key}
    label_of_root = _number_groups(groups, splits, protected_roots)

    train_t2i, dropped_t2i = _relabel(_T2I_TRAIN, t2i.train, groups, label_of_root)
    train_i2i, dropped_i2i = _relabel(_I2I_TRAIN, i2i.train, groups, label_of_root)
    stats = _count(
        splits, groups, protected_roots, protected_keys, train_t2i, train_i2i, dropped_t2i, dropped_i2i
    )
    pair = PairDataset(
        name=f"{t2i.name}+{i2i.name}",
        train_t2i=train_t2i,
        train_i2i=train_i2i,
        num_labels=len(label_of_root),
        i2i_query=i2i.query,
        i2i_gallery=i2i.gallery,
        t2i_test=t2i.test,
        t2i_val=t2i.val,
        stats=stats,
    )
    _log_pair(pair, stats)
    return pair


def load_pair(
    t2i_name: str,
    t2i_root: str | Path,
    i2i_name: str | None = None,
    i2i_root: str | Path | None = None,
    protect_val: bool = False,
) -> PairDataset:
    """Read a T2I set and its I2I partner and merge them with `merge_pair`.

    `i2i_name` defaults to the partner used by HPL (`PAPER_PAIRS`) and `i2i_root` to `t2i_root`, so
    a folder containing both sets, such as the synthetic benchmark output, needs one path.
    """
    if i2i_name is None:
        if t2i_name not in PAPER_PAIRS:
            raise ValueError(f"No default I2I partner for {t2i_name!r}: pass i2i_name (pairs: {PAPER_PAIRS})")
        i2i_name = PAPER_PAIRS[t2i_name]

    t2i = load_dataset(t2i_name, t2i_root)
    i2i = load_dataset(i2i_name, t2i_root if i2i_root is None else i2i_root)
    if not isinstance(t2i, T2IDataset):
        raise ValueError(f"{t2i_name!r} is not a text-to-image dataset: expected one with captions")
    if not isinstance(i2i, I2IDataset):
        raise ValueError(f"{i2i_name!r} is not an image-to-image dataset: expected query and gallery splits")
    return merge_pair(t2i, i2i, protect_val=protect_val)


def _person_nodes(group: str, records: Iterable[ImageRecord]) -> set[PersonNode]:
    return {(group, record.pid) for record in records}


def _link_persons(splits: dict[str, list[ImageRecord]]) -> _UnionFind:
    """Union every person node with the key nodes of its images, so shared images join persons."""
    groups = _UnionFind()
    for group, records in splits.items():
        for record in records:
            person = (group, record.pid)
            groups.find(person)
            if record.key:
                groups.union(person, ("key", record.key))
    return groups


def _number_groups(
    groups: _UnionFind, splits: dict[str, list[ImageRecord]], protected_roots: set[object]
) -> dict[object, int]:
    label_of_root: dict[object, int] = {}
    for group in (_I2I_TRAIN, _T2I_TRAIN):
        for pid in sorted({record.pid for record in splits[group]}):
            root = groups.find((group, pid))
            if root not in protected_roots and root not in label_of_root:
                label_of_root[root] = len(label_of_root)
    return label_of_root


def _relabel(
    group: str, records: list[ImageRecord], groups: _UnionFind, label_of_root: dict[object, int]
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """Split `records` into kept records (with their joint label) and dropped records."""
    kept, dropped = [], []
    for record in records:
        label = label_of_root.get(groups.find((group, record.pid)))
        if label is None:
            dropped.append(record)
        else:
            kept.append(dataclasses.replace(record, label=label))
    return kept, dropped


def _count(
    splits: dict[str, list[ImageRecord]],
    groups: _UnionFind,
    protected_roots: set[object],
    protected_keys: set[str],
    train_t2i: list[ImageRecord],
    train_i2i: list[ImageRecord],
    dropped_t2i: list[ImageRecord],
    dropped_i2i: list[ImageRecord],
) -> PairStats:
    persons_per_label: dict[int, set[PersonNode]] = {}
    for group, records in ((_T2I_TRAIN, train_t2i), (_I2I_TRAIN, train_i2i)):
        for record in records:
            persons_per_label.setdefault(record.label, set()).add((group, record.pid))

    def dropped_persons(group: str) -> int:
        nodes = _person_nodes(group, splits[group])
        return sum(groups.find(node) in protected_roots for node in nodes)

    return PairStats(
        t2i_train_images=len(train_t2i),
        i2i_train_images=len(train_i2i),
        dropped_t2i_images=len(dropped_t2i),
        dropped_i2i_images=len(dropped_i2i),
        dropped_leaked_images=sum(record.key in protected_keys for record in dropped_t2i + dropped_i2i),
        dropped_t2i_persons=dropped_persons(_T2I_TRAIN),
        dropped_i2i_persons=dropped_persons(_I2I_TRAIN),
        shared_labels=sum(
            {group for group, _ in persons} == {_T2I_TRAIN, _I2I_TRAIN}
            for persons in persons_per_label.values()
        ),
        merged_persons=sum(len(persons) for persons in persons_per_label.values() if len(persons) > 1),
    )


def _log_pair(pair: PairDataset, stats: PairStats) -> None:
    logger.info(
        "%s: %d labels (%d shared by both sets, %d training pids merged), %d T2I and %d I2I training images",
        pair.name,
        pair.num_labels,
        stats.shared_labels,
        stats.merged_persons,
        stats.t2i_train_images,
        stats.i2i_train_images,
    )
    logger.info(
        "%s: dropped %d T2I and %d I2I training images (%d T2I and %d I2I pids found in a test split, "
        "%d of the images are test images themselves)",
        pair.name,
        stats.dropped_t2i_images,
        stats.dropped_i2i_images,
        stats.dropped_t2i_persons,
        stats.dropped_i2i_persons,
        stats.dropped_leaked_images,
    )

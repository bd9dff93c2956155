"""Helpers shared by the dataset readers: locating a dataset folder and numbering training labels."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from hpl.data.records import ImageRecord

logger = logging.getLogger(__name__)


def find_dataset_dir(
    root: str | Path,
    folder_names: Sequence[str],
    required: Sequence[str],
    layout: str,
) -> Path:
    """Return the folder that contains every entry of `required`: `root` itself or `root/<folder name>`.

    `layout` describes the expected tree for the error message.

    Raises:
        FileNotFoundError: no candidate folder contains all of `required`; the message lists the
            folders searched, the missing entries and the expected layout.
    """
    root = Path(root).expanduser().resolve()
    candidates = [root, *(root / name for name in folder_names)]
    for candidate in candidates:
        if all((candidate / entry).exists() for entry in required):
            return candidate

    missing = [str(root / entry) for entry in required if not (root / entry).exists()]
    searched = ", ".join(str(candidate) for candidate in candidates)
    raise FileNotFoundError(
        f"Dataset not found under {root}: missing {', '.join(missing)}. Searched {searched}. "
        f"Expected layout: {layout}"
    )


def assign_train_labels(records: Iterable[ImageRecord]) -> list[ImageRecord]:
    """Return copies of `records` with `label` set to the rank of their pid among the sorted unique pids.

    Labels are contiguous from 0, so a set whose training pids are 1..N gets `pid - 1` and one whose
    pids are 0..N-1 gets `pid`.
    """
    records = list(records)
    label_of_pid = {pid: label for label, pid in enumerate(sorted({record.pid for record in records}))}
    return [dataclasses.replace(record, label=label_of_pid[record.pid]) for record in records]


def camid_from_number(camera: int, source: str) -> int:
    """Return the 0-based camid of a 1-based camera number read from `source` (a file name or line)."""
    if camera < 1:
        raise ValueError(f"Invalid camera number {camera} in {source}: expected 1 or more")
    return camera - 1

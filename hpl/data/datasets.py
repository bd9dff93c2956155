"""Registry of dataset readers: `load_dataset("market1501", root)` and friends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpl.data.i2i_readers import read_dukemtmc, read_market1501, read_msmt17
from hpl.data.records import I2IDataset, T2IDataset
from hpl.data.t2i_readers import read_cuhk_pedes, read_icfg_pedes, read_rstpreid

logger = logging.getLogger(__name__)

DatasetReader = Callable[..., I2IDataset | T2IDataset]

_READERS: dict[str, DatasetReader] = {
    "market1501": read_market1501,
    "dukemtmc": read_dukemtmc,
    "msmt17": read_msmt17,
    "cuhk_pedes": read_cuhk_pedes,
    "icfg_pedes": read_icfg_pedes,
    "rstpreid": read_rstpreid,
    # The synthetic persons generator (hpl.data.synthetic) writes Market-1501 and CUHK-PEDES
    # folders, so the readers above load its output; it needs no entry of its own.
}

I2I_DATASETS = ("market1501", "dukemtmc", "msmt17")
T2I_DATASETS = ("cuhk_pedes", "icfg_pedes", "rstpreid")

# The T2I set and its I2I partner in each joint training pair used by HPL.
PAPER_PAIRS = {"cuhk_pedes": "market1501", "icfg_pedes": "msmt17", "rstpreid": "dukemtmc"}


def register_dataset(name: str, reader: DatasetReader) -> None:
    """Add a reader under `name`: a callable taking the dataset root (and keyword options)."""
    if name in _READERS and _READERS[name] is not reader:
        raise ValueError(f"Dataset name {name!r} is already registered to {_READERS[name].__qualname__}")
    _READERS[name] = reader


def dataset_names() -> list[str]:
    """Return the registered dataset names, sorted."""
    return sorted(_READERS)


def load_dataset(name: str, root: str | Path, **options: Any) -> I2IDataset | T2IDataset:
    """Read the dataset `name` from `root`, passing `options` to its reader (for example `merge_val`).

    Raises:
        ValueError: `name` is not registered.
        FileNotFoundError: the dataset folder or annotation file is missing; the message names the
            path and the expected layout.
    """
    reader = _READERS.get(name)
    if reader is None:
        raise ValueError(f"Unknown dataset {name!r}: expected one of {', '.join(dataset_names())}")
    logger.info("Reading %s from %s", name, root)
    return reader(root, **options)

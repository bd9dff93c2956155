"""Builders of tiny dataset folders in the real on-disk formats, for reader and pair tests."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

from PIL import Image


def _tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 16), (90, 120, 150)).save(buffer, format="JPEG")
    return buffer.getvalue()


TINY_JPEG = _tiny_jpeg()


def write_images(folder: Path, names: Iterable[str]) -> None:
    """Write one tiny JPEG for each relative name under `folder`."""
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(TINY_JPEG)


def build_market(
    root: Path,
    train: Iterable[str],
    query: Iterable[str],
    gallery: Iterable[str],
    folder: str = "Market-1501",
) -> Path:
    """Write a Market-1501 style folder (also the DukeMTMC-reID layout) and return it."""
    dataset_dir = root / folder
    write_images(dataset_dir / "bounding_box_train", train)
    write_images(dataset_dir / "query", query)
    write_images(dataset_dir / "bounding_box_test", gallery)
    return dataset_dir


def build_t2i(
    root: Path, folder: str, annotation: str, entries: list[dict], path_field: str = "file_path"
) -> Path:
    """Write a T2I folder: `imgs/` with one JPEG per entry and the JSON annotation list."""
    dataset_dir = root / folder
    write_images(dataset_dir / "imgs", (entry[path_field] for entry in entries))
    (dataset_dir / annotation).write_text(json.dumps(entries), encoding="utf-8")
    return dataset_dir


def cuhk_entry(pid: int, split: str, file_path: str, captions: list[str] | None = None) -> dict:
    """Return one reid_raw.json entry with two default captions."""
    if captions is None:
        captions = [f"person {pid} in a red coat", f"person {pid} carrying a bag"]
    return {"id": pid, "split": split, "file_path": file_path, "captions": captions, "processed_tokens": []}

"""Contact sheet: generated images of different people, views and cameras tiled into one PNG."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from hpl.data.synthetic.layout import IMAGE_HEIGHT, IMAGE_WIDTH


def write_contact_sheet(
    out_dir: str | Path, sheet_path: str | Path, count: int = 40, columns: int = 10, zoom: int = 2
) -> Path:
    """Tile `count` generated images of different people, views and cameras into one PNG.

    Each tile is labelled with the person, view, camera and held object, read from attributes.jsonl.
    """
    out = Path(out_dir)
    records = [
        json.loads(line) for line in (out / "attributes.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    chosen = _pick_varied(records, count)
    rows = math.ceil(len(chosen) / columns)
    tile_w, tile_h, label_h = IMAGE_WIDTH * zoom, IMAGE_HEIGHT * zoom, 22
    sheet = Image.new("RGB", (columns * tile_w, rows * (tile_h + label_h)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, record in enumerate(chosen):
        x, y = (index % columns) * tile_w, (index // columns) * (tile_h + label_h)
        with Image.open(out / record["paths"][0]) as tile:
            sheet.paste(tile.convert("RGB").resize((tile_w, tile_h), Image.Resampling.NEAREST), (x, y))
        instance = record["instance"]
        draw.text(
            (x + 2, y + tile_h), f"{record['person'] or record['kind']} c{instance['camid']}", fill=(0, 0, 0)
        )
        draw.text((x + 2, y + tile_h + 10), f"{instance['view']} {instance['held_object']}", fill=(0, 0, 0))
    sheet_path = Path(sheet_path)
    sheet_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(sheet_path)
    return sheet_path


def _pick_varied(records: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Pick one image per person, preferring (view, camera) pairs used least so far."""
    used: Counter[tuple[str, int]] = Counter()
    by_person: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_person.setdefault(record["person"] or record["key"], []).append(record)
    chosen = []
    for candidates in by_person.values():
        best = min(
            candidates, key=lambda record: used[(record["instance"]["view"], record["instance"]["camid"])]
        )
        used[(best["instance"]["view"], best["instance"]["camid"])] += 1
        chosen.append(best)
        if len(chosen) == count:
            break
    return chosen

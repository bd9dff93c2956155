"""Generating a benchmark: rendering its images and writing reid_raw.json, truth.json and attributes.jsonl."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpl.data.synthetic.cameras import Camera, camera_background
from hpl.data.synthetic.captions import tokenize_caption
from hpl.data.synthetic.layout import CUHK_DIR, MARKET_DIR
from hpl.data.synthetic.plan import ImageSpec, _Plan, plan_dataset
from hpl.data.synthetic.render import encode_jpeg, render_image
from hpl.data.synthetic.seeds import _stream
from hpl.data.synthetic.settings import SyntheticSettings, make_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyntheticSummary:
    """Counts and timing of one call of `generate`."""

    out_dir: Path
    preset: str
    seed: int
    settings: SyntheticSettings
    num_persons: int
    num_files: int  # JPEG files written, CUHK-PEDES copies of Market images included
    num_rendered: int  # distinct images drawn
    counts: dict[str, int]  # images and identities per split, see `split_counts`
    seconds: float  # wall time of rendering and writing images

    @property
    def images_per_second(self) -> float:
        return self.num_rendered / self.seconds if self.seconds > 0 else float("inf")


def generate(
    out_dir: str | Path,
    preset: str = "demo",
    seed: int = 0,
    num_ids: int | None = None,
    workers: int = 1,
    **overrides: Any,
) -> SyntheticSummary:
    """Generate a synthetic benchmark into `out_dir` (created; existing generated folders are replaced).

    `preset` picks the settings ("demo" or "benchmark"), `num_ids` rescales the number of people, and
    keyword `overrides` set any field of SyntheticSettings. The output is identical for any `workers`.
    """
    settings = make_settings(preset, num_ids=num_ids, **overrides)
    out = Path(out_dir)
    plan = plan_dataset(settings, seed)
    _prepare_folders(out)
    started = time.perf_counter()
    _render_all(out, plan, settings, seed, workers)
    seconds = time.perf_counter() - started
    _write_reid_raw(out, plan.images)
    _write_truth(out, plan, preset, seed, settings)
    _write_attributes(out, plan.images)
    counts = split_counts(plan)
    summary = SyntheticSummary(
        out_dir=out,
        preset=preset,
        seed=seed,
        settings=settings,
        num_persons=len(plan.persons),
        num_files=sum(len(image.output_paths()) for image in plan.images),
        num_rendered=len(plan.images),
        counts=counts,
        seconds=seconds,
    )
    logger.info(
        "rendered %d images in %.1f s (%.0f images/s, %d worker(s))",
        summary.num_rendered,
        seconds,
        summary.images_per_second,
        workers,
    )
    return summary


def _prepare_folders(out: Path) -> None:
    """Create the output folders, replacing those of an earlier run (marked by its truth.json).

    Raises FileExistsError when `out` has Market-1501 or CUHK-PEDES folders but no truth.json, because
    they may be a real dataset.
    """
    existing = [folder for folder in (out / MARKET_DIR, out / CUHK_DIR) if folder.exists()]
    if existing and not (out / "truth.json").is_file():
        raise FileExistsError(
            f"{existing[0]} exists and was not written by this generator (no truth.json in {out}); "
            "choose an empty output folder"
        )
    for folder in existing:
        shutil.rmtree(folder)
    for folder in ("bounding_box_train", "bounding_box_test", "query"):
        (out / MARKET_DIR / folder).mkdir(parents=True)
    (out / CUHK_DIR / "imgs" / "Market").mkdir(parents=True)
    (out / CUHK_DIR / "imgs" / "SYN").mkdir(parents=True)


def _render_all(out: Path, plan: _Plan, settings: SyntheticSettings, seed: int, workers: int) -> None:
    if workers <= 1:
        _render_chunk(out, plan.images, plan.cameras, settings)
        return
    chunk_size = max(1, math.ceil(len(plan.images) / (workers * 8)))
    chunks = [plan.images[start : start + chunk_size] for start in range(0, len(plan.images), chunk_size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_render_chunk, out, chunk, plan.cameras, settings) for chunk in chunks]
        for future in futures:
            future.result()


def _render_chunk(
    out: Path, images: list[ImageSpec], cameras: list[Camera], settings: SyntheticSettings
) -> None:
    for image in images:
        camera = cameras[image.instance.camid - 1]
        background_camera, view = _background_view(image, camera, cameras, settings)
        background = camera_background(background_camera, view)
        pixels = render_image(image.identity, image.instance, camera, background, settings, image.render_seed)
        data = encode_jpeg(pixels, image.instance.jpeg_quality)
        for path in image.output_paths():
            (out / path).write_bytes(data)


def _background_view(
    image: ImageSpec, camera: Camera, cameras: list[Camera], settings: SyntheticSettings
) -> tuple[Camera, int]:
    """Pick the camera whose background the image shows, and which of its views."""
    stream = _stream(image.render_seed, "background view")
    view = stream.randrange(settings.backgrounds_per_camera)
    if settings.shared_backgrounds:
        camera = cameras[stream.randrange(len(cameras))]
    return camera, view


def _write_reid_raw(out: Path, images: list[ImageSpec]) -> None:
    records = []
    for image in images:
        if image.cuhk_path is None:
            continue
        records.append(
            {
                "split": image.cuhk_split,
                "captions": image.captions,
                "file_path": image.cuhk_path,
                "processed_tokens": [tokenize_caption(caption) for caption in image.captions],
                "id": image.cuhk_id,
            }
        )
    (out / CUHK_DIR / "reid_raw.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")


def _write_truth(out: Path, plan: _Plan, preset: str, seed: int, settings: SyntheticSettings) -> None:
    """Write truth.json: every person's labels in both datasets and the Market images they share."""
    persons = [
        {
            "person": person.name,
            "group": person.group,
            "market_pid": person.market_pid,
            "market_split": person.market_split,
            "cuhk_id": person.cuhk_id,
            "cuhk_split": person.cuhk_split,
            "uniform_group": person.identity.uniform_group,
            "shared_keys": sorted(person.shared_keys),
        }
        for person in plan.persons
    ]
    truth = {
        "preset": preset,
        "seed": seed,
        "settings": dataclasses.asdict(settings),
        "cameras": [dataclasses.asdict(camera) for camera in plan.cameras],
        "counts": split_counts(plan),
        "persons": persons,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")


def _write_attributes(out: Path, images: list[ImageSpec]) -> None:
    """Write attributes.jsonl: one JSON object per rendered image."""
    with (out / "attributes.jsonl").open("w", encoding="utf-8") as handle:
        for image in images:
            record = {
                "key": image.key,
                "paths": image.output_paths(),
                "person": image.person,
                "kind": "junk"
                if image.identity is None
                else ("distractor" if image.person is None else "person"),
                "market_pid": image.market_pid,
                "market_folder": image.market_folder,
                "cuhk_id": image.cuhk_id,
                "cuhk_split": image.cuhk_split,
                "cuhk_file_path": image.cuhk_path,
                "identity": dataclasses.asdict(image.identity) if image.identity else None,
                "instance": dataclasses.asdict(image.instance),
                "captions": image.captions,
                "caption_facts": [
                    [dataclasses.asdict(fact) for fact in facts] for facts in image.caption_facts
                ],
            }
            handle.write(json.dumps(record) + "\n")


def split_counts(plan: _Plan) -> dict[str, int]:
    """Count images and identities per split of both datasets (distractor and junk images separately)."""
    counts: Counter[str] = Counter()
    ids: dict[str, set[str]] = {}
    for image in plan.images:
        if image.market_folder is not None:
            if image.market_pid == 0:
                counts["market_distractor_images"] += 1
            elif image.market_pid == -1:
                counts["market_junk_images"] += 1
            else:
                counts[f"market_{image.market_folder}_images"] += 1
                ids.setdefault(f"market_{image.market_folder}_ids", set()).add(image.person or "")
        if image.cuhk_path is not None:
            counts[f"cuhk_{image.cuhk_split}_images"] += 1
            counts[f"cuhk_{image.cuhk_split}_captions"] += len(image.captions)
            ids.setdefault(f"cuhk_{image.cuhk_split}_ids", set()).add(image.person or "")
            if image.market_folder is not None:
                counts["shared_images"] += 1
    counts.update({name: len(members) for name, members in ids.items()})
    return dict(sorted(counts.items()))

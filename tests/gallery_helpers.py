"""Small galleries and checkpoints for the engine, app and browser tests, built in temporary folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

import hpl

NUM_PIDS = 4
NUM_CAMERAS = 3


def save_tiny_checkpoint(path: Path, seed: int = 0, options: dict | None = None, **metadata: object) -> Path:
    """Save a random-init hpl-tiny model (128x64 input, HPLConfig `options`) as an HPL checkpoint."""
    torch.manual_seed(seed)
    return hpl.save_checkpoint(hpl.create_model(**(options or {})), path, **metadata)


def draw_person(pid: int, camid: int, size: tuple[int, int] = (64, 128)) -> Image.Image:
    """Draw a crude pedestrian: the colours depend on the pid, the background on the camera."""
    rng = np.random.default_rng(pid * 100 + camid)
    background = tuple(int(value) for value in rng.integers(80, 180, 3))
    image = Image.new("RGB", size, background)
    palette = np.random.default_rng(pid).integers(0, 255, (3, 3))
    width, height = size
    image.paste(tuple(int(v) for v in palette[0]), (width // 3, height // 8, 2 * width // 3, height // 4))
    image.paste(tuple(int(v) for v in palette[1]), (width // 4, height // 4, 3 * width // 4, 3 * height // 5))
    image.paste(
        tuple(int(v) for v in palette[2]), (width // 4, 3 * height // 5, 3 * width // 4, 15 * height // 16)
    )
    return image


def market_name(pid: int, camid: int, frame: int = 1) -> str:
    """Return a Market-1501 file name; `camid` is 0-based as stored, the name is 1-based."""
    return f"{pid:04d}_c{camid + 1}s1_{frame:06d}_01.jpg"


def make_gallery(folder: Path, num_pids: int = NUM_PIDS, num_cameras: int = NUM_CAMERAS) -> Path:
    """Write num_pids x num_cameras Market-named JPEG crops into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for pid in range(1, num_pids + 1):
        for camid in range(num_cameras):
            draw_person(pid, camid).save(folder / market_name(pid, camid), quality=90)
    return folder

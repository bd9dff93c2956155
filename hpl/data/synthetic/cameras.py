"""Cameras and their procedurally painted backgrounds and lighting."""

from __future__ import annotations

import colorsys
import functools
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageFilter

from hpl.data.synthetic.layout import BACKGROUND_MARGIN, CANVAS_HEIGHT, CANVAS_WIDTH
from hpl.data.synthetic.seeds import _stream
from hpl.data.synthetic.vocabulary import SCENES


@dataclass(frozen=True)
class Camera:
    """One fixed camera: its background scene, lighting and colour cast."""

    camid: int
    scene: str
    brightness: float  # multiplier on every channel
    contrast: float  # slope around mid-grey
    cast: tuple[float, float, float]  # per-channel multipliers (colour cast)
    palette_seed: int  # seed of the scene's own colours and texture


def make_cameras(seed: int, num_cameras: int) -> list[Camera]:
    """Build the cameras of one dataset; scenes rotate so that every kind appears."""
    rng = _stream(seed, "cameras")
    offset = rng.randrange(len(SCENES))
    cameras = []
    for index in range(num_cameras):
        cameras.append(
            Camera(
                camid=index + 1,
                scene=SCENES[(index + offset) % len(SCENES)],
                brightness=round(rng.uniform(0.78, 1.12), 3),
                contrast=round(rng.uniform(0.8, 1.1), 3),
                cast=(
                    round(rng.uniform(0.9, 1.1), 3),
                    round(rng.uniform(0.92, 1.08), 3),
                    round(rng.uniform(0.88, 1.12), 3),
                ),
                palette_seed=rng.randrange(1 << 30),
            )
        )
    return cameras


def with_lighting_strength(camera: Camera, strength: float) -> Camera:
    """Scale the camera's brightness, contrast and cast offsets from neutral (1.0) by `strength`."""

    def scaled(value: float) -> float:
        return round(1.0 + (value - 1.0) * strength, 3)

    return replace(
        camera,
        brightness=scaled(camera.brightness),
        contrast=scaled(camera.contrast),
        cast=(scaled(camera.cast[0]), scaled(camera.cast[1]), scaled(camera.cast[2])),
    )


@functools.lru_cache(maxsize=256)
def camera_background(camera: Camera, view: int) -> Image.Image:
    """Return view number `view` of the camera's background, painted once per process.

    View 0 is the camera's own palette. Other views repaint the same scene kind with another
    palette and texture, like the different stretches of street in one camera's view.
    """
    if view == 0:
        return render_background(camera)
    palette_seed = _stream(camera.palette_seed, "background view", view).randrange(1 << 30)
    return render_background(replace(camera, palette_seed=palette_seed))


def render_background(camera: Camera) -> Image.Image:
    """Draw the camera's background texture at the drawing scale, with a margin for crop jitter."""
    rng = np.random.default_rng(camera.palette_seed)
    height = CANVAS_HEIGHT + 2 * BACKGROUND_MARGIN
    width = CANVAS_WIDTH + 2 * BACKGROUND_MARGIN
    painters = {"street": _paint_street, "wall": _paint_wall, "grass": _paint_grass, "indoor": _paint_indoor}
    pixels = painters[camera.scene](rng, height, width)
    pixels += _smooth_noise(rng, height, width, 6.0)[..., None] * 10.0
    pixels += rng.normal(0.0, 4.0, (height, width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _smooth_noise(rng: np.random.Generator, height: int, width: int, radius: float) -> np.ndarray:
    noise = Image.fromarray((rng.random((height, width)) * 255).astype(np.uint8), "L")
    smooth = np.asarray(noise.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32)
    return (smooth - smooth.mean()) / (smooth.std() + 1e-6)


def _random_colour(
    rng: np.random.Generator, hue: tuple[float, float], sat: tuple[float, float], val: tuple[float, float]
) -> np.ndarray:
    rgb = colorsys.hsv_to_rgb(rng.uniform(*hue), rng.uniform(*sat), rng.uniform(*val))
    return np.array(rgb, dtype=np.float32) * 255.0


def _paint_street(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Paint a building facade with windows above a paved walkway with perspective joints."""
    horizon = int(height * rng.uniform(0.32, 0.45))
    pixels = np.empty((height, width, 3), dtype=np.float32)
    pixels[:horizon] = _random_colour(rng, (0.0, 0.15), (0.05, 0.3), (0.45, 0.8))
    window = _random_colour(rng, (0.5, 0.65), (0.1, 0.3), (0.2, 0.4))
    step_x, step_y = int(rng.integers(26, 40)), int(rng.integers(30, 44))
    for top in range(6, horizon - 16, step_y):
        for left in range(int(rng.integers(0, 12)), width - 12, step_x):
            pixels[top : top + 18, left : left + 14] = window
    pixels[:horizon] *= np.linspace(0.9, 1.05, horizon)[:, None, None]
    ground = _random_colour(rng, (0.0, 1.0), (0.0, 0.08), (0.5, 0.72))
    pixels[horizon:] = ground
    rows = np.arange(horizon, height)
    joints = ((rows - horizon) ** 0.7 % 9) < 1.0
    pixels[horizon:][joints] *= 0.8
    pixels[horizon : horizon + 4] *= 0.7  # kerb shadow
    return pixels


def _paint_wall(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Paint a brick wall with mortar joints above a strip of pavement."""
    brick = _random_colour(rng, (0.0, 0.07), (0.35, 0.65), (0.45, 0.75))
    mortar = _random_colour(rng, (0.08, 0.12), (0.05, 0.15), (0.7, 0.85))
    pixels = np.empty((height, width, 3), dtype=np.float32)
    pixels[:] = brick
    rows, cols = np.mgrid[0:height, 0:width]
    course = rows // 12
    mortar_mask = (rows % 12 < 2) | (((cols + (course % 2) * 14) % 28) < 2)
    pixels[mortar_mask] = mortar
    shade = rng.uniform(0.85, 1.1, (height // 12 + 1, width // 28 + 2))
    pixels *= shade[course, (cols + (course % 2) * 14) // 28][..., None]
    ground_top = int(height * rng.uniform(0.82, 0.9))
    pixels[ground_top:] = _random_colour(rng, (0.0, 1.0), (0.0, 0.06), (0.45, 0.6))
    return pixels


def _paint_grass(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Trees or a hedge above a lawn crossed by a paved path."""
    horizon = int(height * rng.uniform(0.25, 0.4))
    pixels = np.empty((height, width, 3), dtype=np.float32)
    foliage = _random_colour(rng, (0.22, 0.35), (0.4, 0.7), (0.2, 0.4))
    pixels[:horizon] = foliage
    pixels[:horizon] *= (1.0 + 0.25 * _smooth_noise(rng, horizon, width, 3.0))[..., None]
    lawn = _random_colour(rng, (0.2, 0.3), (0.4, 0.7), (0.4, 0.65))
    pixels[horizon:] = lawn
    pixels[horizon:] *= (1.0 + 0.08 * _smooth_noise(rng, height - horizon, width, 1.0))[..., None]
    path_top = int(height * rng.uniform(0.62, 0.78))
    pixels[path_top:] = _random_colour(rng, (0.05, 0.12), (0.05, 0.25), (0.55, 0.75))
    return pixels


def _paint_indoor(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Paint a wall with a door frame and a skirting board above a tiled floor."""
    floor_top = int(height * rng.uniform(0.6, 0.72))
    pixels = np.empty((height, width, 3), dtype=np.float32)
    pixels[:floor_top] = _random_colour(rng, (0.0, 1.0), (0.05, 0.3), (0.65, 0.92))
    pixels[:floor_top] *= np.linspace(1.05, 0.85, floor_top)[:, None, None]
    door_left = int(rng.integers(0, width - 50))
    pixels[int(height * 0.1) : floor_top, door_left : door_left + 4] *= 0.6
    pixels[int(height * 0.1) : floor_top, door_left + 46 : door_left + 50] *= 0.6
    pixels[floor_top - 6 : floor_top] *= 0.55
    light, dark = _random_colour(rng, (0.0, 1.0), (0.0, 0.2), (0.6, 0.85)), None
    dark = light * 0.78
    rows, cols = np.mgrid[floor_top:height, 0:width]
    checker = ((rows - floor_top) // 14 + cols // 20) % 2 == 0
    pixels[floor_top:] = np.where(checker[..., None], light, dark)
    return pixels


def lighting_table(camera: Camera, brightness: float) -> list[int]:
    """Return the 768-entry lookup table that applies the camera's lighting, contrast and colour cast."""
    table: list[int] = []
    for channel in range(3):
        gain = camera.brightness * brightness * camera.cast[channel]
        for value in range(256):
            adjusted = ((value - 128.0) * camera.contrast + 128.0) * gain
            table.append(min(255, max(0, int(adjusted))))
    return table

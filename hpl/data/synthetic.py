"""Procedural generator of synthetic pedestrians with captions, written as Market-1501 and CUHK-PEDES.

Real ReID data cannot be downloaded everywhere, so this module draws person crops (128x64 JPEG, the
Market-1501 crop size) and templated captions, and writes them in the two real on-disk formats:

- ``OUT/Market-1501/{bounding_box_train, bounding_box_test, query}`` named ``PPPP_cCsS_FFFFFF_BB.jpg``
  (query boxes are ``_00``), with ``0000_`` distractors and ``-1_`` junk boxes in ``bounding_box_test``.
- ``OUT/CUHK-PEDES/{imgs/..., reid_raw.json}``. Images taken from the Market part keep their Market
  file name under ``imgs/Market/``, as real CUHK-PEDES does; the others live under ``imgs/SYN/``.
- ``OUT/truth.json``: every synthetic person with its Market pid, CUHK id and shared image keys.
- ``OUT/attributes.jsonl``: one line per image with every identity and instance attribute drawn.

Identity attributes (body build, hair, skin tone, garments, shoes, bag, headwear) are fixed per person.
Instance attributes (view, walking pose, held object, camera, jitter, occlusion, blur, JPEG quality,
low resolution) change per image. Captions name a subset of identity attributes and, most of the
time, instance details, so text-to-image search needs cues that image-to-image search must ignore.

Everything is deterministic per seed: each image is drawn from its own random stream derived from the
seed and the image's key, so the output does not depend on the number of worker processes.

CLI: ``python -m hpl.data.synthetic --out DIR [--preset demo|benchmark] [--seed N] [--num-ids N]``.
"""

from __future__ import annotations

import argparse
import colorsys
import dataclasses
import io
import json
import logging
import math
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

logger = logging.getLogger(__name__)

IMAGE_HEIGHT = 128
IMAGE_WIDTH = 64
DRAW_SCALE = 2  # people are drawn at 2x and reduced with a box filter, which antialiases the edges
CANVAS_HEIGHT = IMAGE_HEIGHT * DRAW_SCALE
CANVAS_WIDTH = IMAGE_WIDTH * DRAW_SCALE
BACKGROUND_MARGIN = 24  # extra canvas pixels on each side of a camera background, used for crop jitter

MARKET_DIR = "Market-1501"
CUHK_DIR = "CUHK-PEDES"
MARKET_NAME_PATTERN = re.compile(r"^(-1|\d{4})_c(\d)s(\d)_(\d{6})_(\d{2})\.jpg$")

RGB = tuple[int, int, int]

# ---------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticSettings:
    """Sizes and difficulty knobs of one synthetic benchmark.

    Identity counts are disjoint groups of people. Market training identities are
    ``market_only_train_ids + shared_train_ids + cuhk_test_in_market_train_ids``; Market test identities
    are ``market_only_test_ids + shared_test_ids + market_test_in_cuhk_train_ids``; CUHK-PEDES training
    identities are ``cuhk_only_train_ids + shared_train_ids + market_test_in_cuhk_train_ids``; CUHK-PEDES
    test identities are ``cuhk_only_test_ids + shared_test_ids + cuhk_test_in_market_train_ids``.
    Ranges ``(low, high)`` are inclusive.
    """

    # identity groups
    market_only_train_ids: int = 90  # Market training people without captions
    market_only_test_ids: int = 40  # Market test people without captions
    cuhk_only_train_ids: int = 90  # CUHK-PEDES training people that never appear in Market
    cuhk_val_ids: int = 20  # CUHK-PEDES validation people (never in Market)
    cuhk_only_test_ids: int = 40  # CUHK-PEDES test people that never appear in Market
    shared_train_ids: int = 100  # people in both training splits, some images shared
    shared_test_ids: int = 50  # people in both test splits, some images shared
    market_test_in_cuhk_train_ids: int = 10  # Market test people whose shared images sit in CUHK train
    cuhk_test_in_market_train_ids: int = 10  # CUHK test people whose shared images sit in Market train
    num_distractors: int = 100  # Market gallery images of unrelated people, pid 0000
    num_junk: int = 40  # Market gallery junk boxes (background or body fragments), pid -1

    # images per identity
    num_cameras: int = 6  # Market cameras c1..cN (at most 9, one digit in the file name)
    market_train_images: tuple[int, int] = (6, 10)  # images per Market training identity
    market_train_cameras: tuple[int, int] = (2, 4)  # cameras that see one Market training identity
    market_test_cameras: tuple[int, int] = (2, 4)  # cameras that see one Market test identity (>= 2)
    query_cameras: tuple[int, int] = (1, 2)  # cameras with one query image each, per test identity
    gallery_per_camera: tuple[int, int] = (1, 3)  # gallery images per camera per test identity
    cuhk_images: tuple[int, int] = (3, 5)  # CUHK-PEDES images per identity, shared ones included
    shared_images: tuple[int, int] = (1, 2)  # Market images copied into CUHK-PEDES per shared identity
    captions_per_image: tuple[int, int] = (2, 2)  # captions per CUHK-PEDES image

    # identity difficulty
    palette_size: int = 12  # garment colours in use: 12 well-separated ones, up to 24 with near shades
    colour_jitter: int = 12  # max per-person RGB offset of garment colours (0-255 scale)
    uniform_fraction: float = 0.0  # fraction of people drawn in groups dressed alike
    uniform_group_size: tuple[int, int] = (4, 8)  # people per group dressed alike
    uniform_changed_details: tuple[int, int] = (1, 2)  # attributes re-drawn per member of such a group

    # caption difficulty
    caption_attribute_rate: float = 0.85  # chance that a caption names each visible identity attribute
    caption_instance_rate: float = 0.8  # chance that a caption names the view and the held object
    caption_colour_error_rate: float = 0.0  # chance that a named colour is replaced by a similar one

    # instance difficulty
    held_object_rate: float = 0.6  # chance that a person holds a phone, umbrella, cup or box
    standing_rate: float = 0.15  # chance of a standing pose instead of a walking one
    scale_jitter: float = 0.06  # max relative change of the person's height in the crop
    shift_jitter: float = 0.06  # max horizontal shift as a fraction of the crop width
    lighting_jitter: float = 0.08  # max per-image brightness change on top of the camera's
    occlusion_rate: float = 0.1  # chance of a pole, car or another person in front
    blur_rate: float = 0.1  # chance of a Gaussian blur (radius 0.4-1.2 px)
    low_res_rate: float = 0.05  # chance of a downscale-upscale by 2-4x
    jpeg_quality: tuple[int, int] = (75, 95)  # JPEG quality range


PRESETS: dict[str, SyntheticSettings] = {
    # Meant for a whole CPU training within about 30 minutes: about 680 merged training identities
    # (seed 0), 100 test identities per dataset, distinct people and captions naming most attributes
    # correctly. A from-scratch ViT overfits a few hundred captioned images within minutes, so the
    # CUHK-PEDES part holds several thousand.
    "demo": SyntheticSettings(cuhk_only_train_ids=500, cuhk_images=(5, 8)),
    # Meant to stay far from saturation: 750/750 Market identities and 1,000 CUHK-PEDES test identities
    # as in the real sets, groups dressed alike, partial and sometimes wrong captions, more occlusion,
    # blur and low resolution.
    # NOTE: these knobs were set by looking at the images. No trained baseline has yet confirmed that
    # this preset lands in the real benchmarks' range (T2I R1 about 40-65, I2I mAP about 50-80).
    "benchmark": SyntheticSettings(
        market_only_train_ids=350,
        market_only_test_ids=300,
        cuhk_only_train_ids=1600,
        cuhk_val_ids=200,
        cuhk_only_test_ids=550,
        shared_train_ids=350,
        shared_test_ids=400,
        market_test_in_cuhk_train_ids=50,
        cuhk_test_in_market_train_ids=50,
        num_distractors=1500,
        num_junk=500,
        market_train_images=(8, 16),
        market_test_cameras=(2, 5),
        query_cameras=(1, 3),
        gallery_per_camera=(1, 4),
        cuhk_images=(2, 4),
        captions_per_image=(1, 2),
        palette_size=24,
        colour_jitter=24,
        uniform_fraction=0.5,
        caption_attribute_rate=0.45,
        caption_instance_rate=0.75,
        caption_colour_error_rate=0.08,
        held_object_rate=0.75,
        scale_jitter=0.1,
        shift_jitter=0.1,
        lighting_jitter=0.15,
        occlusion_rate=0.3,
        blur_rate=0.25,
        low_res_rate=0.3,
        jpeg_quality=(35, 95),
    ),
}

_RANGE_FIELDS = tuple(
    f.name for f in dataclasses.fields(SyntheticSettings) if f.type in ("tuple[int, int]", tuple[int, int])
)
_ID_FIELDS = (
    "market_only_train_ids",
    "market_only_test_ids",
    "cuhk_only_train_ids",
    "cuhk_val_ids",
    "cuhk_only_test_ids",
    "shared_train_ids",
    "shared_test_ids",
    "market_test_in_cuhk_train_ids",
    "cuhk_test_in_market_train_ids",
)


def make_settings(preset: str = "demo", num_ids: int | None = None, **overrides: Any) -> SyntheticSettings:
    """Build the settings of a preset, optionally rescaled to about `num_ids` people, then overridden.

    `num_ids` scales every identity group (and the distractor and junk counts) by the same factor,
    keeping at least one person per group, so the difficulty knobs stay those of the preset.
    Raises ValueError for an unknown preset or field, or for inconsistent values.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    settings = PRESETS[preset]
    if num_ids is not None:
        settings = _rescale_identities(settings, num_ids)

    valid = {f.name for f in dataclasses.fields(SyntheticSettings)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f"unknown synthetic setting(s) {unknown}; valid names: {sorted(valid)}")
    settings = dataclasses.replace(settings, **overrides)
    validate_settings(settings)
    return settings


def _rescale_identities(settings: SyntheticSettings, num_ids: int) -> SyntheticSettings:
    if num_ids < len(_ID_FIELDS):
        raise ValueError(
            f"num_ids must be at least {len(_ID_FIELDS)} (one per identity group), got {num_ids}"
        )
    total = sum(getattr(settings, name) for name in _ID_FIELDS)
    factor = num_ids / total
    scaled = {name: max(1, round(getattr(settings, name) * factor)) for name in _ID_FIELDS}
    scaled["num_distractors"] = max(1, round(settings.num_distractors * factor))
    scaled["num_junk"] = max(1, round(settings.num_junk * factor))
    return dataclasses.replace(settings, **scaled)


def validate_settings(settings: SyntheticSettings) -> None:
    """Raise ValueError naming the first field whose value cannot produce a valid dataset."""
    for name in (*_ID_FIELDS, "num_distractors", "num_junk"):
        if getattr(settings, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(settings, name)}")
    for name in _RANGE_FIELDS:
        low, high = getattr(settings, name)
        if not 0 <= low <= high:
            raise ValueError(f"{name} must be a range (low, high) with 0 <= low <= high, got {(low, high)}")
    if not 2 <= settings.num_cameras <= 9:
        raise ValueError(
            f"num_cameras must be in 2..9 (one digit in Market names), got {settings.num_cameras}"
        )
    if settings.market_test_cameras[0] < 2:
        raise ValueError(
            "market_test_cameras must start at 2 so every query has a positive from another camera"
        )
    for name in ("market_train_cameras", "market_test_cameras"):
        if getattr(settings, name)[1] > settings.num_cameras:
            raise ValueError(f"{name} {getattr(settings, name)} exceeds num_cameras={settings.num_cameras}")
    checks = {
        "market_train_images": settings.market_train_images[0] >= 1,
        "query_cameras": settings.query_cameras[0] >= 1,
        "gallery_per_camera": settings.gallery_per_camera[0] >= 1,
        "cuhk_images": settings.cuhk_images[0] >= 1,
        "captions_per_image": settings.captions_per_image[0] >= 1,
        "uniform_group_size": settings.uniform_group_size[0] >= 2,
        "palette_size": 4 <= settings.palette_size <= len(GARMENT_COLOURS),
        "jpeg_quality": settings.jpeg_quality[0] >= 1 and settings.jpeg_quality[1] <= 100,
    }
    for name, ok in checks.items():
        if not ok:
            raise ValueError(f"invalid {name}: {getattr(settings, name)}")
    market_ids = _market_train_ids(settings) + _market_test_ids(settings) + settings.num_distractors
    if market_ids > 9999:
        raise ValueError(f"Market pids have 4 digits, so at most 9999 Market identities; got {market_ids}")
    for name in (
        f.name for f in dataclasses.fields(SyntheticSettings) if f.name.endswith(("_rate", "_fraction"))
    ):
        if not 0.0 <= getattr(settings, name) <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {getattr(settings, name)}")


def _market_train_ids(settings: SyntheticSettings) -> int:
    return settings.market_only_train_ids + settings.shared_train_ids + settings.cuhk_test_in_market_train_ids


def _market_test_ids(settings: SyntheticSettings) -> int:
    return settings.market_only_test_ids + settings.shared_test_ids + settings.market_test_in_cuhk_train_ids


# ---------------------------------------------------------------------------------------------------
# Vocabulary: colours, garments and the words captions use for them
# ---------------------------------------------------------------------------------------------------

# The first 12 colours are well separated; the last 12 are near shades of them, used by larger palettes.
GARMENT_COLOURS: dict[str, RGB] = {
    "black": (28, 28, 30),
    "white": (236, 236, 230),
    "grey": (128, 128, 128),
    "red": (196, 30, 36),
    "blue": (36, 72, 190),
    "green": (40, 140, 60),
    "yellow": (236, 206, 40),
    "orange": (240, 128, 30),
    "pink": (240, 140, 180),
    "purple": (120, 48, 150),
    "brown": (112, 72, 40),
    "beige": (214, 194, 150),
    "navy blue": (26, 36, 92),
    "light blue": (128, 178, 230),
    "dark green": (26, 76, 40),
    "maroon": (112, 26, 40),
    "dark grey": (68, 68, 70),
    "light grey": (186, 186, 186),
    "khaki": (166, 150, 100),
    "cream": (240, 230, 200),
    "teal": (30, 128, 128),
    "olive": (110, 110, 44),
    "lavender": (180, 160, 220),
    "coral": (240, 110, 90),
}
JEANS_COLOURS = ("blue", "navy blue", "light blue", "black", "grey", "dark grey")
HAIR_COLOURS: dict[str, RGB] = {
    "black": (24, 20, 18),
    "brown": (92, 56, 30),
    "blonde": (212, 176, 100),
    "grey": (150, 150, 150),
    "auburn": (142, 62, 30),
}
SKIN_TONES: dict[str, RGB] = {
    "light": (242, 210, 186),
    "fair": (226, 186, 150),
    "medium": (200, 154, 114),
    "olive": (178, 134, 94),
    "brown": (140, 96, 64),
    "dark": (96, 64, 44),
}
UMBRELLA_COLOURS = ("black", "red", "blue", "yellow", "green", "purple", "pink", "white")

GENDERS = ("man", "woman")
HAIR_STYLES = ("short", "long", "ponytail", "bun", "shaved")
UPPER_TYPES = ("t-shirt", "shirt", "sweater", "jacket", "coat", "tank top", "dress")
UPPER_PATTERNS = ("plain", "stripes", "checks", "logo")
LOWER_TYPES = ("trousers", "jeans", "shorts", "skirt")
SHOE_TYPES = ("sneakers", "leather shoes", "boots", "sandals")
BAG_TYPES = ("none", "backpack", "shoulder bag", "handbag")
HEADWEAR_TYPES = ("none", "cap", "beanie", "hat", "glasses", "sunglasses")
HELD_OBJECTS = ("none", "phone", "umbrella", "cup", "box")
VIEWS = ("front", "back", "side")
OCCLUSIONS = ("none", "pole", "car", "person")
SCENES = ("street", "wall", "grass", "indoor")

# Words a caption may use for each garment, bag or object type; the first one is the plain name.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "t-shirt": ("t-shirt", "T-shirt", "tee"),
    "shirt": ("shirt", "button-up shirt", "collared shirt"),
    "sweater": ("sweater", "jumper", "pullover"),
    "jacket": ("jacket",),
    "coat": ("coat", "long coat", "overcoat"),
    "tank top": ("tank top", "sleeveless top"),
    "dress": ("dress",),
    "trousers": ("trousers", "pants", "slacks"),
    "jeans": ("jeans", "denim jeans"),
    "shorts": ("shorts",),
    "skirt": ("skirt",),
    "sneakers": ("sneakers", "trainers", "running shoes"),
    "leather shoes": ("leather shoes", "dress shoes"),
    "boots": ("boots", "ankle boots"),
    "sandals": ("sandals",),
    "backpack": ("backpack", "rucksack"),
    "shoulder bag": ("shoulder bag", "messenger bag"),
    "handbag": ("handbag", "purse"),
    "cap": ("cap", "baseball cap"),
    "beanie": ("beanie", "knitted hat"),
    "hat": ("hat", "sun hat"),
    "phone": ("phone", "mobile phone", "smartphone"),
    "umbrella": ("umbrella",),
    "cup": ("cup", "coffee cup", "paper cup"),
    "box": ("box", "cardboard box", "parcel"),
}
PLURAL_TYPES = {"trousers", "jeans", "shorts", "sneakers", "leather shoes", "boots", "sandals"}


# ---------------------------------------------------------------------------------------------------
# Identity and instance attributes
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Attributes fixed for one person; colours are names from the vocabulary above."""

    gender: str
    height: float  # person height relative to the average (about 0.9-1.1)
    width: float  # body width relative to the average (about 0.8-1.2)
    skin_tone: str
    hair_style: str
    hair_colour: str
    upper_type: str
    upper_colour: str
    upper_pattern: str
    pattern_colour: str  # colour of stripes, checks or logo (unused for plain garments)
    lower_type: str  # "none" under a dress
    lower_colour: str
    shoes_type: str
    shoes_colour: str
    bag_type: str
    bag_colour: str
    headwear: str
    headwear_colour: str
    shade_seed: int  # seed of the per-person colour jitter, shared inside a group dressed alike
    uniform_group: int | None = None  # index of the group dressed alike, if any


@dataclass(frozen=True)
class Instance:
    """Attributes of one image of a person."""

    camid: int  # 1-based camera number, as in Market-1501 file names
    scene: str  # background kind of that camera
    view: str  # front, back or side
    facing: str  # "left" or "right" for side views, else "none"
    pose: str  # standing or walking
    stride: float  # leg swing amplitude in radians (0 when standing still)
    phase: float  # walking phase in [0, 1)
    held_object: str
    held_colour: str  # umbrella colour, else "none"
    scale: float  # person height factor in the crop
    shift_x: float  # horizontal shift as a fraction of the crop width
    shift_y: float  # vertical shift as a fraction of the crop height
    brightness: float  # per-image multiplier on top of the camera lighting
    occlusion: str
    occlusion_side: str  # "left" or "right" for car and person occluders, else "none"
    blur: float  # Gaussian blur radius in output pixels, 0 for none
    low_res: int  # downscale-upscale factor, 1 for none
    jpeg_quality: int


def _randint_in(rng: random.Random, bounds: tuple[int, int]) -> int:
    return rng.randint(bounds[0], bounds[1])


def _weighted(rng: random.Random, options: dict[str, float]) -> str:
    names = list(options)
    return rng.choices(names, weights=[options[name] for name in names])[0]


def draw_identity(rng: random.Random, palette: Sequence[str]) -> Identity:
    """Draw the fixed attributes of a new person, with garment colours from `palette`."""
    gender = rng.choice(GENDERS)
    is_woman = gender == "woman"
    upper_type = _draw_upper_type(rng, is_woman)
    lower_type = "none" if upper_type == "dress" else _draw_lower_type(rng, is_woman)
    pattern = _choose_pattern(rng, upper_type)
    upper_colour = rng.choice(palette)
    bag_type = _weighted(
        rng, {"none": 0.35, "backpack": 0.3, "shoulder bag": 0.2, "handbag": 0.15 if is_woman else 0.03}
    )
    headwear = _weighted(
        rng, {"none": 0.58, "cap": 0.1, "beanie": 0.06, "hat": 0.05, "glasses": 0.16, "sunglasses": 0.05}
    )
    return Identity(
        gender=gender,
        height=round(rng.gauss(0.97 if is_woman else 1.0, 0.035), 3),
        width=round(min(1.22, max(0.8, rng.gauss(0.93 if is_woman else 1.0, 0.08))), 3),
        skin_tone=rng.choice(list(SKIN_TONES)),
        hair_style=_draw_hair_style(rng, is_woman),
        hair_colour=_weighted(
            rng, {"black": 0.45, "brown": 0.25, "blonde": 0.14, "grey": 0.08, "auburn": 0.08}
        ),
        upper_type=upper_type,
        upper_colour=upper_colour,
        upper_pattern=pattern,
        pattern_colour=rng.choice([colour for colour in palette if colour != upper_colour]),
        lower_type=lower_type,
        lower_colour=_draw_lower_colour(rng, lower_type, palette),
        shoes_type=_weighted(rng, {"sneakers": 0.5, "leather shoes": 0.22, "boots": 0.16, "sandals": 0.12}),
        shoes_colour=rng.choice(
            [c for c in ("black", "white", "brown", "grey", "blue", "red") if c in palette]
        ),
        bag_type=bag_type,
        bag_colour=rng.choice(palette) if bag_type != "none" else "none",
        headwear=headwear,
        headwear_colour=rng.choice(palette) if headwear in ("cap", "beanie", "hat") else "none",
        shade_seed=rng.randrange(1 << 30),
    )


def _draw_upper_type(rng: random.Random, is_woman: bool) -> str:
    weights = {"t-shirt": 0.3, "shirt": 0.15, "sweater": 0.12, "jacket": 0.18, "coat": 0.12, "tank top": 0.05}
    if is_woman:
        weights["dress"] = 0.15
    return _weighted(rng, weights)


def _draw_lower_type(rng: random.Random, is_woman: bool) -> str:
    weights = {"trousers": 0.38, "jeans": 0.35, "shorts": 0.15}
    if is_woman:
        weights["skirt"] = 0.25
    return _weighted(rng, weights)


def _choose_pattern(rng: random.Random, upper_type: str) -> str:
    if upper_type in ("t-shirt", "sweater", "tank top"):
        return _weighted(rng, {"plain": 0.5, "stripes": 0.18, "checks": 0.07, "logo": 0.25})
    if upper_type == "shirt":
        return _weighted(rng, {"plain": 0.5, "stripes": 0.2, "checks": 0.3})
    return _weighted(rng, {"plain": 0.75, "stripes": 0.15, "checks": 0.1})


def _draw_hair_style(rng: random.Random, is_woman: bool) -> str:
    if is_woman:
        return _weighted(rng, {"long": 0.45, "ponytail": 0.2, "bun": 0.15, "short": 0.2})
    return _weighted(rng, {"short": 0.8, "shaved": 0.1, "long": 0.05, "ponytail": 0.05})


def _draw_lower_colour(rng: random.Random, lower_type: str, palette: Sequence[str]) -> str:
    if lower_type == "none":
        return "none"
    if lower_type == "jeans":
        return rng.choice([colour for colour in JEANS_COLOURS if colour in palette])
    return rng.choice(palette)


def _redraw_detail(rng: random.Random, base: Identity, palette: Sequence[str], detail: str) -> dict[str, Any]:
    """Draw new values for one detail of `base`, consistent with its gender and garment types."""
    is_woman = base.gender == "woman"
    if detail == "hair":
        return {"hair_style": _draw_hair_style(rng, is_woman), "hair_colour": rng.choice(list(HAIR_COLOURS))}
    if detail == "bag":
        bag_type = rng.choice(BAG_TYPES)
        return {"bag_type": bag_type, "bag_colour": rng.choice(palette) if bag_type != "none" else "none"}
    if detail == "headwear":
        kind = rng.choice(HEADWEAR_TYPES)
        return {
            "headwear": kind,
            "headwear_colour": rng.choice(palette) if kind in ("cap", "beanie", "hat") else "none",
        }
    if detail == "shoes":
        return {"shoes_type": rng.choice(SHOE_TYPES), "shoes_colour": rng.choice(palette)}
    if detail == "lower_colour":
        return {"lower_colour": _draw_lower_colour(rng, base.lower_type, palette)}
    if detail == "upper_pattern":
        return {"upper_pattern": _choose_pattern(rng, base.upper_type), "pattern_colour": rng.choice(palette)}
    if detail == "build":
        return {"height": round(rng.uniform(0.9, 1.08), 3), "width": round(rng.uniform(0.8, 1.2), 3)}
    return {"skin_tone": rng.choice(list(SKIN_TONES))}


# Details that members of a group dressed alike may differ in; "lower_colour" needs a lower garment.
UNIFORM_DETAILS = ("hair", "bag", "headwear", "shoes", "lower_colour", "upper_pattern", "build", "skin_tone")


def vary_identity(rng: random.Random, base: Identity, palette: Sequence[str], num_details: int) -> Identity:
    """Copy `base` with `num_details` details re-drawn, each to a value different from the base's."""
    candidates = [
        detail for detail in UNIFORM_DETAILS if detail != "lower_colour" or base.lower_type != "none"
    ]
    changes: dict[str, Any] = {}
    for detail in rng.sample(candidates, num_details):
        for _ in range(50):
            values = _redraw_detail(rng, base, palette, detail)
            if detail == "build":
                different = abs(values["height"] - base.height) + abs(values["width"] - base.width) >= 0.08
            else:
                different = any(value != getattr(base, name) for name, value in values.items())
            if different:
                changes.update(values)
                break
    return dataclasses.replace(base, **changes)


def draw_instance(rng: random.Random, settings: SyntheticSettings, camid: int, scene: str) -> Instance:
    """Draw the per-image attributes of one image taken by camera `camid`."""
    view = _weighted(rng, {"front": 0.36, "back": 0.34, "side": 0.3})
    standing = rng.random() < settings.standing_rate
    held = "none" if rng.random() >= settings.held_object_rate else rng.choice(HELD_OBJECTS[1:])
    occlusion = "none" if rng.random() >= settings.occlusion_rate else rng.choice(OCCLUSIONS[1:])
    return Instance(
        camid=camid,
        scene=scene,
        view=view,
        facing=rng.choice(("left", "right")) if view == "side" else "none",
        pose="standing" if standing else "walking",
        stride=0.0 if standing else round(rng.uniform(0.25, 0.5), 3),
        phase=round(rng.random(), 3),
        held_object=held,
        held_colour=rng.choice(UMBRELLA_COLOURS) if held == "umbrella" else "none",
        scale=round(1.0 + rng.uniform(-settings.scale_jitter, settings.scale_jitter), 3),
        shift_x=round(rng.uniform(-settings.shift_jitter, settings.shift_jitter), 3),
        shift_y=round(rng.uniform(-0.5, 0.5) * settings.shift_jitter, 3),
        brightness=round(1.0 + rng.uniform(-settings.lighting_jitter, settings.lighting_jitter), 3),
        occlusion=occlusion,
        occlusion_side=rng.choice(("left", "right")) if occlusion in ("car", "person") else "none",
        blur=round(rng.uniform(0.4, 1.2), 2) if rng.random() < settings.blur_rate else 0.0,
        low_res=rng.choice((2, 3, 4)) if rng.random() < settings.low_res_rate else 1,
        jpeg_quality=_randint_in(rng, settings.jpeg_quality),
    )


# ---------------------------------------------------------------------------------------------------
# Cameras and backgrounds
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Drawing people
# ---------------------------------------------------------------------------------------------------


def _shade(colour: RGB, factor: float) -> RGB:
    return (
        min(255, int(colour[0] * factor)),
        min(255, int(colour[1] * factor)),
        min(255, int(colour[2] * factor)),
    )


def _tint(colour: RGB, target: RGB, amount: float) -> RGB:
    return tuple(int(c + (t - c) * amount) for c, t in zip(colour, target, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True)
class _Palette:
    """Resolved RGB colours of one person, after the per-person jitter."""

    skin: RGB
    hair: RGB
    upper: RGB
    pattern: RGB
    lower: RGB
    shoes: RGB
    bag: RGB
    headwear: RGB


def resolve_colours(identity: Identity, jitter: int) -> _Palette:
    """Turn colour names into RGB, each garment offset by a per-person amount of at most `jitter`."""
    rng = random.Random(identity.shade_seed)

    def jittered(rgb: RGB) -> RGB:
        offset = rng.randint(-jitter, jitter)
        return tuple(min(255, max(0, c + offset + rng.randint(-jitter // 3, jitter // 3))) for c in rgb)  # type: ignore[return-value]

    return _Palette(
        skin=SKIN_TONES[identity.skin_tone],
        hair=HAIR_COLOURS[identity.hair_colour],
        upper=jittered(GARMENT_COLOURS[identity.upper_colour]),
        pattern=jittered(GARMENT_COLOURS[identity.pattern_colour]),
        lower=jittered(GARMENT_COLOURS.get(identity.lower_colour, GARMENT_COLOURS[identity.upper_colour])),
        shoes=jittered(GARMENT_COLOURS[identity.shoes_colour]),
        bag=jittered(GARMENT_COLOURS.get(identity.bag_colour, (0, 0, 0))),
        headwear=jittered(GARMENT_COLOURS.get(identity.headwear_colour, (0, 0, 0))),
    )


class _Pen:
    """Draws body parts given in body units: u across (0 = body axis), v down from the top of the head.

    One body unit is the person's height in canvas pixels. `mirror` flips u so that side views facing
    left reuse the drawing of side views facing right.
    """

    def __init__(self, image: Image.Image, centre_x: float, top: float, height: float, mirror: bool) -> None:
        self.draw = ImageDraw.Draw(image, "RGBA")
        self.centre_x = centre_x
        self.top = top
        self.height = height
        self.sign = -1.0 if mirror else 1.0

    def xy(self, u: float, v: float) -> tuple[float, float]:
        return (self.centre_x + self.sign * u * self.height, self.top + v * self.height)

    def polygon(
        self,
        points: Iterable[tuple[float, float]],
        fill: RGB | tuple[int, int, int, int],
        outline: bool = True,
    ) -> None:
        xy = [self.xy(u, v) for u, v in points]
        edge = _shade(fill[:3], 0.6) if outline else None  # type: ignore[arg-type]
        self.draw.polygon(xy, fill=fill, outline=edge)

    def ellipse(
        self,
        u: float,
        v: float,
        radius_u: float,
        radius_v: float,
        fill: RGB | tuple[int, int, int, int],
        outline: bool = True,
    ) -> None:
        x, y = self.xy(u, v)
        rx, ry = radius_u * self.height, radius_v * self.height
        edge = _shade(fill[:3], 0.6) if outline else None  # type: ignore[arg-type]
        self.draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill, outline=edge)

    def limb(self, points: Sequence[tuple[float, float]], width: float, fill: RGB) -> None:
        """Draw a shaded tube through `points`: dark rim, base colour, then a light stripe."""
        xy = [self.xy(u, v) for u, v in points]
        pixels = max(2.0, width * self.height)
        self._tube(xy, pixels + 2.0, _shade(fill, 0.55))
        self._tube(xy, pixels, fill)
        highlight = [(x - pixels * 0.22, y) for x, y in xy]
        self.draw.line(highlight, fill=(255, 255, 255, 38), width=max(1, int(pixels * 0.3)))

    def _tube(self, xy: list[tuple[float, float]], width: float, fill: RGB) -> None:
        self.draw.line(xy, fill=fill, width=int(round(width)), joint="curve")
        radius = width / 2.0
        for x, y in (xy[0], xy[-1]):
            self.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)

    def rect(
        self,
        u0: float,
        v0: float,
        u1: float,
        v1: float,
        fill: RGB | tuple[int, int, int, int],
        outline: bool = True,
    ) -> None:
        self.polygon([(u0, v0), (u1, v0), (u1, v1), (u0, v1)], fill, outline)


@dataclass(frozen=True)
class _Skeleton:
    """Joint positions in body units for one pose and view."""

    shoulders: tuple[tuple[float, float], tuple[float, float]]  # (near/right, far/left)
    arms: tuple[list[tuple[float, float]], list[tuple[float, float]]]  # shoulder, elbow, wrist per arm
    legs: tuple[list[tuple[float, float]], list[tuple[float, float]]]  # hip, knee, ankle per leg
    shoulder_half_width: float
    waist_half_width: float
    hip_half_width: float


SHOULDER_V = 0.185
WAIST_V = 0.45
HIP_V = 0.53
KNEE_V = 0.735
ANKLE_V = 0.945


def _pose_skeleton(identity: Identity, instance: Instance) -> _Skeleton:
    """Place the joints for the view, the walking phase and the held object."""
    width = identity.width
    swing = instance.stride * math.sin(2.0 * math.pi * instance.phase)
    if instance.view == "side":
        shoulder_hw, waist_hw, hip_hw = 0.058 * width, 0.05 * width, 0.058 * width
        legs = (_side_leg(swing), _side_leg(-swing))
        arms = (_side_arm(-swing * 0.8), _side_arm(swing * 0.8))
        shoulders = ((0.0, SHOULDER_V + 0.01), (0.0, SHOULDER_V + 0.01))
    else:
        shoulder_hw, waist_hw, hip_hw = 0.118 * width, 0.088 * width, 0.098 * width
        shoulders = ((shoulder_hw - 0.022, SHOULDER_V + 0.012), (-(shoulder_hw - 0.022), SHOULDER_V + 0.012))
        legs = (_front_leg(0.048 * width, swing), _front_leg(-0.048 * width, -swing))
        arms = (_front_arm(shoulders[0], 1.0, -swing), _front_arm(shoulders[1], -1.0, swing))
    arms = _hold_pose(instance, arms, shoulders)
    return _Skeleton(shoulders, arms, legs, shoulder_hw, waist_hw, hip_hw)


def _side_leg(angle: float) -> list[tuple[float, float]]:
    thigh, shin = KNEE_V - HIP_V, ANKLE_V - KNEE_V
    hip = (0.0, HIP_V - 0.01)
    knee = (hip[0] + thigh * math.sin(angle), hip[1] + thigh * math.cos(angle))
    bend = 0.45 * max(0.0, -angle) + 0.08  # the trailing leg bends at the knee
    ankle = (knee[0] + shin * math.sin(angle - bend), knee[1] + shin * math.cos(angle - bend))
    return [hip, knee, ankle]


def _side_arm(angle: float) -> list[tuple[float, float]]:
    shoulder = (0.0, SHOULDER_V + 0.015)
    elbow = (shoulder[0] + 0.15 * math.sin(angle), shoulder[1] + 0.15 * math.cos(angle))
    forearm = angle + 0.25 + 0.3 * max(0.0, angle)
    wrist = (elbow[0] + 0.14 * math.sin(forearm), elbow[1] + 0.14 * math.cos(forearm))
    return [shoulder, elbow, wrist]


def _front_leg(offset: float, swing: float) -> list[tuple[float, float]]:
    lift = 0.03 * max(0.0, swing)  # the swinging leg is foreshortened and its foot leaves the ground
    return [
        (offset, HIP_V - 0.01),
        (offset * 1.02 + 0.01 * swing, KNEE_V - lift * 0.5),
        (offset * 0.95, ANKLE_V - lift),
    ]


def _front_arm(shoulder: tuple[float, float], side: float, swing: float) -> list[tuple[float, float]]:
    elbow = (shoulder[0] + side * 0.018, shoulder[1] + 0.15 - 0.01 * abs(swing))
    wrist = (
        shoulder[0] + side * 0.022 - side * 0.03 * max(0.0, swing),
        shoulder[1] + 0.29 - 0.03 * abs(swing),
    )
    return [shoulder, elbow, wrist]


def _hold_pose(
    instance: Instance,
    arms: tuple[list[tuple[float, float]], list[tuple[float, float]]],
    shoulders: tuple[tuple[float, float], tuple[float, float]],
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Bend the holding arm (the near arm in side views) for the held object."""
    held = instance.held_object
    if held == "none":
        return arms
    near, far = arms
    shoulder = shoulders[0]
    side = 0.0 if instance.view == "side" else 1.0
    forward = 1.0 if instance.view == "side" else 0.0
    if held == "phone":
        near = [
            shoulder,
            (shoulder[0] + side * 0.012, shoulder[1] + 0.14),
            (shoulder[0] - side * 0.03 + forward * 0.09, shoulder[1] + 0.16),
        ]
    elif held == "umbrella":
        near = [
            shoulder,
            (shoulder[0] + side * 0.03 + forward * 0.02, shoulder[1] + 0.13),
            (shoulder[0] - side * 0.02 + forward * 0.1, shoulder[1] + 0.07),
        ]
    elif held == "cup":
        near = [
            shoulder,
            (shoulder[0] + side * 0.015, shoulder[1] + 0.145),
            (shoulder[0] + forward * 0.1, shoulder[1] + 0.2),
        ]
    elif held == "box":
        hand_v = shoulder[1] + 0.24
        near = [
            shoulder,
            (shoulder[0] + side * 0.01 + forward * 0.03, shoulder[1] + 0.14),
            (shoulder[0] * 0.55 + forward * 0.1, hand_v),
        ]
        far = [
            shoulders[1],
            (shoulders[1][0] - side * 0.01 + forward * 0.03, shoulders[1][1] + 0.14),
            (shoulders[1][0] * 0.55 + forward * 0.1, hand_v),
        ]
    return near, far


def draw_person(
    image: Image.Image,
    identity: Identity,
    instance: Instance,
    colours: _Palette,
    centre_x: float,
    feet_y: float,
    height: float,
) -> None:
    """Draw one person onto `image` (canvas pixels), feet at `feet_y`, `height` pixels tall."""
    mirror = instance.view == "side" and instance.facing == "left"
    pen = _Pen(image, centre_x, feet_y - height, height, mirror)
    skeleton = _pose_skeleton(identity, instance)
    _draw_ground_shadow(pen, skeleton)
    if instance.view == "front":
        _draw_front(pen, identity, instance, colours, skeleton)
    elif instance.view == "back":
        _draw_back(pen, identity, instance, colours, skeleton)
    else:
        _draw_side(pen, identity, instance, colours, skeleton)


def _draw_ground_shadow(pen: _Pen, skeleton: _Skeleton) -> None:
    spread = max(abs(skeleton.legs[0][2][0] - skeleton.legs[1][2][0]), 0.08)
    pen.ellipse(0.0, 0.995, spread * 0.7 + 0.05, 0.014, (0, 0, 0, 60), outline=False)


def _draw_front(
    pen: _Pen, identity: Identity, instance: Instance, colours: _Palette, skeleton: _Skeleton
) -> None:
    if identity.hair_style == "long":
        _draw_long_hair_behind(pen, colours.hair)
    if instance.held_object == "umbrella":
        _draw_umbrella(pen, instance, skeleton.arms[0][2])
    if identity.bag_type == "shoulder bag":
        _draw_shoulder_bag(pen, identity, colours, skeleton, in_front=False)
    for leg in skeleton.legs:
        _draw_leg(pen, identity, colours, leg)
    _draw_lower_body(pen, identity, colours, skeleton)
    _draw_torso(pen, identity, colours, skeleton, show_logo=True, view="front")
    if identity.bag_type == "backpack":
        _draw_backpack_straps(pen, colours.bag, skeleton)
    if identity.bag_type == "shoulder bag":
        _draw_shoulder_strap(pen, colours.bag, skeleton)
    for arm in skeleton.arms:
        _draw_arm(pen, identity, colours, arm)
    _draw_hand_items(pen, identity, instance, colours, skeleton, behind=False)
    _draw_head_front(pen, identity, colours)


def _draw_back(
    pen: _Pen, identity: Identity, instance: Instance, colours: _Palette, skeleton: _Skeleton
) -> None:
    if instance.held_object == "umbrella":
        _draw_umbrella(pen, instance, skeleton.arms[0][2])
    _draw_hand_items(pen, identity, instance, colours, skeleton, behind=True)
    for leg in skeleton.legs:
        _draw_leg(pen, identity, colours, leg)
    _draw_lower_body(pen, identity, colours, skeleton)
    _draw_torso(pen, identity, colours, skeleton, show_logo=False, view="back")
    for arm in skeleton.arms:
        _draw_arm(pen, identity, colours, arm)
    _draw_head_back(pen, identity, colours)
    if identity.bag_type == "backpack":
        _draw_backpack_back(pen, colours.bag, skeleton)
    if identity.bag_type == "shoulder bag":
        _draw_shoulder_strap(pen, colours.bag, skeleton)
        _draw_shoulder_bag(pen, identity, colours, skeleton, in_front=True)
    if identity.bag_type == "handbag" and instance.held_object != "box":
        _draw_handbag(pen, colours.bag, skeleton.arms[1][2])


def _draw_side(
    pen: _Pen, identity: Identity, instance: Instance, colours: _Palette, skeleton: _Skeleton
) -> None:
    far_arm, far_leg = skeleton.arms[1], skeleton.legs[1]
    near_arm, near_leg = skeleton.arms[0], skeleton.legs[0]
    if instance.held_object == "umbrella":
        _draw_umbrella(pen, instance, near_arm[2])
    if identity.hair_style == "long":
        _draw_long_hair_behind(pen, colours.hair, side=True)
    far_colours = dataclasses.replace(
        colours,
        upper=_shade(colours.upper, 0.78),
        lower=_shade(colours.lower, 0.78),
        skin=_shade(colours.skin, 0.8),
        shoes=_shade(colours.shoes, 0.8),
    )
    _draw_arm(pen, identity, far_colours, far_arm)
    _draw_leg(pen, identity, far_colours, far_leg)
    _draw_leg(pen, identity, colours, near_leg)
    _draw_lower_body(pen, identity, colours, skeleton)
    if identity.bag_type == "backpack":
        _draw_backpack_side(pen, colours.bag)
    _draw_torso(pen, identity, colours, skeleton, show_logo=False, view="side")
    if identity.bag_type == "shoulder bag":
        _draw_shoulder_strap(pen, colours.bag, skeleton)
        _draw_shoulder_bag(pen, identity, colours, skeleton, in_front=True)
    _draw_arm(pen, identity, colours, near_arm)
    _draw_hand_items(pen, identity, instance, colours, skeleton, behind=False)
    _draw_head_side(pen, identity, colours)


def _draw_leg(pen: _Pen, identity: Identity, colours: _Palette, leg: list[tuple[float, float]]) -> None:
    hip, knee, ankle = leg
    thigh_width = 0.068 * identity.width
    if identity.lower_type in ("trousers", "jeans"):
        pen.limb([hip, knee, ankle], thigh_width, colours.lower)
        if identity.lower_type == "jeans":
            seam = _tint(colours.lower, (255, 255, 255), 0.25)
            pen.draw.line([pen.xy(*knee), pen.xy(*ankle)], fill=seam + (90,), width=1)
    elif identity.lower_type == "shorts":
        pen.limb([knee, ankle], thigh_width * 0.72, colours.skin)
        short_end = (hip[0] + (knee[0] - hip[0]) * 0.7, hip[1] + (knee[1] - hip[1]) * 0.7)
        pen.limb([hip, short_end], thigh_width * 1.05, colours.lower)
    else:
        pen.limb([hip, knee, ankle], thigh_width * 0.75, colours.skin)
    _draw_shoe(pen, identity, colours, ankle)


def _draw_shoe(pen: _Pen, identity: Identity, colours: _Palette, ankle: tuple[float, float]) -> None:
    u, v = ankle
    if identity.shoes_type == "boots":
        pen.limb([(u, v - 0.045), (u, v + 0.01)], 0.05, colours.shoes)
    if identity.shoes_type == "sandals":
        pen.ellipse(u + 0.006, v + 0.028, 0.03, 0.012, colours.skin)
        pen.draw.line([pen.xy(u - 0.02, v + 0.022), pen.xy(u + 0.03, v + 0.022)], fill=colours.shoes, width=2)
        return
    pen.ellipse(u + 0.01, v + 0.026, 0.034, 0.016, colours.shoes)
    if identity.shoes_type == "sneakers":
        pen.draw.line(
            [pen.xy(u - 0.022, v + 0.036), pen.xy(u + 0.042, v + 0.036)], fill=(235, 235, 235, 200), width=2
        )


def _draw_lower_body(pen: _Pen, identity: Identity, colours: _Palette, skeleton: _Skeleton) -> None:
    """Draw the pelvis part of the lower garment, or the skirt."""
    hw = skeleton.hip_half_width
    if identity.lower_type in ("trousers", "jeans", "shorts"):
        pen.polygon(
            [
                (-hw, WAIST_V + 0.02),
                (hw, WAIST_V + 0.02),
                (hw * 0.95, HIP_V + 0.05),
                (0.0, HIP_V + 0.07),
                (-hw * 0.95, HIP_V + 0.05),
            ],
            colours.lower,
        )
    elif identity.lower_type == "skirt":
        hem = HIP_V + 0.16
        pen.polygon(
            [(-hw * 0.95, WAIST_V + 0.01), (hw * 0.95, WAIST_V + 0.01), (hw * 1.5, hem), (-hw * 1.5, hem)],
            colours.lower,
        )
        pen.polygon(
            [(hw * 0.3, WAIST_V + 0.01), (hw * 0.95, WAIST_V + 0.01), (hw * 1.5, hem), (hw * 0.45, hem)],
            (0, 0, 0, 40),
            outline=False,
        )


def _torso_outline(skeleton: _Skeleton, view: str, bottom: float, flare: float) -> list[tuple[float, float]]:
    sh, wh, hh = skeleton.shoulder_half_width, skeleton.waist_half_width, skeleton.hip_half_width
    if view == "side":
        return [
            (-0.045, SHOULDER_V - 0.01),
            (0.035, SHOULDER_V - 0.01),
            (sh + 0.012, 0.28),
            (wh + 0.01, WAIST_V),
            (hh * flare, bottom),
            (-hh * flare, bottom),
            (-wh - 0.005, WAIST_V),
            (-sh - 0.01, 0.27),
        ]
    bottom_hw = hh * flare
    return [
        (-sh * 0.45, SHOULDER_V - 0.015),
        (sh * 0.45, SHOULDER_V - 0.015),
        (sh, SHOULDER_V + 0.02),
        (wh * 1.02, WAIST_V),
        (bottom_hw, bottom),
        (-bottom_hw, bottom),
        (-wh * 1.02, WAIST_V),
        (-sh, SHOULDER_V + 0.02),
    ]


def _draw_torso(
    pen: _Pen, identity: Identity, colours: _Palette, skeleton: _Skeleton, show_logo: bool, view: str
) -> None:
    """Draw the upper garment (and the dress or coat skirt) with its pattern and a shaded side."""
    upper = identity.upper_type
    bottom, flare = {"coat": (0.7, 1.25), "dress": (0.72, 1.65), "jacket": (HIP_V + 0.01, 1.0)}.get(
        upper, (HIP_V, 1.0)
    )
    outline = _torso_outline(skeleton, view, bottom, flare)
    pen.limb([(0.0, 0.125), (0.0, SHOULDER_V)], 0.045, colours.skin)
    pen.polygon(outline, colours.upper)
    _draw_pattern(pen, identity, colours, outline, bottom, show_logo and identity.upper_pattern == "logo")
    _draw_garment_details(pen, identity, colours, skeleton, view, bottom)
    shaded = [(u, v) for u, v in outline if u >= 0.0]
    pen.polygon(
        [
            (skeleton.waist_half_width * 0.35, SHOULDER_V),
            *shaded[1:],
            (skeleton.hip_half_width * 0.35, bottom),
        ],
        (0, 0, 0, 42),
        outline=False,
    )


def _draw_pattern(
    pen: _Pen,
    identity: Identity,
    colours: _Palette,
    outline: list[tuple[float, float]],
    bottom: float,
    show_logo: bool,
) -> None:
    pattern = identity.upper_pattern
    if pattern == "plain" or (pattern == "logo" and not show_logo):
        return
    if pattern == "logo":
        pen.ellipse(0.0, 0.27, 0.032, 0.03, colours.pattern)
        pen.rect(-0.015, 0.262, 0.015, 0.278, _shade(colours.upper, 0.9), outline=False)
        return
    top = SHOULDER_V + 0.02
    left = min(u for u, _ in outline) + 0.01
    right = max(u for u, _ in outline) - 0.01
    stripe = colours.pattern + (230,)
    step = 0.045 if pattern == "stripes" else 0.05
    v = top + step * 0.5
    while v < bottom - 0.01:
        half = _half_width_at(outline, v) - 0.004
        pen.draw.line([pen.xy(-half, v), pen.xy(half, v)], fill=stripe, width=max(2, int(0.016 * pen.height)))
        v += step
    if pattern == "checks":
        u = left + 0.02
        while u < right:
            pen.draw.line(
                [pen.xy(u, top), pen.xy(u, bottom - 0.01)],
                fill=colours.pattern + (170,),
                width=max(1, int(0.01 * pen.height)),
            )
            u += 0.05


def _half_width_at(outline: list[tuple[float, float]], v: float) -> float:
    """Return the half width of a polygon that is symmetric about u = 0, at height v."""
    best = 0.0
    for (u0, v0), (u1, v1) in zip(outline, outline[1:] + outline[:1], strict=True):
        if v0 == v1 or not min(v0, v1) <= v <= max(v0, v1):
            continue
        u = u0 + (u1 - u0) * (v - v0) / (v1 - v0)
        best = max(best, abs(u))
    return best


def _draw_garment_details(
    pen: _Pen, identity: Identity, colours: _Palette, skeleton: _Skeleton, view: str, bottom: float
) -> None:
    upper = identity.upper_type
    if view == "front" and upper in ("jacket", "coat"):
        pen.draw.line(
            [pen.xy(0.0, SHOULDER_V), pen.xy(0.0, bottom)], fill=_shade(colours.upper, 0.5), width=2
        )
        pen.polygon(
            [(-0.03, SHOULDER_V - 0.012), (0.03, SHOULDER_V - 0.012), (0.0, SHOULDER_V + 0.05)],
            _tint(colours.upper, (255, 255, 255), 0.5),
        )
    if view == "front" and upper == "shirt":
        pen.polygon(
            [
                (-0.035, SHOULDER_V - 0.016),
                (0.0, SHOULDER_V + 0.025),
                (0.035, SHOULDER_V - 0.016),
                (0.0, SHOULDER_V - 0.005),
            ],
            _tint(colours.upper, (255, 255, 255), 0.35),
        )
        for v in (0.25, 0.31, 0.37, 0.43):
            pen.ellipse(0.0, v, 0.005, 0.005, _shade(colours.upper, 0.55), outline=False)
    if upper == "tank top" and view != "side":
        sh = skeleton.shoulder_half_width
        pen.polygon(
            [(-sh, SHOULDER_V + 0.02), (-sh * 0.55, SHOULDER_V - 0.012), (-sh * 0.62, SHOULDER_V + 0.06)],
            colours.skin,
            outline=False,
        )
        pen.polygon(
            [(sh, SHOULDER_V + 0.02), (sh * 0.55, SHOULDER_V - 0.012), (sh * 0.62, SHOULDER_V + 0.06)],
            colours.skin,
            outline=False,
        )
    if upper in ("jacket", "coat", "sweater"):
        hw = skeleton.hip_half_width * (1.25 if upper == "coat" else 1.0)
        pen.rect(-hw, bottom - 0.018, hw, bottom, _shade(colours.upper, 0.75), outline=False)


def _draw_arm(pen: _Pen, identity: Identity, colours: _Palette, arm: list[tuple[float, float]]) -> None:
    shoulder, elbow, wrist = arm
    width = 0.042 * identity.width
    sleeve = {"t-shirt": 0.45, "tank top": 0.0, "dress": 0.35}.get(identity.upper_type, 1.0)
    pen.limb([shoulder, elbow, wrist], width * 0.82, colours.skin)
    if sleeve >= 1.0:
        cuff = (elbow[0] + (wrist[0] - elbow[0]) * 0.88, elbow[1] + (wrist[1] - elbow[1]) * 0.88)
        pen.limb([shoulder, elbow, cuff], width, colours.upper)
    elif sleeve > 0.0:
        end = (
            shoulder[0] + (elbow[0] - shoulder[0]) * sleeve * 1.6,
            shoulder[1] + (elbow[1] - shoulder[1]) * sleeve * 1.6,
        )
        pen.limb([shoulder, end], width * 1.12, colours.upper)
    pen.ellipse(wrist[0], wrist[1] + 0.012, 0.016, 0.018, colours.skin)


def _draw_hand_items(
    pen: _Pen, identity: Identity, instance: Instance, colours: _Palette, skeleton: _Skeleton, behind: bool
) -> None:
    """Draw the held object in the near hand and a handbag in the far hand (front and side views)."""
    hand = skeleton.arms[0][2]
    held = instance.held_object
    if held == "phone":
        pen.rect(hand[0] - 0.013, hand[1] - 0.012, hand[0] + 0.013, hand[1] + 0.03, (20, 20, 24))
        pen.rect(
            hand[0] - 0.009,
            hand[1] - 0.008,
            hand[0] + 0.009,
            hand[1] + 0.024,
            (70, 90, 120, 255),
            outline=False,
        )
    elif held == "cup":
        pen.polygon(
            [
                (hand[0] - 0.017, hand[1] - 0.025),
                (hand[0] + 0.017, hand[1] - 0.025),
                (hand[0] + 0.013, hand[1] + 0.03),
                (hand[0] - 0.013, hand[1] + 0.03),
            ],
            (236, 232, 222),
        )
        pen.rect(hand[0] - 0.017, hand[1] - 0.03, hand[0] + 0.017, hand[1] - 0.022, (60, 40, 30))
        pen.rect(
            hand[0] - 0.016, hand[1] - 0.002, hand[0] + 0.016, hand[1] + 0.012, (150, 100, 60), outline=False
        )
    elif held == "box":
        centre = (skeleton.arms[0][2][0] + skeleton.arms[1][2][0]) / 2.0
        half = 0.13 if instance.view != "side" else 0.07
        box = (176, 132, 84)
        pen.rect(centre - half, hand[1] - 0.07, centre + half, hand[1] + 0.035, box)
        pen.rect(
            centre - half, hand[1] - 0.07, centre + half, hand[1] - 0.052, _shade(box, 0.8), outline=False
        )
        pen.draw.line(
            [pen.xy(centre - 0.01, hand[1] - 0.07), pen.xy(centre - 0.01, hand[1] + 0.035)],
            fill=(200, 180, 130),
            width=2,
        )
        if not behind:
            for wrist in (skeleton.arms[0][2], skeleton.arms[1][2]):
                pen.ellipse(wrist[0], wrist[1], 0.016, 0.018, colours.skin)
    if identity.bag_type == "handbag" and held != "box" and not behind:
        _draw_handbag(pen, colours.bag, skeleton.arms[1][2])


def _draw_handbag(pen: _Pen, colour: RGB, wrist: tuple[float, float]) -> None:
    u, v = wrist[0], wrist[1] + 0.02
    pen.draw.arc(
        [pen.xy(u - 0.025, v - 0.02), pen.xy(u + 0.025, v + 0.04)]
        if pen.sign > 0
        else [pen.xy(u + 0.025, v - 0.02), pen.xy(u - 0.025, v + 0.04)],
        180,
        360,
        fill=_shade(colour, 0.6),
        width=2,
    )
    pen.polygon(
        [(u - 0.04, v + 0.01), (u + 0.04, v + 0.01), (u + 0.048, v + 0.085), (u - 0.048, v + 0.085)], colour
    )
    pen.rect(u - 0.04, v + 0.01, u + 0.04, v + 0.025, _shade(colour, 0.75), outline=False)


def _draw_umbrella(pen: _Pen, instance: Instance, hand: tuple[float, float]) -> None:
    colour = GARMENT_COLOURS[instance.held_colour]
    tip_u = hand[0] * 0.4
    pen.draw.line([pen.xy(*hand), pen.xy(tip_u, -0.06)], fill=(60, 60, 60), width=2)
    left, top = pen.xy(tip_u - 0.24, -0.09)
    right, bottom = pen.xy(tip_u + 0.24, 0.09)
    if left > right:
        left, right = right, left
    pen.draw.pieslice((left, top, right, bottom), 180, 360, fill=colour, outline=_shade(colour, 0.55))
    for rib in (-0.12, 0.0, 0.12):
        pen.draw.line([pen.xy(tip_u, -0.085), pen.xy(tip_u + rib, 0.0)], fill=_shade(colour, 0.7), width=1)


def _draw_backpack_straps(pen: _Pen, colour: RGB, skeleton: _Skeleton) -> None:
    strap = _shade(colour, 0.7)
    sh = skeleton.shoulder_half_width
    for side in (-1.0, 1.0):
        pen.limb(
            [(side * sh * 0.55, SHOULDER_V - 0.005), (side * sh * 0.62, 0.3), (side * sh * 0.72, 0.38)],
            0.018,
            strap,
        )


def _draw_backpack_back(pen: _Pen, colour: RGB, skeleton: _Skeleton) -> None:
    hw = min(skeleton.shoulder_half_width * 0.8, 0.095)
    pen.polygon(
        [
            (-hw, 0.215),
            (-hw * 0.8, 0.195),
            (hw * 0.8, 0.195),
            (hw, 0.215),
            (hw * 1.02, 0.43),
            (hw * 0.9, 0.45),
            (-hw * 0.9, 0.45),
            (-hw * 1.02, 0.43),
        ],
        colour,
    )
    pen.rect(-hw * 0.65, 0.33, hw * 0.65, 0.42, _shade(colour, 0.82))
    pen.polygon(
        [(-hw, 0.215), (-hw * 0.8, 0.195), (hw * 0.8, 0.195), (hw, 0.215), (hw, 0.25), (-hw, 0.25)],
        _shade(colour, 0.9),
    )
    pen.polygon(
        [(hw * 0.3, 0.2), (hw, 0.215), (hw * 1.02, 0.43), (hw * 0.3, 0.45)], (0, 0, 0, 40), outline=False
    )


def _draw_backpack_side(pen: _Pen, colour: RGB) -> None:
    pen.polygon([(-0.04, 0.2), (-0.11, 0.22), (-0.13, 0.3), (-0.12, 0.43), (-0.04, 0.45)], colour)
    pen.limb([(-0.035, SHOULDER_V), (0.02, 0.23), (0.03, 0.36), (-0.04, 0.42)], 0.014, _shade(colour, 0.7))


def _draw_shoulder_strap(pen: _Pen, colour: RGB, skeleton: _Skeleton) -> None:
    sh = skeleton.shoulder_half_width
    pen.draw.line(
        [pen.xy(sh * 0.6, SHOULDER_V - 0.005), pen.xy(-skeleton.hip_half_width * 0.9, HIP_V - 0.03)],
        fill=_shade(colour, 0.65),
        width=max(2, int(0.013 * pen.height)),
    )


def _draw_shoulder_bag(
    pen: _Pen, identity: Identity, colours: _Palette, skeleton: _Skeleton, in_front: bool
) -> None:
    u = -skeleton.hip_half_width * (1.05 if not in_front else 0.9)
    pen.polygon(
        [
            (u - 0.05, HIP_V - 0.05),
            (u + 0.045, HIP_V - 0.05),
            (u + 0.05, HIP_V + 0.04),
            (u - 0.055, HIP_V + 0.04),
        ],
        colours.bag,
    )
    pen.rect(u - 0.05, HIP_V - 0.05, u + 0.045, HIP_V - 0.015, _shade(colours.bag, 0.8), outline=False)


def _draw_long_hair_behind(pen: _Pen, hair: RGB, side: bool = False) -> None:
    if side:
        pen.polygon([(-0.015, 0.03), (-0.06, 0.06), (-0.07, 0.2), (-0.035, 0.27), (0.0, 0.2)], hair)
        return
    pen.polygon([(-0.06, 0.06), (0.06, 0.06), (0.072, 0.26), (0.0, 0.28), (-0.072, 0.26)], hair)


HEAD_V = 0.068  # head centre
HEAD_RU = 0.052  # head half width
HEAD_RV = 0.066  # head half height


def _draw_head_front(pen: _Pen, identity: Identity, colours: _Palette) -> None:
    style, hair = identity.hair_style, colours.hair
    if style != "shaved":
        pen.ellipse(0.0, HEAD_V - 0.004, HEAD_RU + 0.006, HEAD_RV + 0.004, hair)
        pen.ellipse(0.0, HEAD_V + 0.012, HEAD_RU - 0.002, HEAD_RV - 0.014, colours.skin)
        pen.polygon(
            [
                (-HEAD_RU, HEAD_V - 0.005),
                (-HEAD_RU * 0.2, HEAD_V - 0.045),
                (HEAD_RU * 0.7, HEAD_V - 0.04),
                (HEAD_RU, HEAD_V),
            ],
            hair,
            outline=False,
        )
    else:
        pen.ellipse(0.0, HEAD_V, HEAD_RU, HEAD_RV, colours.skin)
        pen.ellipse(0.0, HEAD_V - 0.035, HEAD_RU * 0.9, 0.03, _tint(colours.skin, hair, 0.3), outline=False)
    if style == "bun":
        pen.ellipse(0.0, HEAD_V - HEAD_RV - 0.012, 0.025, 0.02, hair)
    _draw_face_front(pen, identity, colours)
    _draw_headwear(pen, identity, colours, "front")


def _draw_face_front(pen: _Pen, identity: Identity, colours: _Palette) -> None:
    eye_v = HEAD_V + 0.012
    eye = (35, 28, 25)
    for side in (-1.0, 1.0):
        pen.ellipse(side * 0.019, eye_v, 0.006, 0.005, eye, outline=False)
    pen.draw.line(
        [pen.xy(-0.012, HEAD_V + 0.044), pen.xy(0.012, HEAD_V + 0.044)],
        fill=_shade(colours.skin, 0.6),
        width=1,
    )
    pen.ellipse(HEAD_RU * 0.55, HEAD_V + 0.02, HEAD_RU * 0.4, HEAD_RV * 0.6, (0, 0, 0, 22), outline=False)
    if identity.headwear in ("glasses", "sunglasses"):
        lens = (15, 15, 20, 235) if identity.headwear == "sunglasses" else (30, 30, 30, 0)
        frame = (20, 20, 20)
        for side in (-1.0, 1.0):
            x0, y0 = pen.xy(side * 0.019 - 0.015, eye_v - 0.011)
            x1, y1 = pen.xy(side * 0.019 + 0.015, eye_v + 0.011)
            pen.draw.rectangle((min(x0, x1), y0, max(x0, x1), y1), fill=lens, outline=frame, width=1)
        pen.draw.line([pen.xy(-0.004, eye_v), pen.xy(0.004, eye_v)], fill=frame, width=1)


def _draw_head_back(pen: _Pen, identity: Identity, colours: _Palette) -> None:
    style, hair = identity.hair_style, colours.hair
    pen.ellipse(0.0, HEAD_V, HEAD_RU, HEAD_RV, colours.skin)
    if style == "shaved":
        pen.ellipse(
            0.0, HEAD_V - 0.01, HEAD_RU * 0.95, HEAD_RV * 0.85, _tint(colours.skin, hair, 0.35), outline=False
        )
    else:
        pen.ellipse(0.0, HEAD_V - 0.004, HEAD_RU + 0.006, HEAD_RV + 0.002, hair)
    if style == "long":
        pen.polygon([(-0.058, 0.07), (0.058, 0.07), (0.07, 0.26), (0.0, 0.28), (-0.07, 0.26)], hair)
    elif style == "ponytail":
        pen.limb([(0.0, HEAD_V + 0.02), (0.004, 0.15), (0.0, 0.2)], 0.028, hair)
    elif style == "bun":
        pen.ellipse(0.0, HEAD_V - 0.02, 0.028, 0.024, _shade(hair, 0.85))
    _draw_headwear(pen, identity, colours, "back")


def _draw_head_side(pen: _Pen, identity: Identity, colours: _Palette) -> None:
    style, hair = identity.hair_style, colours.hair
    pen.ellipse(0.004, HEAD_V, HEAD_RU * 0.92, HEAD_RV, colours.skin)
    pen.polygon(
        [(0.045, HEAD_V + 0.0), (0.062, HEAD_V + 0.02), (0.046, HEAD_V + 0.026)], colours.skin
    )  # nose
    pen.ellipse(0.026, HEAD_V + 0.008, 0.005, 0.005, (35, 28, 25), outline=False)
    if style == "shaved":
        pen.ellipse(
            -0.01, HEAD_V - 0.03, HEAD_RU * 0.8, 0.035, _tint(colours.skin, hair, 0.35), outline=False
        )
    else:
        pen.polygon(
            [
                (-0.05, HEAD_V + 0.03),
                (-0.055, HEAD_V - 0.03),
                (-0.02, HEAD_V - 0.066),
                (0.03, HEAD_V - 0.062),
                (0.052, HEAD_V - 0.03),
                (0.03, HEAD_V - 0.022),
                (0.0, HEAD_V + 0.0),
                (-0.012, HEAD_V + 0.04),
            ],
            hair,
        )
    if style == "ponytail":
        pen.limb([(-0.045, HEAD_V - 0.01), (-0.075, HEAD_V + 0.04), (-0.07, 0.17)], 0.024, hair)
    elif style == "bun":
        pen.ellipse(-0.05, HEAD_V - 0.035, 0.024, 0.022, hair)
    pen.ellipse(-0.006, HEAD_V + 0.012, 0.01, 0.014, _shade(colours.skin, 0.85))  # ear
    if identity.headwear in ("glasses", "sunglasses"):
        lens = (15, 15, 20) if identity.headwear == "sunglasses" else (200, 210, 220)
        pen.rect(0.02, HEAD_V + 0.0, 0.042, HEAD_V + 0.018, lens)
        pen.draw.line(
            [pen.xy(0.02, HEAD_V + 0.006), pen.xy(-0.004, HEAD_V + 0.006)], fill=(20, 20, 20), width=1
        )
    _draw_headwear(pen, identity, colours, "side")


def _draw_headwear(pen: _Pen, identity: Identity, colours: _Palette, view: str) -> None:
    kind, colour = identity.headwear, colours.headwear
    if kind == "cap":
        pen.polygon(
            [
                (-HEAD_RU - 0.004, HEAD_V - 0.012),
                (-HEAD_RU * 0.7, HEAD_V - 0.06),
                (0.0, HEAD_V - 0.074),
                (HEAD_RU * 0.7, HEAD_V - 0.06),
                (HEAD_RU + 0.004, HEAD_V - 0.012),
            ],
            colour,
        )
        if view == "front":
            pen.ellipse(0.0, HEAD_V - 0.014, HEAD_RU * 1.0, 0.012, _shade(colour, 0.8))
        elif view == "side":
            pen.polygon(
                [
                    (0.03, HEAD_V - 0.022),
                    (0.085, HEAD_V - 0.016),
                    (0.085, HEAD_V - 0.008),
                    (0.03, HEAD_V - 0.01),
                ],
                _shade(colour, 0.8),
            )
    elif kind == "beanie":
        pen.polygon(
            [
                (-HEAD_RU - 0.006, HEAD_V - 0.004),
                (-HEAD_RU * 0.8, HEAD_V - 0.058),
                (0.0, HEAD_V - 0.078),
                (HEAD_RU * 0.8, HEAD_V - 0.058),
                (HEAD_RU + 0.006, HEAD_V - 0.004),
            ],
            colour,
        )
        pen.rect(
            -HEAD_RU - 0.006,
            HEAD_V - 0.018,
            HEAD_RU + 0.006,
            HEAD_V - 0.002,
            _shade(colour, 0.82),
            outline=False,
        )
    elif kind == "hat":
        pen.ellipse(0.0, HEAD_V - 0.03, HEAD_RU * 1.9, 0.016, colour)
        pen.polygon(
            [
                (-HEAD_RU * 0.9, HEAD_V - 0.03),
                (-HEAD_RU * 0.8, HEAD_V - 0.08),
                (HEAD_RU * 0.8, HEAD_V - 0.08),
                (HEAD_RU * 0.9, HEAD_V - 0.03),
            ],
            colour,
        )
        pen.rect(
            -HEAD_RU * 0.88,
            HEAD_V - 0.045,
            HEAD_RU * 0.88,
            HEAD_V - 0.033,
            _shade(colour, 0.6),
            outline=False,
        )


# ---------------------------------------------------------------------------------------------------
# Whole images: background, person, occluders and camera effects
# ---------------------------------------------------------------------------------------------------


def render_image(
    identity: Identity | None,
    instance: Instance,
    camera: Camera,
    background: Image.Image,
    settings: SyntheticSettings,
    render_seed: int,
) -> Image.Image:
    """Render one 128x64 RGB crop; `identity` None renders a junk box (background and body fragments)."""
    rng = random.Random(render_seed)
    canvas = _crop_background(background, rng)
    if identity is None:
        _draw_junk(canvas, rng, settings)
    else:
        _draw_main_person(canvas, identity, instance, settings)
        _draw_occluder(canvas, instance, rng, settings)
    image = canvas.reduce(DRAW_SCALE)
    return _apply_camera_effects(image, instance, camera)


def _crop_background(background: Image.Image, rng: random.Random) -> Image.Image:
    left = rng.randint(0, 2 * BACKGROUND_MARGIN)
    top = rng.randint(0, 2 * BACKGROUND_MARGIN)
    return background.crop((left, top, left + CANVAS_WIDTH, top + CANVAS_HEIGHT))


def _draw_main_person(
    canvas: Image.Image, identity: Identity, instance: Instance, settings: SyntheticSettings
) -> None:
    height = CANVAS_HEIGHT * 0.86 * identity.height * instance.scale
    feet_y = CANVAS_HEIGHT * (0.965 + instance.shift_y)
    centre_x = CANVAS_WIDTH * (0.5 + instance.shift_x)
    draw_person(
        canvas,
        identity,
        instance,
        resolve_colours(identity, settings.colour_jitter),
        centre_x,
        feet_y,
        height,
    )


def _draw_occluder(
    canvas: Image.Image, instance: Instance, rng: random.Random, settings: SyntheticSettings
) -> None:
    if instance.occlusion == "pole":
        _draw_pole(canvas, rng)
    elif instance.occlusion == "car":
        _draw_car(canvas, rng, instance.occlusion_side)
    elif instance.occlusion == "person":
        _draw_passer_by(canvas, rng, settings, instance.occlusion_side)


def _draw_pole(canvas: Image.Image, rng: random.Random) -> None:
    draw = ImageDraw.Draw(canvas)
    width = rng.randint(7, 14)
    left = rng.choice((rng.randint(4, 36), rng.randint(CANVAS_WIDTH - 36 - width, CANVAS_WIDTH - 4 - width)))
    base = rng.choice(((90, 90, 95), (60, 70, 60), (150, 150, 150), (40, 40, 40)))
    draw.rectangle((left, 0, left + width, CANVAS_HEIGHT), fill=base)
    draw.rectangle(
        (left + 2, 0, left + 2 + width // 4, CANVAS_HEIGHT), fill=_tint(base, (255, 255, 255), 0.3)
    )
    draw.rectangle((left + width - 2, 0, left + width, CANVAS_HEIGHT), fill=_shade(base, 0.6))


def _draw_car(canvas: Image.Image, rng: random.Random, side: str) -> None:
    draw = ImageDraw.Draw(canvas)
    body = GARMENT_COLOURS[rng.choice(("white", "black", "grey", "red", "blue", "light grey", "dark grey"))]
    top = int(CANVAS_HEIGHT * rng.uniform(0.6, 0.75))
    reach = int(CANVAS_WIDTH * rng.uniform(0.35, 0.6))
    x0, x1 = (-40, reach) if side == "left" else (CANVAS_WIDTH - reach, CANVAS_WIDTH + 40)
    draw.rounded_rectangle(
        (x0, top, x1, CANVAS_HEIGHT + 20), radius=14, fill=body, outline=_shade(body, 0.5), width=2
    )
    draw.rectangle((x0, top + 6, x1, top + 20), fill=(50, 60, 70))  # window band
    draw.line((x0, top + 34, x1, top + 34), fill=_shade(body, 0.6), width=2)
    wheel_x = x1 - 22 if side == "left" else x0 + 22
    draw.ellipse((wheel_x - 16, CANVAS_HEIGHT - 22, wheel_x + 16, CANVAS_HEIGHT + 10), fill=(20, 20, 20))
    draw.ellipse((wheel_x - 7, CANVAS_HEIGHT - 13, wheel_x + 7, CANVAS_HEIGHT + 1), fill=(140, 140, 140))


def _draw_passer_by(canvas: Image.Image, rng: random.Random, settings: SyntheticSettings, side: str) -> None:
    palette = list(GARMENT_COLOURS)[: settings.palette_size]
    identity = draw_identity(rng, palette)
    instance = Instance(
        camid=0, scene="none", view=rng.choice(VIEWS), facing=rng.choice(("left", "right")), pose="walking",
        stride=0.4, phase=rng.random(), held_object="none", held_colour="none", scale=1.0, shift_x=0.0, shift_y=0.0,
        brightness=1.0, occlusion="none", occlusion_side="none", blur=0.0, low_res=1, jpeg_quality=90,
    )  # fmt: skip
    centre_x = CANVAS_WIDTH * (rng.uniform(-0.2, 0.05) if side == "left" else rng.uniform(0.95, 1.2))
    height = CANVAS_HEIGHT * rng.uniform(0.95, 1.1)
    draw_person(
        canvas,
        identity,
        instance,
        resolve_colours(identity, settings.colour_jitter),
        centre_x,
        CANVAS_HEIGHT * 1.05,
        height,
    )


def _draw_junk(canvas: Image.Image, rng: random.Random, settings: SyntheticSettings) -> None:
    """Draw a bad detection: nothing (empty background), a person far off-centre, or one body part."""
    kind = rng.choice(("empty", "offset", "part"))
    if kind == "empty":
        return
    palette = list(GARMENT_COLOURS)[: settings.palette_size]
    identity = draw_identity(rng, palette)
    instance = draw_instance(rng, settings, camid=1, scene="none")
    colours = resolve_colours(identity, settings.colour_jitter)
    if kind == "offset":
        centre_x = CANVAS_WIDTH * rng.choice((rng.uniform(-0.3, 0.0), rng.uniform(1.0, 1.3)))
        draw_person(canvas, identity, instance, colours, centre_x, CANVAS_HEIGHT * 0.97, CANVAS_HEIGHT * 0.85)
    else:
        height = CANVAS_HEIGHT * rng.uniform(1.8, 2.6)
        feet_y = CANVAS_HEIGHT * rng.uniform(1.0, 2.2)
        draw_person(canvas, identity, instance, colours, CANVAS_WIDTH * rng.uniform(0.3, 0.7), feet_y, height)


def _apply_camera_effects(image: Image.Image, instance: Instance, camera: Camera) -> Image.Image:
    image = image.point(lighting_table(camera, instance.brightness))
    if instance.low_res > 1:
        small = (max(1, IMAGE_WIDTH // instance.low_res), max(1, IMAGE_HEIGHT // instance.low_res))
        image = image.resize(small, Image.Resampling.BILINEAR).resize(
            (IMAGE_WIDTH, IMAGE_HEIGHT), Image.Resampling.BILINEAR
        )
    if instance.blur > 0.0:
        image = image.filter(ImageFilter.GaussianBlur(instance.blur))
    return image


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    """Encode an RGB image as baseline JPEG; the bytes depend only on the pixels and the quality."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------
# Captions
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptionFact:
    """One attribute named by a caption: its true value, and the value the caption states."""

    attribute: str
    value: str
    stated: str


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _with_article(phrase: str, plural: bool) -> str:
    return phrase if plural else f"{_article(phrase)} {phrase}"


def _join(phrases: Sequence[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


class _CaptionWriter:
    """Builds one caption, naming attributes and recording each as a CaptionFact."""

    def __init__(
        self,
        rng: random.Random,
        identity: Identity,
        instance: Instance,
        settings: SyntheticSettings,
        palette: Sequence[str],
    ) -> None:
        self.rng = rng
        self.identity = identity
        self.instance = instance
        self.settings = settings
        self.palette = list(palette)
        self.facts: list[CaptionFact] = []

    def colour(self, attribute: str, value: str) -> str:
        """Name a colour, replaced by a similar one at the caption colour error rate."""
        stated = value
        if self.rng.random() < self.settings.caption_colour_error_rate:
            if attribute == "hair_colour":
                vocabulary = HAIR_COLOURS
            else:
                vocabulary = {name: GARMENT_COLOURS[name] for name in self.palette}
            stated = _similar_colour(value, vocabulary, self.rng)
        self.facts.append(CaptionFact(attribute, value, stated))
        return stated

    def word(self, attribute: str, value: str) -> str:
        stated = self.rng.choice(SYNONYMS.get(value, (value,)))
        self.facts.append(CaptionFact(attribute, value, stated))
        return stated

    def include(self) -> bool:
        return self.rng.random() < self.settings.caption_attribute_rate

    # Identity phrases; each returns None when the caption leaves the attribute out or it is not visible.

    def hair(self) -> str | None:
        identity = self.identity
        covered = identity.headwear in ("beanie", "hat") and identity.hair_style in ("short", "shaved")
        if covered or not self.include():
            return None
        style = identity.hair_style
        self.facts.append(CaptionFact("hair_style", style, style))
        if style == "shaved":
            return "a shaved head"
        colour = self.colour("hair_colour", identity.hair_colour)
        return {
            "short": f"short {colour} hair",
            "long": f"long {colour} hair",
            "ponytail": f"{_article(colour)} {colour} ponytail",
            "bun": f"{colour} hair in a bun",
        }[style]

    def upper(self) -> str:
        identity = self.identity
        colour = self.colour("upper_colour", identity.upper_colour)
        name = self.word("upper_type", identity.upper_type)
        pattern = identity.upper_pattern
        visible_logo = pattern == "logo" and self.instance.view == "front"
        if pattern in ("stripes", "checks") and self.rng.random() < 0.8:
            self.facts.append(CaptionFact("upper_pattern", pattern, pattern))
            other = self.colour("pattern_colour", identity.pattern_colour)
            adjective = "striped" if pattern == "stripes" else "checked"
            return f"{_article(colour)} {colour} and {other} {adjective} {name}"
        if visible_logo and self.rng.random() < 0.8:
            self.facts.append(CaptionFact("upper_pattern", pattern, pattern))
            other = self.colour("pattern_colour", identity.pattern_colour)
            return f"{_article(colour)} {colour} {name} with {_article(other)} {other} logo on the front"
        return f"{_article(colour)} {colour} {name}"

    def lower(self) -> str | None:
        identity = self.identity
        if identity.lower_type == "none" or not self.include():
            return None
        colour = self.colour("lower_colour", identity.lower_colour)
        name = self.word("lower_type", identity.lower_type)
        return _with_article(f"{colour} {name}", identity.lower_type in PLURAL_TYPES)

    def shoes(self) -> str | None:
        identity = self.identity
        if not self.include():
            return None
        colour = self.colour("shoes_colour", identity.shoes_colour)
        name = self.word("shoes_type", identity.shoes_type)
        return f"{colour} {name}"

    def headwear(self) -> str | None:
        identity = self.identity
        kind = identity.headwear
        hidden = kind in ("glasses", "sunglasses") and self.instance.view == "back"
        if kind == "none" or hidden or not self.include():
            return None
        if kind in ("glasses", "sunglasses"):
            self.facts.append(CaptionFact("headwear", kind, kind))
            return kind
        colour = self.colour("headwear_colour", identity.headwear_colour)
        return f"{_article(colour)} {colour} {self.word('headwear', kind)}"

    def bag(self) -> str | None:
        identity = self.identity
        if identity.bag_type == "none" or not self.include():
            return None
        colour = self.colour("bag_colour", identity.bag_colour)
        return f"{_article(colour)} {colour} {self.word('bag_type', identity.bag_type)}"

    def build(self) -> str | None:
        identity = self.identity
        if self.rng.random() >= self.settings.caption_attribute_rate * 0.4:
            return None
        if identity.height >= 1.04:
            word = "tall"
        elif identity.height <= 0.93:
            word = "short"
        elif identity.width <= 0.86:
            word = "slim"
        elif identity.width >= 1.1:
            word = "heavy-set"
        else:
            return None
        self.facts.append(CaptionFact("build", word, word))
        return word

    # Instance phrases

    def view_phrase(self, participle: bool) -> str:
        view, facing = self.instance.view, self.instance.facing
        self.facts.append(CaptionFact("view", view, view))
        options = {
            "front": (
                ("walking towards the camera", "facing the camera"),
                ("facing the camera", "seen from the front"),
            ),
            "back": (
                ("walking away from the camera", "facing away from the camera"),
                ("seen from behind", "seen from the back"),
            ),
            "side": (
                (f"walking to the {facing}", "seen from the side"),
                ("seen from the side", f"facing {facing}"),
            ),
        }[view]
        return self.rng.choice(options[1] if participle else options[0])

    def held_phrase(self) -> str | None:
        held = self.instance.held_object
        if held == "none":
            if self.rng.random() < 0.25:
                self.facts.append(CaptionFact("held_object", "none", "none"))
                return "carrying nothing in " + self.pronoun_possessive() + " hands"
            return None
        name = self.word("held_object", held)
        if held == "umbrella":
            colour = self.colour("held_colour", self.instance.held_colour)
            return self.rng.choice(
                (
                    f"holding {_article(colour)} {colour} umbrella",
                    f"walking under {_article(colour)} {colour} umbrella",
                )
            )
        verb = self.rng.choice(("holding", "carrying")) if held == "box" else "holding"
        return f"{verb} {_article(name)} {name}"

    def pronoun(self) -> str:
        return "he" if self.identity.gender == "man" else "she"

    def pronoun_possessive(self) -> str:
        return "his" if self.identity.gender == "man" else "her"

    def subject(self, article: str) -> str:
        nouns = {
            "man": ("man", "guy", "young man", "gentleman"),
            "woman": ("woman", "lady", "young woman", "girl"),
        }
        if self.rng.random() < 0.2:
            noun = self.rng.choice(("person", "pedestrian"))
        else:
            noun = self.rng.choice(nouns[self.identity.gender])
            self.facts.append(CaptionFact("gender", self.identity.gender, self.identity.gender))
        build = self.build()
        phrase = f"{build} {noun}" if build else noun
        return f"{_article(phrase)} {phrase}" if article == "a" else f"{article} {phrase}"


def _similar_colour(name: str, vocabulary: dict[str, RGB], rng: random.Random) -> str:
    """Pick one of the two colours of `vocabulary` nearest to `name` in RGB (a plausible annotator mistake)."""
    reference = vocabulary.get(name) or GARMENT_COLOURS[name]
    ranked = sorted(
        (other for other in vocabulary if other != name),
        key=lambda other: sum((a - b) ** 2 for a, b in zip(reference, vocabulary[other], strict=True)),
    )
    return rng.choice(ranked[:2])


def write_caption(
    rng: random.Random,
    identity: Identity,
    instance: Instance,
    settings: SyntheticSettings,
    palette: Sequence[str],
) -> tuple[str, list[CaptionFact]]:
    """Write one caption of an image and return it with the facts it states."""
    writer = _CaptionWriter(rng, identity, instance, settings, palette)
    clothes = [phrase for phrase in (writer.upper(), writer.lower(), writer.shoes()) if phrase]
    if len(clothes) > 2 and rng.random() < 0.3:
        clothes[1:] = rng.sample(clothes[1:], len(clothes) - 1)
    hair = writer.hair()
    headwear = writer.headwear()
    bag = writer.bag()
    instance_parts: list[str] = []
    if rng.random() < settings.caption_instance_rate:
        instance_parts = [writer.view_phrase(participle=False)]
        held = writer.held_phrase()
        if held:
            instance_parts.append(held)
        rng.shuffle(instance_parts)
    template = rng.choice((_template_noun_phrase, _template_declarative, _template_instance_first))
    text = template(writer, rng, clothes, hair, headwear, bag, instance_parts)
    return text, writer.facts


def _template_noun_phrase(
    writer: _CaptionWriter,
    rng: random.Random,
    clothes: list[str],
    hair: str | None,
    headwear: str | None,
    bag: str | None,
    instance_parts: list[str],
) -> str:
    """'A woman with long brown hair wearing a red coat and black boots, carrying a bag. She is ...'"""
    subject = writer.subject("a")
    if hair:
        subject += f" with {hair}"
    verb = rng.choice(("wearing", "dressed in", "in"))
    worn = clothes + ([headwear] if headwear else [])
    first = f"{subject} {verb} {_join(worn)}"
    if bag:
        first += f", carrying {bag}" if rng.random() < 0.5 else f", with {bag}"
    sentences = [_sentence(first)]
    if instance_parts:
        sentences.append(_sentence(f"{writer.pronoun()} is {_join(instance_parts)}"))
    return " ".join(sentences)


def _template_declarative(
    writer: _CaptionWriter,
    rng: random.Random,
    clothes: list[str],
    hair: str | None,
    headwear: str | None,
    bag: str | None,
    instance_parts: list[str],
) -> str:
    """'The man is wearing ... He has short black hair and glasses. He carries a backpack.'"""
    article = rng.choice(("the", "this", "a"))
    sentences = [_sentence(f"{writer.subject(article)} is wearing {_join(clothes)}")]
    extras = []
    pronoun = writer.pronoun()
    has = [phrase for phrase in (hair, headwear) if phrase]
    if has:
        extras.append(
            _sentence(f"{pronoun} has {_join(has)}")
            if hair
            else _sentence(f"{pronoun} also wears {_join(has)}")
        )
    if bag:
        extras.append(_sentence(f"{pronoun} {rng.choice(('carries', 'has'))} {bag}"))
    if instance_parts:
        extras.append(_sentence(f"{pronoun} is {_join(instance_parts)}"))
    rng.shuffle(extras)
    return " ".join(sentences + extras)


def _template_instance_first(
    writer: _CaptionWriter,
    rng: random.Random,
    clothes: list[str],
    hair: str | None,
    headwear: str | None,
    bag: str | None,
    instance_parts: list[str],
) -> str:
    """'Seen from behind, a man in a grey jacket and black trousers carries a backpack.'"""
    if not instance_parts:
        return _template_noun_phrase(writer, rng, clothes, hair, headwear, bag, instance_parts)
    lead = _sentence(
        f"{_join(instance_parts)}, {writer.subject('a')} {rng.choice(('wears', 'is wearing', 'is dressed in'))} {_join(clothes)}"
    )
    sentences = [lead]
    pronoun = writer.pronoun()
    details = [phrase for phrase in (hair, headwear) if phrase]
    if details:
        sentences.append(_sentence(f"{pronoun} has {_join(details)}"))
    if bag:
        sentences.append(_sentence(f"{pronoun} {rng.choice(('carries', 'has'))} {bag}"))
    return " ".join(sentences)


def tokenize_caption(caption: str) -> list[str]:
    """Split a caption into lower-case word tokens, as in CUHK-PEDES `processed_tokens`."""
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", caption.lower())


# ---------------------------------------------------------------------------------------------------
# Planning: people, their splits and their images
# ---------------------------------------------------------------------------------------------------


def _stream(seed: int, *parts: object) -> random.Random:
    """Return an independent random stream for one named part of the output (stable across runs)."""
    return random.Random(":".join(str(part) for part in (seed, *parts)))


@dataclass(frozen=True)
class _Group:
    """A disjoint group of people with the same membership in the two datasets."""

    name: str
    count: int
    market_split: str | None  # "train" or "test"
    cuhk_split: str | None  # "train", "val" or "test"


def _identity_groups(settings: SyntheticSettings) -> list[_Group]:
    return [
        _Group("market_only_train", settings.market_only_train_ids, "train", None),
        _Group("market_only_test", settings.market_only_test_ids, "test", None),
        _Group("cuhk_only_train", settings.cuhk_only_train_ids, None, "train"),
        _Group("cuhk_val", settings.cuhk_val_ids, None, "val"),
        _Group("cuhk_only_test", settings.cuhk_only_test_ids, None, "test"),
        _Group("shared_train", settings.shared_train_ids, "train", "train"),
        _Group("shared_test", settings.shared_test_ids, "test", "test"),
        _Group("market_test_in_cuhk_train", settings.market_test_in_cuhk_train_ids, "test", "train"),
        _Group("cuhk_test_in_market_train", settings.cuhk_test_in_market_train_ids, "train", "test"),
    ]


@dataclass
class Person:
    """One synthetic person and its labels in the two datasets (None where it is absent)."""

    name: str  # "P00001"
    group: str
    identity: Identity
    market_pid: int | None = None
    market_split: str | None = None
    cuhk_id: int | None = None
    cuhk_split: str | None = None
    shared_keys: list[str] = field(default_factory=list)  # Market file names also in CUHK-PEDES


@dataclass
class ImageSpec:
    """Everything needed to render and write one image, and to describe it in attributes.jsonl."""

    key: str  # Market file name, or the CUHK-PEDES file path for images outside Market
    person: str | None  # Person.name; None for distractors and junk boxes
    identity: Identity | None  # None for junk boxes
    instance: Instance
    render_seed: int
    market_pid: int | None = None  # 0 for distractors, -1 for junk boxes, None outside Market
    cuhk_id: int | None = None
    market_folder: str | None = None  # bounding_box_train, bounding_box_test or query
    cuhk_path: str | None = None  # CUHK-PEDES file_path, relative to imgs/
    cuhk_split: str | None = None
    captions: list[str] = field(default_factory=list)
    caption_facts: list[list[CaptionFact]] = field(default_factory=list)

    def output_paths(self) -> list[str]:
        """Return the paths, relative to the output folder, where this image is written."""
        paths = []
        if self.market_folder is not None:
            paths.append(f"{MARKET_DIR}/{self.market_folder}/{self.key}")
        if self.cuhk_path is not None:
            paths.append(f"{CUHK_DIR}/imgs/{self.cuhk_path}")
        return paths


@dataclass
class _Plan:
    persons: list[Person]
    images: list[ImageSpec]
    cameras: list[Camera]


def plan_dataset(settings: SyntheticSettings, seed: int) -> _Plan:
    """Decide every person, label, file name, instance attribute and caption, without drawing pixels."""
    palette = list(GARMENT_COLOURS)[: settings.palette_size]
    cameras = make_cameras(seed, settings.num_cameras)
    persons = _plan_persons(settings, seed, palette)
    _assign_labels(persons, settings, seed)
    names = _MarketNamer(seed)
    images: list[ImageSpec] = []
    for person in persons:
        market_images = _plan_market_images(person, settings, seed, cameras, names)
        cuhk_images = _plan_cuhk_images(person, market_images, settings, seed, cameras)
        images.extend(market_images)
        images.extend(image for image in cuhk_images if image.market_folder is None)
    images.extend(_plan_distractors(settings, seed, cameras, names, palette))
    images.extend(_plan_junk(settings, seed, cameras, names))
    _write_captions(images, settings, seed, palette)
    return _Plan(persons, images, cameras)


def _plan_persons(settings: SyntheticSettings, seed: int, palette: Sequence[str]) -> list[Person]:
    """Draw every person group by group; groups dressed alike stay inside one identity group."""
    persons: list[Person] = []
    uniform_index = 0
    for group in _identity_groups(settings):
        rng = _stream(seed, "persons", group.name)
        identities: list[Identity] = []
        group_start_rate = _uniform_group_start_rate(settings)
        while len(identities) < group.count:
            remaining = group.count - len(identities)
            if rng.random() < group_start_rate and remaining >= settings.uniform_group_size[0]:
                size = min(remaining, _randint_in(rng, settings.uniform_group_size))
                identities.extend(_draw_uniform_group(rng, palette, settings, size, uniform_index))
                uniform_index += 1
            else:
                identities.append(draw_identity(rng, palette))
        for identity in identities:
            persons.append(
                Person(
                    f"P{len(persons) + 1:05d}",
                    group.name,
                    identity,
                    market_split=group.market_split,
                    cuhk_split=group.cuhk_split,
                )
            )
    return persons


def _uniform_group_start_rate(settings: SyntheticSettings) -> float:
    """Return the chance per draw of starting a group, so that `uniform_fraction` of people are in one.

    A draw starts a group of mean size S with chance q, else adds one person. The expected fraction
    of people in groups is then qS / (qS + 1 - q), and solving for q gives f / (S (1 - f) + f).
    """
    fraction = settings.uniform_fraction
    mean_size = sum(settings.uniform_group_size) / 2.0
    return fraction / (mean_size * (1.0 - fraction) + fraction) if fraction > 0 else 0.0


def _draw_uniform_group(
    rng: random.Random, palette: Sequence[str], settings: SyntheticSettings, size: int, group_index: int
) -> list[Identity]:
    base = dataclasses.replace(draw_identity(rng, palette), uniform_group=group_index)
    members = [base]
    attempts = 0
    while len(members) < size:
        attempts += 1
        if attempts > 100 * size:
            raise RuntimeError(
                f"could not draw {size} distinct people dressed alike; lower uniform_group_size"
            )
        member = vary_identity(rng, base, palette, _randint_in(rng, settings.uniform_changed_details))
        if all(_dress_signature(member) != _dress_signature(other) for other in members):
            members.append(member)
    return members


def _dress_signature(identity: Identity) -> tuple[Any, ...]:
    return dataclasses.astuple(dataclasses.replace(identity, shade_seed=0, uniform_group=None))


def _assign_labels(persons: list[Person], settings: SyntheticSettings, seed: int) -> None:
    """Give Market pids (shuffled over 1..N, train and test interleaved as in Market-1501) and CUHK ids.

    CUHK-PEDES ids are 1-based and contiguous per split in the order train, val, test, so a reader can
    use ``id - 1`` as the training label.
    """
    rng = _stream(seed, "labels")
    market = [person for person in persons if person.market_split is not None]
    pids = list(range(1, len(market) + 1))
    rng.shuffle(pids)
    for person, pid in zip(market, pids, strict=True):
        person.market_pid = pid
    next_id = 1
    for split in ("train", "val", "test"):
        members = [person for person in persons if person.cuhk_split == split]
        rng.shuffle(members)
        for person in members:
            person.cuhk_id = next_id
            next_id += 1


class _MarketNamer:
    """Issues Market-1501 file names with unique (camera, sequence, frame) triples."""

    def __init__(self, seed: int) -> None:
        self.rng = _stream(seed, "market-names")
        self.used: set[tuple[int, int, int]] = set()

    def name(self, pid: int, camid: int, query: bool) -> str:
        while True:
            sequence = self.rng.randint(1, 6)
            frame = self.rng.randrange(1, 200_000) // 25 * 25 + 1
            if (camid, sequence, frame) not in self.used:
                break
        self.used.add((camid, sequence, frame))
        box = 0 if query else self.rng.randint(1, 6)
        owner = "-1" if pid < 0 else f"{pid:04d}"
        return f"{owner}_c{camid}s{sequence}_{frame:06d}_{box:02d}.jpg"


def _new_image(
    key_parts: tuple[object, ...],
    seed: int,
    settings: SyntheticSettings,
    camera: Camera,
    person: Person | None,
    identity: Identity | None,
) -> ImageSpec:
    rng = _stream(seed, "instance", *key_parts)
    instance = draw_instance(rng, settings, camera.camid, camera.scene)
    return ImageSpec(
        key="",
        person=person.name if person else None,
        identity=identity,
        instance=instance,
        render_seed=rng.randrange(1 << 30),
        market_pid=person.market_pid if person else None,
        cuhk_id=person.cuhk_id if person else None,
    )


def _plan_market_images(
    person: Person, settings: SyntheticSettings, seed: int, cameras: list[Camera], names: _MarketNamer
) -> list[ImageSpec]:
    """Plan a person's Market images: training images, or one query per query camera plus gallery images."""
    if person.market_split is None or person.market_pid is None:
        return []
    rng = _stream(seed, "market-plan", person.name)
    shots: list[tuple[int, str]] = []  # (camid, folder)
    if person.market_split == "train":
        seen_by = rng.sample(
            range(1, settings.num_cameras + 1), _randint_in(rng, settings.market_train_cameras)
        )
        count = max(len(seen_by), _randint_in(rng, settings.market_train_images))
        shots = [(seen_by[index % len(seen_by)], "bounding_box_train") for index in range(count)]
    else:
        seen_by = rng.sample(
            range(1, settings.num_cameras + 1), _randint_in(rng, settings.market_test_cameras)
        )
        query_count = min(len(seen_by), _randint_in(rng, settings.query_cameras))
        shots = [(camid, "query") for camid in seen_by[:query_count]]
        for camid in seen_by:
            shots += [(camid, "bounding_box_test")] * _randint_in(rng, settings.gallery_per_camera)
    images = []
    for index, (camid, folder) in enumerate(shots):
        image = _new_image(
            ("market", person.name, index), seed, settings, cameras[camid - 1], person, person.identity
        )
        image.key = names.name(person.market_pid, camid, query=folder == "query")
        image.market_folder = folder
        images.append(image)
    return images


def _plan_cuhk_images(
    person: Person,
    market_images: list[ImageSpec],
    settings: SyntheticSettings,
    seed: int,
    cameras: list[Camera],
) -> list[ImageSpec]:
    """Plan a person's CUHK-PEDES images: some Market images (kept under Market/) plus new ones under SYN/."""
    if person.cuhk_split is None:
        return []
    rng = _stream(seed, "cuhk-plan", person.name)
    count = _randint_in(rng, settings.cuhk_images)
    shared: list[ImageSpec] = []
    if market_images:
        shared_count = min(count, len(market_images), _randint_in(rng, settings.shared_images))
        shared = rng.sample(market_images, shared_count)
    images = []
    for image in shared:
        image.cuhk_path = f"Market/{image.key}"
        image.cuhk_split = person.cuhk_split
        person.shared_keys.append(image.key)
        images.append(image)
    for index in range(count - len(shared)):
        camera = cameras[rng.randrange(len(cameras))]
        image = _new_image(("cuhk", person.name, index), seed, settings, camera, person, person.identity)
        image.key = f"SYN/{person.name}_c{camera.camid}_{index + 1:02d}.jpg"
        image.cuhk_path = image.key
        image.cuhk_split = person.cuhk_split
        images.append(image)
    return images


def _plan_distractors(
    settings: SyntheticSettings, seed: int, cameras: list[Camera], names: _MarketNamer, palette: Sequence[str]
) -> list[ImageSpec]:
    images = []
    for index in range(settings.num_distractors):
        rng = _stream(seed, "distractor", index)
        camera = cameras[rng.randrange(len(cameras))]
        image = _new_image(("distractor", index), seed, settings, camera, None, draw_identity(rng, palette))
        image.key = names.name(0, camera.camid, query=False)
        image.market_pid = 0
        image.market_folder = "bounding_box_test"
        images.append(image)
    return images


def _plan_junk(
    settings: SyntheticSettings, seed: int, cameras: list[Camera], names: _MarketNamer
) -> list[ImageSpec]:
    images = []
    for index in range(settings.num_junk):
        camera = cameras[_stream(seed, "junk", index).randrange(len(cameras))]
        image = _new_image(("junk", index), seed, settings, camera, None, None)
        image.key = names.name(-1, camera.camid, query=False)
        image.market_pid = -1
        image.market_folder = "bounding_box_test"
        images.append(image)
    return images


def _write_captions(
    images: list[ImageSpec], settings: SyntheticSettings, seed: int, palette: Sequence[str]
) -> None:
    for image in images:
        if image.cuhk_path is None or image.identity is None:
            continue
        rng = _stream(seed, "captions", image.key)
        for _ in range(_randint_in(rng, settings.captions_per_image)):
            text, facts = write_caption(rng, image.identity, image.instance, settings, palette)
            image.captions.append(text)
            image.caption_facts.append(facts)


# ---------------------------------------------------------------------------------------------------
# Writing the output
# ---------------------------------------------------------------------------------------------------


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
    backgrounds = {camera.camid: render_background(camera) for camera in cameras}
    for image in images:
        camera = cameras[image.instance.camid - 1]
        pixels = render_image(
            image.identity, image.instance, camera, backgrounds[camera.camid], settings, image.render_seed
        )
        data = encode_jpeg(pixels, image.instance.jpeg_quality)
        for path in image.output_paths():
            (out / path).write_bytes(data)


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


# ---------------------------------------------------------------------------------------------------
# Contact sheet
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------


def _parse_override(text: str) -> tuple[str, Any]:
    """Parse NAME=VALUE into a settings field and a value of that field's type."""
    name, separator, value = text.partition("=")
    types = {f.name: f.type for f in dataclasses.fields(SyntheticSettings)}
    if not separator or name not in types:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE with NAME a settings field, got {text!r}; fields: {sorted(types)}"
        )
    kind = str(types[name])
    try:
        if "tuple" in kind:
            low, high = (int(part) for part in value.split(","))
            return name, (low, high)
        if kind == "float":
            return name, float(value)
        return name, int(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"invalid value for {name}: {value!r} ({kind}; ranges as LOW,HIGH)"
        ) from err


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hpl.data.synthetic",
        description="Generate synthetic pedestrians with captions in the Market-1501 and CUHK-PEDES formats.",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder (Market-1501/, CUHK-PEDES/, truth.json, attributes.jsonl)",
    )
    parser.add_argument(
        "--preset", default="demo", choices=sorted(PRESETS), help="size and difficulty preset (default: demo)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed; the same seed writes the same bytes"
    )
    parser.add_argument(
        "--num-ids", type=int, default=None, help="rescale the preset to about this many people in total"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_parse_override,
        default=[],
        metavar="NAME=VALUE",
        help="override one settings field, e.g. --set occlusion_rate=0.5 or --set cuhk_images=2,3 (repeatable)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="rendering processes (default 1); the output does not depend on it",
    )
    parser.add_argument(
        "--contact-sheet",
        type=Path,
        default=None,
        help="also write a PNG of 40 generated images to this path",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    summary = generate(
        args.out,
        preset=args.preset,
        seed=args.seed,
        num_ids=args.num_ids,
        workers=args.workers,
        **dict(args.overrides),
    )
    if args.contact_sheet is not None:
        logger.info("wrote contact sheet %s", write_contact_sheet(args.out, args.contact_sheet))
    table = "\n".join(f"  {name:<32} {value}" for name, value in summary.counts.items())
    logger.info(
        "preset %s, seed %d: %d people, %d files under %s\n%s",
        summary.preset,
        summary.seed,
        summary.num_persons,
        summary.num_files,
        summary.out_dir,
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Drawing identity attributes (fixed per person) and instance attributes (changing per image)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hpl.data.synthetic.settings import SyntheticSettings
from hpl.data.synthetic.vocabulary import (
    BAG_TYPES,
    GENDERS,
    HAIR_COLOURS,
    HEADWEAR_TYPES,
    HELD_OBJECTS,
    JEANS_COLOURS,
    OCCLUSIONS,
    SHOE_TYPES,
    SKIN_TONES,
    UMBRELLA_COLOURS,
)


@dataclass(frozen=True)
class Identity:
    """Attributes fixed for one person; colours are names from the vocabulary module."""

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

"""Settings of one synthetic benchmark: SyntheticSettings, the presets and their validation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hpl.data.synthetic.vocabulary import GARMENT_COLOURS


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
    backgrounds_per_camera: int = 1  # background views painted per camera, one picked per image
    shared_backgrounds: bool = False  # pick each image's background view from any camera, not its own
    camera_lighting_strength: float = 1.0  # scales each camera's brightness, contrast and cast offsets
    held_object_rate: float = 0.6  # chance that a person carries a phone, umbrella, cup or box
    standing_rate: float = 0.15  # chance of a standing pose instead of a walking one
    scale_jitter: float = 0.06  # max relative change of the person's height in the crop
    shift_jitter: float = 0.06  # max horizontal shift as a fraction of the crop width
    lighting_jitter: float = 0.08  # max per-image brightness change on top of the camera's
    occlusion_rate: float = 0.1  # chance of a pole, car or another person in front
    blur_rate: float = 0.1  # chance of a Gaussian blur (radius 0.4-1.2 px)
    low_res_rate: float = 0.05  # chance of a downscale-upscale by 2-4x
    jpeg_quality: tuple[int, int] = (75, 95)  # JPEG quality range


PRESETS: dict[str, SyntheticSettings] = {
    # Meant for a whole CPU training within about 30 minutes: 690 merged training identities
    # (seed 0), 100 test identities per dataset, distinct people and captions naming most attributes
    # correctly. A from-scratch ViT overfits a few hundred captioned images within minutes, so the
    # CUHK-PEDES part contains several thousand. Cameras differ less than in the benchmark preset.
    # With one background per camera and full lighting offsets, a small model trained for minutes
    # matched cameras rather than people: its I2I top-1 result shared the query's camera 70% of the
    # time. So backgrounds come from a pool shared by all cameras, and lighting offsets are halved.
    "demo": SyntheticSettings(
        cuhk_only_train_ids=500,
        cuhk_images=(5, 8),
        backgrounds_per_camera=4,
        shared_backgrounds=True,
        camera_lighting_strength=0.5,
    ),
    # Harder than the demo preset, so that the ablation's variants can differ: groups of people dressed
    # alike, captions that leave out attributes or get a colour wrong, one background per camera, and
    # more occlusion, blur and low resolution. 330 CUHK-PEDES and 250 Market-1501 test identities.
    # NOTE: the real benchmarks' range is T2I R1 about 40-65 and I2I mAP about 50-80. A first version
    # had the real sets' sizes (1,000 CUHK-PEDES test identities), half the people dressed alike and
    # captions naming 45% of the attributes: the ablation's joint baseline reached only T2I R1 5.7 and
    # I2I mAP 37.3. This version has a third of the people, so stage 0 fits 48 epochs instead of 12 in
    # the ablation's budget. It also has two captions per image as in CUHK-PEDES, captions naming 70% of
    # the attributes and a quarter of the people dressed alike. Here the baseline reaches I2I mAP 54.9
    # but T2I R1 only 24.7 (benchmarks/results/ablation.md), and the caption oracle reaches T2I R1 94.7.
    "benchmark": SyntheticSettings(
        market_only_train_ids=120,
        market_only_test_ids=100,
        cuhk_only_train_ids=540,
        cuhk_val_ids=70,
        cuhk_only_test_ids=180,
        shared_train_ids=120,
        shared_test_ids=130,
        market_test_in_cuhk_train_ids=20,
        cuhk_test_in_market_train_ids=20,
        num_distractors=500,
        num_junk=170,
        market_train_images=(8, 16),
        market_test_cameras=(2, 5),
        query_cameras=(1, 3),
        gallery_per_camera=(1, 4),
        cuhk_images=(3, 5),
        captions_per_image=(2, 2),
        palette_size=24,
        colour_jitter=24,
        uniform_fraction=0.25,
        caption_attribute_rate=0.7,
        caption_instance_rate=0.75,
        caption_colour_error_rate=0.05,
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
# The identity groups, in the order of SyntheticSettings; the identity counts of a preset.
ID_FIELDS = (
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
    if num_ids < len(ID_FIELDS):
        raise ValueError(
            f"num_ids must be at least {len(ID_FIELDS)} (one per identity group), got {num_ids}"
        )
    total = sum(getattr(settings, name) for name in ID_FIELDS)
    factor = num_ids / total
    scaled = {name: max(1, round(getattr(settings, name) * factor)) for name in ID_FIELDS}
    scaled["num_distractors"] = max(1, round(settings.num_distractors * factor))
    scaled["num_junk"] = max(1, round(settings.num_junk * factor))
    return dataclasses.replace(settings, **scaled)


def validate_settings(settings: SyntheticSettings) -> None:
    """Raise ValueError naming the first field whose value cannot produce a valid dataset."""
    for name in (*ID_FIELDS, "num_distractors", "num_junk"):
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
        "backgrounds_per_camera": settings.backgrounds_per_camera >= 1,
        "camera_lighting_strength": 0.0 <= settings.camera_lighting_strength <= 1.0,
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

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

import numpy as np  # noqa: F401  (kept as `synthetic.np`: benchmarks/synthetic.py reports its version)

from hpl.data.synthetic.attributes import (
    UNIFORM_DETAILS,
    Identity,
    Instance,
    draw_identity,
    draw_instance,
    vary_identity,
)
from hpl.data.synthetic.cameras import (
    Camera,
    camera_background,
    lighting_table,
    make_cameras,
    render_background,
    with_lighting_strength,
)
from hpl.data.synthetic.captions import CaptionFact, tokenize_caption, write_caption
from hpl.data.synthetic.cli import build_parser, main
from hpl.data.synthetic.contact_sheet import write_contact_sheet
from hpl.data.synthetic.head import HEAD_RU, HEAD_RV, HEAD_V
from hpl.data.synthetic.layout import (
    BACKGROUND_MARGIN,
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    CUHK_DIR,
    DRAW_SCALE,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    MARKET_DIR,
    MARKET_NAME_PATTERN,
)
from hpl.data.synthetic.pen import resolve_colours
from hpl.data.synthetic.person import draw_person
from hpl.data.synthetic.plan import ImageSpec, Person, plan_dataset
from hpl.data.synthetic.pose import ANKLE_V, HIP_V, KNEE_V, SHOULDER_V, WAIST_V
from hpl.data.synthetic.render import encode_jpeg, render_image
from hpl.data.synthetic.settings import PRESETS, SyntheticSettings, make_settings, validate_settings
from hpl.data.synthetic.vocabulary import (
    BAG_TYPES,
    GARMENT_COLOURS,
    GENDERS,
    HAIR_COLOURS,
    HAIR_STYLES,
    HEADWEAR_TYPES,
    HELD_OBJECTS,
    JEANS_COLOURS,
    LOWER_TYPES,
    OCCLUSIONS,
    PLURAL_TYPES,
    RGB,
    SCENES,
    SHOE_TYPES,
    SKIN_TONES,
    SYNONYMS,
    UMBRELLA_COLOURS,
    UPPER_PATTERNS,
    UPPER_TYPES,
    VIEWS,
)
from hpl.data.synthetic.writer import SyntheticSummary, generate, split_counts

__all__ = [
    "ANKLE_V",
    "BACKGROUND_MARGIN",
    "BAG_TYPES",
    "CANVAS_HEIGHT",
    "CANVAS_WIDTH",
    "CUHK_DIR",
    "Camera",
    "CaptionFact",
    "DRAW_SCALE",
    "GARMENT_COLOURS",
    "GENDERS",
    "HAIR_COLOURS",
    "HAIR_STYLES",
    "HEADWEAR_TYPES",
    "HEAD_RU",
    "HEAD_RV",
    "HEAD_V",
    "HELD_OBJECTS",
    "HIP_V",
    "IMAGE_HEIGHT",
    "IMAGE_WIDTH",
    "Identity",
    "ImageSpec",
    "Instance",
    "JEANS_COLOURS",
    "KNEE_V",
    "LOWER_TYPES",
    "MARKET_DIR",
    "MARKET_NAME_PATTERN",
    "OCCLUSIONS",
    "PLURAL_TYPES",
    "PRESETS",
    "Person",
    "RGB",
    "SCENES",
    "SHOE_TYPES",
    "SHOULDER_V",
    "SKIN_TONES",
    "SYNONYMS",
    "SyntheticSettings",
    "SyntheticSummary",
    "UMBRELLA_COLOURS",
    "UNIFORM_DETAILS",
    "UPPER_PATTERNS",
    "UPPER_TYPES",
    "VIEWS",
    "WAIST_V",
    "build_parser",
    "camera_background",
    "draw_identity",
    "draw_instance",
    "draw_person",
    "encode_jpeg",
    "generate",
    "lighting_table",
    "main",
    "make_cameras",
    "make_settings",
    "plan_dataset",
    "render_background",
    "render_image",
    "resolve_colours",
    "split_counts",
    "tokenize_caption",
    "validate_settings",
    "vary_identity",
    "with_lighting_strength",
    "write_caption",
    "write_contact_sheet",
]

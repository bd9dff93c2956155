"""Whole images: background, person, occluders, junk boxes, camera effects and JPEG encoding."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

from hpl.data.synthetic.attributes import Identity, Instance, draw_identity, draw_instance
from hpl.data.synthetic.cameras import Camera, lighting_table
from hpl.data.synthetic.layout import (
    BACKGROUND_MARGIN,
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    DRAW_SCALE,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
)
from hpl.data.synthetic.pen import _shade, _tint, resolve_colours
from hpl.data.synthetic.person import draw_person
from hpl.data.synthetic.settings import SyntheticSettings
from hpl.data.synthetic.vocabulary import GARMENT_COLOURS, VIEWS


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

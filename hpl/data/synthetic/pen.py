"""A person's resolved RGB colours and the pen that draws in body units."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from hpl.data.synthetic.attributes import Identity
from hpl.data.synthetic.vocabulary import GARMENT_COLOURS, HAIR_COLOURS, RGB, SKIN_TONES


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

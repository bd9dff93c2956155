"""Drawing heads, faces, hair and headwear for the front, back and side views."""

from __future__ import annotations

from hpl.data.synthetic.attributes import Identity
from hpl.data.synthetic.pen import _Palette, _Pen, _shade, _tint
from hpl.data.synthetic.vocabulary import RGB


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

"""Drawing held objects and bags: phone, umbrella, cup, box, handbag, backpack and shoulder bag."""

from __future__ import annotations

from hpl.data.synthetic.attributes import Identity, Instance
from hpl.data.synthetic.pen import _Palette, _Pen, _shade
from hpl.data.synthetic.pose import HIP_V, SHOULDER_V, _Skeleton
from hpl.data.synthetic.vocabulary import GARMENT_COLOURS, RGB


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

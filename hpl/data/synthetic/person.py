"""Drawing a person: the three views, ground shadow, legs, shoes, torso, garments and arms."""

from __future__ import annotations

import dataclasses

from PIL import Image

from hpl.data.synthetic.accessories import (
    _draw_backpack_back,
    _draw_backpack_side,
    _draw_backpack_straps,
    _draw_hand_items,
    _draw_handbag,
    _draw_shoulder_bag,
    _draw_shoulder_strap,
    _draw_umbrella,
)
from hpl.data.synthetic.attributes import Identity, Instance
from hpl.data.synthetic.head import _draw_head_back, _draw_head_front, _draw_head_side, _draw_long_hair_behind
from hpl.data.synthetic.pen import _Palette, _Pen, _shade, _tint
from hpl.data.synthetic.pose import HIP_V, SHOULDER_V, WAIST_V, _pose_skeleton, _Skeleton


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

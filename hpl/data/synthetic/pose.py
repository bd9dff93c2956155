"""Joint positions of a walking person for each view and held object."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hpl.data.synthetic.attributes import Identity, Instance


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

"""Train and test image transforms of the ReID pipelines, built from explicit arguments.

Train: resize to the model input, random horizontal flip, pad then random crop back to the input
size, to tensor, normalise, random erasing, in the order of CLIP-ReID's `make_dataloader`. Test:
resize, to tensor, normalise. Both resize with bicubic interpolation (CLIP-ReID resizes test images
bilinearly). Both take RGB `PIL.Image.Image`s such as `load_image` returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from torchvision import transforms as T

logger = logging.getLogger(__name__)

# Normalisation of the OpenAI CLIP image encoders (open_clip's OPENAI_DATASET_MEAN / STD).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# Input sizes (height, width) of the reference code: IRRA (T2I) and CLIP-ReID (I2I).
T2I_IMAGE_SIZE = (384, 128)
I2I_IMAGE_SIZE = (256, 128)


def build_train_transform(
    image_size: Sequence[int],
    mean: Sequence[float] = CLIP_MEAN,
    std: Sequence[float] = CLIP_STD,
    flip_prob: float = 0.5,
    padding: int = 10,
    erasing_prob: float = 0.5,
    erasing_value: float | str = "random",
) -> T.Compose:
    """Build the training transform: PIL RGB image -> float tensor of shape (3, H, W).

    `image_size` is (H, W). `padding` pixels are added on every side before a random crop of
    (H, W), and 0 disables pad-and-crop. `erasing_value` fills the erased rectangle of the
    normalised tensor: "random" for per-pixel normal noise (CLIP-ReID's timm `mode="pixel"`) or a
    number (0 is the dataset mean). The erased area is 2% to 33% of the image, timm's default range.
    """
    height, width = _validate_size(image_size)
    _validate_normalisation(mean, std)
    for name, prob in (("flip_prob", flip_prob), ("erasing_prob", erasing_prob)):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {prob}")
    if padding < 0:
        raise ValueError(f"padding must be 0 or more pixels, got {padding}")

    steps: list[object] = [
        T.Resize((height, width), interpolation=T.InterpolationMode.BICUBIC, antialias=True),
        T.RandomHorizontalFlip(p=flip_prob),
    ]
    if padding > 0:
        steps += [T.Pad(padding), T.RandomCrop((height, width))]
    steps += [T.ToTensor(), T.Normalize(mean=list(mean), std=list(std))]
    if erasing_prob > 0:
        steps.append(
            T.RandomErasing(p=erasing_prob, scale=(0.02, 1 / 3), ratio=(0.3, 3.3), value=erasing_value)
        )
    return T.Compose(steps)


def build_test_transform(
    image_size: Sequence[int],
    mean: Sequence[float] = CLIP_MEAN,
    std: Sequence[float] = CLIP_STD,
) -> T.Compose:
    """Build the deterministic test transform: PIL RGB image -> float tensor of shape (3, H, W)."""
    height, width = _validate_size(image_size)
    _validate_normalisation(mean, std)
    return T.Compose(
        [
            T.Resize((height, width), interpolation=T.InterpolationMode.BICUBIC, antialias=True),
            T.ToTensor(),
            T.Normalize(mean=list(mean), std=list(std)),
        ]
    )


def _validate_size(image_size: Sequence[int]) -> tuple[int, int]:
    if len(image_size) != 2 or not all(isinstance(side, int) and side > 0 for side in image_size):
        raise ValueError(f"image_size must be (height, width) in positive pixels, got {image_size!r}")
    return image_size[0], image_size[1]


def _validate_normalisation(mean: Sequence[float], std: Sequence[float]) -> None:
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"mean and std need one value per RGB channel, got mean={mean!r}, std={std!r}")
    if any(value <= 0 for value in std):
        raise ValueError(f"std values must be positive, got {std!r}")

"""Tests of the train and test transforms: shapes, normalisation, flip, erasing and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from PIL import Image, ImageOps

from hpl.data.transforms import CLIP_MEAN, CLIP_STD, build_test_transform, build_train_transform


def _image(width: int = 50, height: int = 120, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize("image_size", [(384, 128), (256, 128), (32, 16)])
def test_output_shapes(image_size):
    image = _image()
    assert build_test_transform(image_size)(image).shape == (3, *image_size)
    assert build_train_transform(image_size)(image).shape == (3, *image_size)


def test_test_transform_deterministic():
    transform = build_test_transform((64, 32))
    image = _image()
    assert torch.equal(transform(image), transform(image))


def test_mean_colour_normalises_to_zero():
    mean_colour = tuple(round(value * 255) for value in CLIP_MEAN)
    tensor = build_test_transform((16, 8))(Image.new("RGB", (8, 16), mean_colour))
    assert tensor.abs().max() < 0.01
    white = build_test_transform((16, 8), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))(
        Image.new("RGB", (8, 16), "white")
    )
    assert torch.allclose(white, torch.ones_like(white))


def test_train_flip_only_mirrors():
    image = _image()
    train = build_train_transform((64, 32), flip_prob=1.0, padding=0, erasing_prob=0.0)
    expected = build_test_transform((64, 32))(ImageOps.mirror(image))
    assert torch.allclose(train(image), expected)


def test_train_transform_random_per_call():
    torch.manual_seed(0)
    transform = build_train_transform((64, 32))
    image = _image()
    assert not torch.equal(transform(image), transform(image))


def test_train_transform_reproducible_with_seed():
    transform = build_train_transform((64, 32))
    image = _image()
    torch.manual_seed(3)
    first = transform(image)
    torch.manual_seed(3)
    assert torch.equal(first, transform(image))


def test_erasing_fills_a_rectangle():
    torch.manual_seed(0)
    transform = build_train_transform((64, 32), flip_prob=0.0, padding=0, erasing_prob=1.0, erasing_value=0.0)
    image = _image()
    erased = transform(image)
    reference = build_test_transform((64, 32))(image)
    changed = (erased != reference).any(dim=0)
    rows, cols = torch.nonzero(changed, as_tuple=True)
    box_area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert changed.any()
    assert rows.numel() == box_area
    assert box_area <= 64 * 32 / 3 + 1
    assert (erased[:, changed] == 0).all()


def test_clip_constants_match_open_clip():
    assert CLIP_MEAN == OPENAI_DATASET_MEAN
    assert CLIP_STD == OPENAI_DATASET_STD


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": (256,)}, "image_size"),
        ({"image_size": (256, 0)}, "image_size"),
        ({"image_size": (256, 128), "flip_prob": 1.5}, "flip_prob"),
        ({"image_size": (256, 128), "erasing_prob": -0.1}, "erasing_prob"),
        ({"image_size": (256, 128), "padding": -1}, "padding"),
        ({"image_size": (256, 128), "std": (0.5, 0.0, 0.5)}, "std"),
        ({"image_size": (256, 128), "mean": (0.5, 0.5)}, "mean"),
    ],
)
def test_invalid_arguments_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_train_transform(**kwargs)

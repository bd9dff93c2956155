"""Grad-CAM maps of the two class tokens on random-init models at the three input sizes in use."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

import hpl
from hpl.explain import CosineTarget, GridReshape, TokenMaps, compute_token_maps, grad_cam, render_panel

JOINT_BASELINE = {"task_routed": False, "hierarchical_prompts": False, "cmpr": False}


def _hook_count(model: hpl.HPLModel) -> int:
    layer = model.visual.last_block.ln_1
    return len(layer._forward_hooks) + len(layer._forward_pre_hooks) + len(layer._backward_hooks)


def _frozen(model: hpl.HPLModel) -> hpl.HPLModel:
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


@pytest.mark.parametrize(
    ("backbone", "image_size", "options"),
    [
        ("hpl-tiny", (128, 64), {}),
        ("hpl-tiny", (384, 128), {}),
        ("hpl-tiny", (128, 64), JOINT_BASELINE),
        pytest.param("ViT-B-16", (256, 128), {}, marks=pytest.mark.slow),
    ],
    ids=["tiny-128x64", "tiny-384x128", "joint-baseline", "vit-b16-256x128"],
)
def test_token_maps_shapes_and_range(backbone, image_size, options):
    started = time.perf_counter()
    torch.manual_seed(0)
    model = _frozen(hpl.create_model(backbone, image_size=image_size, **options))
    image = torch.randn(3, *image_size)
    text_feature = torch.randn(model.embed_dim)

    maps = compute_token_maps(model, image, t2i_reference=text_feature)

    assert maps.i2i.shape == image_size
    assert maps.t2i.shape == image_size
    assert maps.difference.shape == image_size
    for heat in (maps.i2i, maps.t2i):
        assert np.isfinite(heat).all()
        assert heat.min() >= 0.0
        assert heat.max() <= 1.0
        assert heat.max() > 0.5, "a map normalised to [0, 1] must reach its maximum somewhere"
    assert maps.i2i_score == pytest.approx(1.0, abs=1e-5), "without a photo the I2I reference is the image"
    assert -1.0 <= maps.t2i_score <= 1.0
    assert _hook_count(model) == 0
    assert time.perf_counter() - started < 30


def test_grid_reshape_drops_class_tokens():
    reshape = GridReshape(grid_size=(3, 2), num_class_tokens=2)
    tokens = torch.arange(8, dtype=torch.float32).reshape(1, 8, 1).expand(1, 8, 4)

    grid = reshape(tokens)

    assert grid.shape == (1, 4, 3, 2)
    assert grid[0, 0].tolist() == [[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]


def test_grid_reshape_rejects_wrong_length():
    reshape = GridReshape(grid_size=(16, 8), num_class_tokens=2)
    with pytest.raises(ValueError, match="16x8 grid with 2 class tokens"):
        reshape(torch.zeros(1, 129, 4))


def test_cosine_target_value_and_gradient():
    reference = torch.tensor([1.0, 0.0])
    feature = torch.tensor([3.0, 4.0], requires_grad=True)

    score = CosineTarget(reference)(feature)
    score.backward()

    assert score.item() == pytest.approx(0.6)
    assert feature.grad.tolist() == pytest.approx([0.2, 0.0])


def test_self_reference_keeps_gradient():
    feature = torch.tensor([3.0, 4.0], requires_grad=True)
    CosineTarget(feature.detach())(feature).backward()
    assert feature.grad.abs().sum() > 0


def test_hooks_released_on_error():
    model = _frozen(hpl.create_model())
    with pytest.raises(ValueError, match="images must have shape"), grad_cam(model, "i2i") as cam:
        assert _hook_count(model) > 0
        cam(input_tensor=torch.randn(1, 3, 32, 32), targets=[CosineTarget(torch.ones(model.embed_dim))])
    assert _hook_count(model) == 0


def test_grad_cam_rejects_unknown_token():
    model = hpl.create_model()
    with pytest.raises(ValueError, match="token must be one of"), grad_cam(model, "cls"):
        pass


def test_token_maps_follow_reference():
    torch.manual_seed(1)
    model = _frozen(hpl.create_model())
    image = torch.randn(3, 128, 64)
    first = compute_token_maps(model, image, i2i_reference=torch.randn(model.embed_dim))
    second = compute_token_maps(model, image, i2i_reference=torch.randn(model.embed_dim))
    assert not np.allclose(first.i2i, second.i2i), "a different reference feature must change the map"


def test_flip_test_model_maps_match_plain():
    torch.manual_seed(2)
    model = _frozen(hpl.create_model())
    flipping = _frozen(hpl.create_model(flip_test=True))
    flipping.load_state_dict(model.state_dict())
    image = torch.randn(3, 128, 64)
    references = {
        "i2i_reference": torch.randn(model.embed_dim),
        "t2i_reference": torch.randn(model.embed_dim),
    }
    # Grad-CAM runs on one view, so the maps equal those of the same weights without the flip test.
    expected = compute_token_maps(model, image, **references)
    maps = compute_token_maps(flipping, image, **references)
    assert np.allclose(maps.i2i, expected.i2i, atol=1e-5)
    assert np.allclose(maps.t2i, expected.t2i, atol=1e-5)
    # The scores compare the retrieval features, which average the image with its mirror image.
    assert maps.i2i_score != pytest.approx(expected.i2i_score, abs=1e-4)


def test_model_mode_restored():
    model = hpl.create_model().train()
    compute_token_maps(model, torch.randn(3, 128, 64))
    assert model.training


def test_render_panel_layout():
    image = np.zeros((128, 64, 3), dtype=np.uint8)
    heat = np.linspace(0, 1, 128 * 64, dtype=np.float32).reshape(128, 64)
    maps = TokenMaps(i2i=heat, t2i=heat[::-1].copy(), i2i_score=1.0, t2i_score=0.5)

    panel = render_panel(image, maps, scale=2)

    assert panel.size[0] == 4 * 2 * 64
    assert panel.size[1] > 2 * 128
    assert panel.mode == "RGB"

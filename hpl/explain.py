"""Grad-CAM maps of the I2I and T2I class tokens, computed with pytorch-grad-cam.

Both maps come from the same layer, the `ln_1` of the last transformer block of the image tower, so
they differ only in which class token's feature the gradient flows back from. The layer's output is a
token sequence (B, C + N, W). `GridReshape` drops the C class tokens and folds the N patch tokens
back into the model's own patch grid, so any input size and patch size works.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from PIL import Image, ImageDraw
from pytorch_grad_cam import GradCAM
from torch import nn

from hpl.models.hpl import HPLModel

logger = logging.getLogger(__name__)

TOKENS = ("i2i", "t2i")
OVERLAY_WEIGHT = 0.5  # share of the heat map colour in an overlay
PANEL_TITLES = ("input", "I2I token", "T2I token", "I2I - T2I")
_TITLE_HEIGHT = 14


class GridReshape:
    """Reshape transformer activations (B, C + N, W) into Grad-CAM's (B, W, rows, columns) layout.

    The first `num_class_tokens` tokens are dropped and the remaining N = rows * columns patch tokens
    are laid out row by row, as the patch embedding flattened them.
    """

    def __init__(self, grid_size: tuple[int, int], num_class_tokens: int) -> None:
        self.rows, self.columns = grid_size
        self.num_class_tokens = num_class_tokens

    def __call__(self, activations: torch.Tensor) -> torch.Tensor:
        expected = self.num_class_tokens + self.rows * self.columns
        if activations.ndim != 3 or activations.shape[1] != expected:
            raise ValueError(
                f"expected activations of shape (B, {expected}, W) for a {self.rows}x{self.columns} grid "
                f"with {self.num_class_tokens} class tokens, got {tuple(activations.shape)}"
            )
        patches = activations[:, self.num_class_tokens :]  # (B, N, W)
        grid = patches.reshape(activations.shape[0], self.rows, self.columns, activations.shape[2])
        return grid.permute(0, 3, 1, 2)  # (B, W, rows, columns)


class CosineTarget:
    """Grad-CAM target: cosine similarity of a feature (E,) to a fixed reference feature (E,).

    The norm of the feature is held constant in the backward pass. The value is the cosine, but
    the gradient stays non-zero when the reference is the image's own feature, where the gradient of
    the true cosine vanishes (the cosine is at its maximum).
    """

    def __init__(self, reference: torch.Tensor) -> None:
        self.reference = F.normalize(reference.detach().float().flatten(), dim=0)

    def __call__(self, feature: torch.Tensor) -> torch.Tensor:
        reference = self.reference.to(feature.device, feature.dtype)
        return (feature * reference).sum() / feature.detach().norm().clamp_min(1e-12)


class _TokenFeature(nn.Module):
    """The model seen by Grad-CAM: images (B, 3, H, W) to one token's raw feature (B, E)."""

    def __init__(self, model: HPLModel, token: str) -> None:
        super().__init__()
        self.model = model
        self.token = token

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # Grad-CAM maps the activations of the image itself, so the mirror view of the flip test is skipped.
        features = self.model.encode_image(images, normalize=False, flip=False)
        return features.i2i if self.token == "i2i" else features.t2i


@dataclass(frozen=True)
class TokenMaps:
    """Grad-CAM maps of one image at the model's input size (H, W)."""

    i2i: np.ndarray  # (H, W) float32 in [0, 1]
    t2i: np.ndarray  # (H, W) float32 in [0, 1]
    i2i_score: float  # cosine of the I2I feature to its reference
    t2i_score: float  # cosine of the T2I feature to its reference

    @property
    def difference(self) -> np.ndarray:
        """I2I map minus T2I map, (H, W) float32 in [-1, 1]."""
        return self.i2i - self.t2i


@contextlib.contextmanager
def grad_cam(model: HPLModel, token: str) -> Iterator[GradCAM]:
    """Yield a GradCAM on the last block's `ln_1` for the `token` feature, removing the hooks on exit.

    GradCAM's own `__exit__` swallows IndexError, so the hooks are released here instead and every
    error propagates.
    """
    if token not in TOKENS:
        raise ValueError(f"token must be one of {TOKENS}, got {token!r}")
    visual = model.visual
    reshape = GridReshape(visual.grid_size, visual.num_class_tokens)
    cam = GradCAM(
        model=_TokenFeature(model, token),
        target_layers=[visual.last_block.ln_1],
        reshape_transform=reshape,
    )
    try:
        yield cam
    finally:
        cam.activations_and_grads.release()


def compute_token_map(
    model: HPLModel, image: torch.Tensor, token: str, reference: torch.Tensor
) -> np.ndarray:
    """Return the Grad-CAM map (H, W) in [0, 1] of `token` for one normalised image (3, H, W).

    The target is `CosineTarget(reference)` on the token's raw feature, with `reference` of shape (E,).
    """
    # The input requires a gradient so that the hooked activations do too, even when every parameter
    # of the model is frozen.
    batch = image.detach().unsqueeze(0).requires_grad_(True)
    with torch.enable_grad(), grad_cam(model, token) as cam:
        maps = cam(input_tensor=batch, targets=[CosineTarget(reference)])  # (1, H, W)
    heat = np.nan_to_num(maps[0].astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(heat, 0.0, 1.0)


def compute_token_maps(
    model: HPLModel,
    image: torch.Tensor,
    i2i_reference: torch.Tensor | None = None,
    t2i_reference: torch.Tensor | None = None,
) -> TokenMaps:
    """Compute the I2I and T2I token maps of one normalised image (3, H, W).

    `i2i_reference` (E,) is the I2I feature of a query photo and `t2i_reference` (E,) the feature of
    a text query. A missing reference falls back to the image's own feature of that token, so the map
    shows what the token itself encodes.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            own = model.encode_image(image.unsqueeze(0), normalize=True)
        i2i_reference = own.i2i[0] if i2i_reference is None else i2i_reference
        t2i_reference = own.t2i[0] if t2i_reference is None else t2i_reference
        i2i_map = compute_token_map(model, image, "i2i", i2i_reference)
        t2i_map = compute_token_map(model, image, "t2i", t2i_reference)
    finally:
        model.train(was_training)
    return TokenMaps(
        i2i=i2i_map,
        t2i=t2i_map,
        i2i_score=_cosine(own.i2i[0], i2i_reference),
        t2i_score=_cosine(own.t2i[0], t2i_reference),
    )


def _cosine(feature: torch.Tensor, reference: torch.Tensor) -> float:
    return float(F.cosine_similarity(feature.float().flatten(), reference.float().flatten().cpu(), dim=0))


def overlay(image: np.ndarray, heat: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """Blend a heat map (H, W) in [0, 1] onto an RGB image (H, W, 3) uint8 into a new (H, W, 3) uint8 image."""
    colours = colormaps[colormap](np.clip(heat, 0.0, 1.0))[..., :3]  # (H, W, 3) in [0, 1]
    blended = (1 - OVERLAY_WEIGHT) * image.astype(np.float32) / 255.0 + OVERLAY_WEIGHT * colours
    return np.clip(np.rint(blended * 255.0), 0, 255).astype(np.uint8)


def colour_difference(difference: np.ndarray) -> np.ndarray:
    """Colour a difference map (H, W) in [-1, 1]: red where I2I looks more, blue where T2I does."""
    colours = colormaps["bwr"]((np.clip(difference, -1.0, 1.0) + 1.0) / 2.0)[..., :3]
    return np.rint(colours * 255.0).astype(np.uint8)


def render_panel(image: np.ndarray, maps: TokenMaps, scale: int = 2) -> Image.Image:
    """Lay out the input, both overlays and the difference map side by side, each with a title.

    `image` is the model-sized RGB input (H, W, 3) uint8, and `scale` enlarges small inputs for display.
    The panel is (scale * H + title, 4 * scale * W) pixels.
    """
    tiles = [image, overlay(image, maps.i2i), overlay(image, maps.t2i), colour_difference(maps.difference)]
    height, width = image.shape[:2]
    tile_size = (width * scale, height * scale)
    panel = Image.new("RGB", (tile_size[0] * len(tiles), tile_size[1] + _TITLE_HEIGHT), "white")
    draw = ImageDraw.Draw(panel)
    for column, (tile, title) in enumerate(zip(tiles, PANEL_TITLES, strict=True)):
        left = column * tile_size[0]
        panel.paste(Image.fromarray(tile).resize(tile_size, Image.Resampling.BILINEAR), (left, _TITLE_HEIGHT))
        draw.text((left + 2, 1), title, fill="black")
    return panel

"""Task-Routed Transformer: an open_clip ViT with one class token per retrieval task."""

from __future__ import annotations

from typing import NamedTuple

import torch
from open_clip.transformer import VisionTransformer
from torch import nn


class VisualOutput(NamedTuple):
    """Projected outputs of the image tower (raw, not normalised)."""

    t2i: torch.Tensor  # (B, E) the original CLIP class token, aligned with text
    i2i: torch.Tensor  # (B, E) the added class token, trained for identity; equals t2i without routing
    sequence: torch.Tensor  # (B, C + N, E) every output token after ln_post and proj (C class tokens)


class TaskRoutedVisionEncoder(nn.Module):
    """Run an open_clip `VisionTransformer` on [v_t2i, v_i2i, patch tokens].

    The original class token becomes the T2I token and an added one the I2I token. Both pass through
    the shared blocks, `ln_post` and `proj`, as the Task-Routed Transformer of "Hierarchical Prompt
    Learning for Image- and Text-Based Person Re-Identification" (Zhou et al., AAAI 2026) describes. The
    new token and its positional embedding start as copies of the original class token's (our choice:
    the paper does not say how it is initialised). With `task_routed=False` the encoder keeps a
    single class token that serves both tasks: the paper's joint baseline.
    """

    def __init__(self, vit: VisionTransformer, task_routed: bool = True) -> None:
        super().__init__()
        _check_supported(vit)
        self.vit = vit
        self.task_routed = task_routed
        if task_routed:
            self.class_embedding_i2i = nn.Parameter(vit.class_embedding.detach().clone())  # (W,)
            self.positional_embedding_i2i = nn.Parameter(vit.positional_embedding[0].detach().clone())

    @property
    def num_class_tokens(self) -> int:
        """Number C of class tokens in front of the patch tokens (2 with task routing, else 1)."""
        return 2 if self.task_routed else 1

    @property
    def grid_size(self) -> tuple[int, int]:
        """Patch grid (rows, columns) of the input size."""
        return tuple(self.vit.grid_size)

    @property
    def image_size(self) -> tuple[int, int]:
        """Input size (height, width) in pixels."""
        return tuple(self.vit.image_size)

    @property
    def last_block(self) -> nn.Module:
        """The last transformer block (Grad-CAM hooks its `ln_1`)."""
        return self.vit.transformer.resblocks[-1]

    def i2i_token_parameters(self) -> list[nn.Parameter]:
        """Return the parameters that task routing adds: the I2I class token and its position."""
        if not self.task_routed:
            return []
        return [self.class_embedding_i2i, self.positional_embedding_i2i]

    @torch.no_grad()
    def reset_i2i_token(self) -> None:
        """Copy the T2I class token and its positional embedding into the I2I token."""
        if self.task_routed:
            self.class_embedding_i2i.copy_(self.vit.class_embedding)
            self.positional_embedding_i2i.copy_(self.vit.positional_embedding[0])

    def forward(self, images: torch.Tensor) -> VisualOutput:
        """Encode images (B, 3, H, W) at the size the encoder was built for."""
        self._check_input(images)
        vit = self.vit

        patches = vit.conv1(images).flatten(2).transpose(1, 2)  # (B, N, W)
        patches = patches + vit.positional_embedding[1:].to(patches.dtype)
        class_tokens = [vit.class_embedding + vit.positional_embedding[0]]
        if self.task_routed:
            class_tokens.append(self.class_embedding_i2i + self.positional_embedding_i2i)
        class_tokens = torch.stack(class_tokens).to(patches.dtype)  # (C, W)
        x = torch.cat([class_tokens.expand(patches.shape[0], -1, -1), patches], dim=1)

        x = vit.ln_pre(x)
        x = vit.transformer(x)
        x = vit.ln_post(x)
        x = x @ vit.proj  # (B, C + N, E)

        t2i = x[:, 0]
        i2i = x[:, 1] if self.task_routed else t2i
        return VisualOutput(t2i=t2i, i2i=i2i, sequence=x)

    def _check_input(self, images: torch.Tensor) -> None:
        expected = (3, *self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"images must have shape (B, {expected[0]}, {expected[1]}, {expected[2]}), "
                f"got {tuple(images.shape)}; resize them with the model's test transform"
            )


def _check_supported(vit: VisionTransformer) -> None:
    unsupported = []
    if getattr(vit, "attn_pool", None) is not None:
        unsupported.append("attentional pooling")
    if getattr(vit, "pool_type", "tok") != "tok":
        unsupported.append(f"pool_type={vit.pool_type!r}")
    if getattr(vit, "final_ln_after_pool", False):
        unsupported.append("final_ln_after_pool")
    if vit.proj is None:
        unsupported.append("no output projection")
    if unsupported:
        raise ValueError(
            "the task-routed encoder needs a CLIP-style ViT that pools its class token; this one has "
            + ", ".join(unsupported)
        )

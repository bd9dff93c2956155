"""open_clip backbone factory: any open_clip ViT, our `hpl-tiny`, local or downloaded CLIP weights."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import open_clip
import torch

logger = logging.getLogger(__name__)

MODEL_CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"
TINY_BACKBONE = "hpl-tiny"

# CLIP's image normalisation (OpenAI CLIP preprocessing), also used for `hpl-tiny`.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

_registered = False


def register_model_configs() -> None:
    """Make the configs shipped in `hpl/models/model_configs` (such as `hpl-tiny`) known to open_clip."""
    global _registered
    if not _registered:
        open_clip.add_model_config(MODEL_CONFIG_DIR)
        _registered = True


def available_backbones() -> list[str]:
    """Return the open_clip model names that `create_backbone` accepts."""
    register_model_configs()
    return open_clip.list_models()


def create_backbone(
    name: str,
    pretrained: str | None = None,
    image_size: tuple[int, int] = (256, 128),
) -> open_clip.CLIP:
    """Build an open_clip CLIP model with a ViT image tower at a (possibly non-square) input size.

    `pretrained` is None (random init), an open_clip tag such as "openai" (downloaded by open_clip where
    the network allows), or a local weights file (.safetensors, or a .pt/.bin state dict read with
    `torch.load(weights_only=True)`). Positional embeddings of pretrained weights are resized to the
    (H / patch, W / patch) grid of `image_size`, for example 24x8 for 384x128 with patch 16.
    """
    register_model_configs()
    if name not in open_clip.list_models():
        raise ValueError(
            f"unknown backbone {name!r}: expected an open_clip model name such as 'ViT-B-16-quickgelu' "
            f"or {TINY_BACKBONE!r} (see hpl.models.available_backbones())"
        )
    height, width = _check_image_size(image_size)

    if pretrained is not None and _looks_like_path(pretrained) and not Path(pretrained).is_file():
        raise FileNotFoundError(
            f"pretrained weights file {pretrained!r} not found: pass an existing local weights file, "
            "or an open_clip tag such as 'openai' on a machine with network access"
        )

    try:
        with _random_init_warning_silenced(pretrained is None):
            model = open_clip.create_model(name, pretrained=pretrained, force_image_size=(height, width))
    except (OSError, RuntimeError) as err:
        if pretrained is None or Path(pretrained).is_file():
            raise
        raise RuntimeError(
            f"could not download the {pretrained!r} weights of {name!r} ({err}). Either pass a local "
            "weights file with pretrained=/path/to/open_clip_model.safetensors, or run once with "
            "network access so that open_clip can download and cache them"
        ) from err

    if not isinstance(model.visual, open_clip.transformer.VisionTransformer):
        raise ValueError(f"backbone {name!r} has no ViT image tower; the task-routed encoder needs one")
    logger.info(
        "backbone %s (pretrained=%s) at %dx%d, patch grid %s",
        name,
        pretrained,
        height,
        width,
        model.visual.grid_size,
    )
    return model


@contextlib.contextmanager
def _random_init_warning_silenced(active: bool) -> Iterator[None]:
    """Drop open_clip's root-logger warning about random init when random init is what was asked for."""

    def drop(record: logging.LogRecord) -> bool:
        return "initialized randomly" not in record.getMessage()

    root = logging.getLogger()
    if active:
        root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _check_image_size(image_size: tuple[int, int] | list[int]) -> tuple[int, int]:
    if len(image_size) != 2 or not all(isinstance(side, int) and side > 0 for side in image_size):
        raise ValueError(f"image_size must be (height, width) in pixels, got {image_size!r}")
    return int(image_size[0]), int(image_size[1])


def _looks_like_path(pretrained: str) -> bool:
    return any(sep in pretrained for sep in ("/", "\\")) or Path(pretrained).suffix in {
        ".safetensors",
        ".pt",
        ".pth",
        ".bin",
    }


def token_embedding_width(clip: open_clip.CLIP) -> int:
    """Return the width D of the text token embeddings (the space identity and pseudo tokens live in)."""
    return clip.token_embedding.embedding_dim


def patch_grid(clip: open_clip.CLIP) -> tuple[int, int]:
    """Return the (rows, columns) grid of image patches."""
    return tuple(clip.visual.grid_size)


def image_size_of(clip: open_clip.CLIP) -> tuple[int, int]:
    """Return the (height, width) input size of the image tower."""
    return tuple(clip.visual.image_size)


@torch.no_grad()
def count_parameters(module: torch.nn.Module) -> int:
    """Return the number of parameters of `module`."""
    return sum(p.numel() for p in module.parameters())

"""Model parts: backbone factory, task-routed encoder, prompts, inversion networks, the HPL model."""

from hpl.models.backbone import CLIP_MEAN, CLIP_STD, TINY_BACKBONE, available_backbones, create_backbone
from hpl.models.hpl import HPLConfig, HPLModel, ImageFeatures, build_model, create_model

__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "TINY_BACKBONE",
    "HPLConfig",
    "HPLModel",
    "ImageFeatures",
    "available_backbones",
    "build_model",
    "create_backbone",
    "create_model",
]

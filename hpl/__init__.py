"""Unified image- and text-based person re-identification with Hierarchical Prompt Learning."""

from hpl.checkpoint import load_checkpoint, read_checkpoint_info, save_checkpoint
from hpl.models import HPLConfig, HPLModel, ImageFeatures, create_model
from hpl.tokenizer import tokenize, tokenize_with_report

__version__ = "0.1.0"

__all__ = [
    "HPLConfig",
    "HPLModel",
    "ImageFeatures",
    "create_model",
    "load_checkpoint",
    "read_checkpoint_info",
    "save_checkpoint",
    "tokenize",
    "tokenize_with_report",
]

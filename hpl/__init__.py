"""Unified image- and text-based person re-identification with Hierarchical Prompt Learning."""

__version__ = "0.1.0"

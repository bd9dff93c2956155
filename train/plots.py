"""Loss and CMC curves of a run, as PNG files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hpl.metrics import RankingResult  # noqa: E402

_NOT_LOSSES = {"stage", "epoch", "lr", "seconds", "skipped_images", "total"}


def plot_losses(history: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Draw one panel per stage with every named loss against the epoch."""
    stages = [stage for stage in dict.fromkeys(row["stage"] for row in history) if stage != "final"]
    figure, axes = plt.subplots(
        1, max(1, len(stages)), figsize=(4.5 * max(1, len(stages)), 3.4), squeeze=False
    )
    for axis, stage in zip(axes[0], stages, strict=False):
        rows = [row for row in history if row["stage"] == stage]
        names = [key for key in rows[0] if key not in _NOT_LOSSES and key[:3] not in ("I2I", "T2I")]
        epochs = [row["epoch"] for row in rows]
        for name in names:
            # A stage of one epoch is a single point, which a line without markers does not draw.
            axis.plot(epochs, [row.get(name, float("nan")) for row in rows], marker=".", label=name)
        axis.set_title(stage)
        axis.set_xlabel("epoch")
        axis.set_yscale("log")
        axis.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_cmc(results: Mapping[str, RankingResult], path: Path) -> Path:
    """Draw the CMC curve of each task."""
    figure, axis = plt.subplots(figsize=(4.5, 3.4))
    for task, result in results.items():
        ranks = range(1, len(result.cmc) + 1)
        axis.plot(ranks, result.cmc, marker=".", label=f"{task} (R1 {result.r1:.1f}, mAP {result.map:.1f})")
    axis.set_xlabel("rank")
    axis.set_ylabel("matching rate (%)")
    axis.set_ylim(0, 100)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

"""Time one stage-II step of the full HPL model against the joint baseline step (L_base only).

Run from the repository root: `python -m benchmarks.train_step [--repeats N]`.

Both models share the backbone, the batch (pairs plus I2I images) and the trainer's Adam. The full model
adds the second class token, L_cic, the inversion networks, the prompt encoder, L_ILPA and L_CMPR.
Steps alternate between the two; the ratio full / baseline is the figure to read (target: at most 1.5).
"""

from __future__ import annotations

import argparse

import torch

import hpl
from benchmarks.common import describe_machine, time_interleaved
from train.config import StageConfig
from train.data import MixedBatch
from train.stages import LossSettings, RepresentationStage
from train.trainer import build_optimizer

# (backbone, input size, pairs, I2I images, inversion blocks). HPL specifies four inversion blocks beside
# ViT-B-16's twelve-block towers. The hpl-tiny training configs use two, because its towers have four.
CASES = (
    ("hpl-tiny", (128, 64), 32, 32, 4),
    ("hpl-tiny", (128, 64), 32, 32, 2),
    ("ViT-B-16", (256, 128), 8, 8, 4),
)
NUM_LABELS = 64


def _batch(image_size: tuple[int, int], pairs: int, i2i: int, context_length: int) -> MixedBatch:
    generator = torch.Generator().manual_seed(0)
    captions = ["a man in a red jacket holding a phone, seen from the front, with grey trousers"] * pairs
    return MixedBatch(
        pair_images=torch.randn(pairs, 3, *image_size, generator=generator),
        pair_tokens=hpl.tokenize(captions, context_length),
        pair_labels=torch.arange(pairs) // 4,
        pair_indices=torch.arange(pairs),
        i2i_images=torch.randn(i2i, 3, *image_size, generator=generator),
        i2i_labels=torch.arange(i2i) // 4 + 8,
        i2i_indices=torch.arange(i2i),
        skipped=0,
    )


def _step_function(model: hpl.HPLModel, batch: MixedBatch):
    stage = RepresentationStage(LossSettings())
    groups = stage.parameter_groups(model, 1e-5, head_lr_scale=1.0)
    model.requires_grad_(False)
    params = [p for group in groups for p in group.params]
    for param in params:
        param.requires_grad_(True)
    model.bnneck.bias.requires_grad_(False)
    stage.prepare(model, torch.device("cpu"))
    optimizer = build_optimizer(groups, StageConfig(optimizer="adam"))
    weights = stage.weights(model)

    def step() -> None:
        named = stage.losses(model, batch)
        total = sum(weights[name] * value for name, value in named.items())
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()

    return step


def benchmark(
    backbone: str, image_size: tuple[int, int], pairs: int, i2i: int, inversion_depth: int, repeats: int
) -> dict[str, float]:
    """Return median seconds per step of the baseline and the full model, and their ratio."""
    torch.manual_seed(0)
    full = hpl.create_model(
        backbone=backbone, num_labels=NUM_LABELS, image_size=image_size, inversion_depth=inversion_depth
    ).train()
    baseline = hpl.create_model(
        backbone=backbone,
        num_labels=NUM_LABELS,
        image_size=image_size,
        task_routed=False,
        hierarchical_prompts=False,
        cmpr=False,
    ).train()
    batch = _batch(image_size, pairs, i2i, full.context_length)
    times = time_interleaved(
        {"baseline": _step_function(baseline, batch), "full": _step_function(full, batch)}, repeats
    )
    return {**times, "ratio": times["full"] / times["baseline"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8, help="timed steps per model (default 8)")
    args = parser.parse_args()

    print(f"Machine: {describe_machine()}")
    print(
        "| backbone | input | pairs + I2I images | inversion blocks | baseline step (ms) "
        "| full HPL step (ms) | ratio |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for backbone, image_size, pairs, i2i, depth in CASES:
        result = benchmark(backbone, image_size, pairs, i2i, depth, args.repeats)
        print(
            f"| {backbone} | {image_size[0]}x{image_size[1]} | {pairs} + {i2i} | {depth} "
            f"| {1000 * result['baseline']:.0f} | {1000 * result['full']:.0f} | {result['ratio']:.2f} |"
        )


if __name__ == "__main__":
    main()

"""Time `HPLModel.encode_image` (both class tokens) against plain open_clip `encode_image`.

Run from the repository root: `python -m benchmarks.encoder [--repeats N]`.

Both sides run the same backbone weights on the same batch in eval mode without gradients, with
calls alternating. The ratio HPL / open_clip is the figure to read (target: at most 1.05).
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.common import describe_machine, time_interleaved
from hpl.models import HPLConfig, HPLModel, create_backbone

CASES = (("hpl-tiny", (256, 128), 64), ("ViT-B-16", (256, 128), 32))


def benchmark(backbone: str, image_size: tuple[int, int], batch: int, repeats: int) -> dict[str, float]:
    """Return median seconds per batch of both encoders and their ratio."""
    torch.manual_seed(0)
    clip = create_backbone(backbone, image_size=image_size).eval()
    model = HPLModel(HPLConfig(backbone=backbone, image_size=image_size), clip).eval()
    images = torch.randn(batch, 3, *image_size)

    with torch.inference_mode():
        times = time_interleaved(
            {"open_clip": lambda: clip.encode_image(images), "hpl": lambda: model.encode_image(images)},
            repeats,
        )
    return {**times, "ratio": times["hpl"] / times["open_clip"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per encoder (default 15)")
    args = parser.parse_args()

    print(f"Machine: {describe_machine()}")
    print("| backbone | input | batch | open_clip (ms) | HPL both tokens (ms) | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for backbone, image_size, batch in CASES:
        result = benchmark(backbone, image_size, batch, args.repeats)
        print(
            f"| {backbone} | {image_size[0]}x{image_size[1]} | {batch} | {1000 * result['open_clip']:.1f} "
            f"| {1000 * result['hpl']:.1f} | {result['ratio']:.3f} |"
        )


if __name__ == "__main__":
    main()

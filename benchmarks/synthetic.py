"""Measure how many images per second the synthetic persons generator writes, for both presets.

Run from the repository root: `python -m benchmarks.synthetic [--num-ids N] [--seed N]`.

Each preset is generated once, in one process, into a temporary folder. The table reports planning
time, the rendering rate (drawing, JPEG encoding and writing the files), and the end-to-end rate
including planning and the JSON files, each against the target of 200 images/s on one core.
Rates use wall time and, beside it, the process's CPU time, which is steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import PIL

from hpl.data import synthetic

TARGET_IMAGES_PER_SECOND = 200.0


@dataclass(frozen=True)
class PresetTiming:
    """Timing of one generation run."""

    preset: str
    num_ids: int | None
    num_persons: int
    num_images: int
    plan_seconds: float
    render_seconds: float
    total_seconds: float
    total_cpu_seconds: float


def time_preset(preset: str, num_ids: int | None, seed: int, out_dir: Path) -> PresetTiming:
    """Generate one preset into `out_dir` and time planning, rendering and the whole run."""
    settings = synthetic.make_settings(preset, num_ids=num_ids)
    started = time.perf_counter()
    synthetic.plan_dataset(settings, seed)
    plan_seconds = time.perf_counter() - started

    wall_start, cpu_start = time.perf_counter(), time.process_time()
    summary = synthetic.generate(out_dir, preset=preset, seed=seed, num_ids=num_ids)
    total_seconds = time.perf_counter() - wall_start
    total_cpu_seconds = time.process_time() - cpu_start
    return PresetTiming(
        preset=preset,
        num_ids=num_ids,
        num_persons=summary.num_persons,
        num_images=summary.num_rendered,
        plan_seconds=plan_seconds,
        render_seconds=summary.seconds,
        total_seconds=total_seconds,
        total_cpu_seconds=total_cpu_seconds,
    )


def describe_machine() -> list[str]:
    """Return markdown lines naming the CPU, the core count and the software versions."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return [
        f"- CPU: {model}, `nproc` = {os.cpu_count()}",
        f"- Python {platform.python_version()}, Pillow {PIL.__version__}, numpy {synthetic.np.__version__}",
    ]


def format_table(timings: list[PresetTiming]) -> list[str]:
    """Return the results as markdown table lines."""
    lines = [
        "| preset | people | images | plan s | render images/s (x target) | end-to-end images/s | end-to-end CPU images/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for timing in timings:
        render_rate = timing.num_images / timing.render_seconds
        total_rate = timing.num_images / timing.total_seconds
        cpu_rate = timing.num_images / timing.total_cpu_seconds
        lines.append(
            f"| {timing.preset} | {timing.num_persons} | {timing.num_images} | {timing.plan_seconds:.2f} "
            f"| {render_rate:.0f} ({render_rate / TARGET_IMAGES_PER_SECOND:.1f}x) | {total_rate:.0f} | {cpu_rate:.0f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--num-ids",
        type=int,
        default=None,
        help="rescale both presets to about N people (default: full size)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--presets", nargs="+", default=sorted(synthetic.PRESETS), help="presets to time")
    args = parser.parse_args()

    timings = []
    for preset in args.presets:
        with tempfile.TemporaryDirectory(prefix=f"synthetic-{preset}-") as out_dir:
            timings.append(time_preset(preset, args.num_ids, args.seed, Path(out_dir)))

    size = "full-size presets" if args.num_ids is None else f"presets rescaled to about {args.num_ids} people"
    lines = [
        "# Synthetic persons generator speed",
        "",
        f"Command: `python -m benchmarks.synthetic{'' if args.num_ids is None else f' --num-ids {args.num_ids}'}` "
        f"({size}, seed {args.seed}, one process, target {TARGET_IMAGES_PER_SECOND:.0f} images/s).",
        "",
        *describe_machine(),
        "",
        *format_table(timings),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()

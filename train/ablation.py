"""Ablation runner: the joint baseline, +TRT, +HPL and +CMPR from the same stage-0 weights per seed.

`python -m train.ablation --config train/configs/synthetic_ablation.yaml --seeds 0 1 [key=value ...]`
trains stage 0 once per seed, then every variant from those weights, and writes a markdown table
shaped like Table 3 of "Hierarchical Prompt Learning for Image- and Text-Based Person
Re-Identification" (T2I and I2I R1 and mAP, mean and spread over seeds).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from train.config import TrainConfig, load_cli_config, parse_with_overrides, save_config
from train.trainer import Trainer, check_resume

logger = logging.getLogger(__name__)

# (run folder, table row, task_routed, hierarchical_prompts, cmpr)
VARIANTS = (
    ("baseline", "Joint baseline (one class token)", False, False, False),
    ("trt", "+ TRT", True, False, False),
    ("trt_hpl", "+ TRT + HPL", True, True, False),
    ("trt_hpl_cmpr", "+ TRT + HPL + CMPR", True, True, True),
)
METRICS = ("T2I_r1", "T2I_map", "I2I_r1", "I2I_map")
# The mean cosine between the I2I and T2I class tokens' outputs over the I2I gallery: near 1, the two
# tokens have not separated and a task-routed variant can hardly differ from the joint baseline.
DIAGNOSTICS = ("token_cosine",)


def variant_config(
    base: TrainConfig, slug: str, seed: int, stage0_checkpoint: Path, flags: tuple[bool, bool, bool]
) -> TrainConfig:
    """Return the config of one variant trained from the shared stage-0 checkpoint."""
    task_routed, prompts, cmpr = flags
    return dataclasses.replace(
        base,
        name=f"{base.name}/seed{seed}/{slug}",
        seed=seed,
        init_from=str(stage0_checkpoint),
        model=dataclasses.replace(
            base.model, task_routed=task_routed, hierarchical_prompts=prompts, cmpr=cmpr
        ),
        stage0=dataclasses.replace(base.stage0, epochs=0),
    )


def _stage0_config(base: TrainConfig, seed: int) -> TrainConfig:
    return dataclasses.replace(base, name=f"{base.name}/seed{seed}/stage0", seed=seed)


def _stage0_checkpoint(stage0: TrainConfig) -> Path:
    return stage0.run_dir / "checkpoints" / "stage0.safetensors"


def check_saved_variants(
    base: TrainConfig, seeds: Sequence[int], variants: Sequence[str] | None = None
) -> None:
    """Raise ValueError when a variant saved by an earlier run would resume with a changed config."""
    for seed in seeds:
        stage0_checkpoint = _stage0_checkpoint(_stage0_config(base, seed))
        for slug, _, *flags in VARIANTS:
            if not variants or slug in variants:
                check_resume(variant_config(base, slug, seed, stage0_checkpoint, tuple(flags)))


def run_ablation(
    base: TrainConfig, seeds: Sequence[int], variants: Sequence[str] | None = None
) -> list[dict]:
    """Train every variant for every seed; return one row of metrics per (seed, variant)."""
    rows = []
    for seed in seeds:
        stage0 = _stage0_config(base, seed)
        stage0_checkpoint = _stage0_checkpoint(stage0)
        if not stage0_checkpoint.is_file():
            logger.info("seed %d: training the shared stage 0", seed)
            Trainer(stage0, stages=("stage0",)).run()
        for slug, name, *flags in VARIANTS:
            if variants and slug not in variants:
                continue
            config = variant_config(base, slug, seed, stage0_checkpoint, tuple(flags))
            started = time.perf_counter()
            evaluation = Trainer(config, resume=True).run()
            row = {"variant": name, "seed": seed, "minutes": round((time.perf_counter() - started) / 60, 1)}
            row.update(
                (key, value)
                for key, value in evaluation.metrics().items()
                if key in METRICS or key in DIAGNOSTICS
            )
            rows.append(row)
            logger.info("seed %d %s: %s", seed, name, row)
    return rows


def format_table(rows: Sequence[dict], preset: str) -> str:
    """Return a markdown table: mean +- standard deviation over seeds of each metric per variant."""
    lines = [
        f"Synthetic persons benchmark, `{preset}` preset; mean ± std over seeds "
        f"{sorted({row['seed'] for row in rows})}.",
        "",
        "| Variant | T2I R1 | T2I mAP | I2I R1 | I2I mAP | Token cosine |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for _, name, *_ in VARIANTS:
        selected = [row for row in rows if row["variant"] == name]
        if not selected:
            continue
        cells = []
        for metric, digits in [(metric, 2) for metric in METRICS] + [(name, 3) for name in DIAGNOSTICS]:
            values = [row[metric] for row in selected if row.get(metric) is not None]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.{digits}f} ± {spread:.{digits}f}" if values else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Token cosine: mean cosine between the I2I and T2I class tokens' outputs over the I2I gallery "
        "(1 with one token).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.ablation", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", required=True, help="base YAML config, e.g. train/configs/synthetic_ablation.yaml"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="training seeds (default: 0 1)")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=[slug for slug, *_ in VARIANTS],
        help="train only these variants (default: all four)",
    )
    parser.add_argument(
        "--out", type=Path, help="markdown table to write (default: <run folder>/ablation.md)"
    )
    parser.add_argument("overrides", nargs="*", help="config overrides such as stage2.epochs=3")
    args = parse_with_overrides(parser, argv)

    base = load_cli_config(parser, args)
    try:
        check_saved_variants(base, args.seeds, args.variants)
    except ValueError as err:
        parser.error(str(err))
    base.run_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(sys.stderr), logging.FileHandler(base.run_dir / "ablation.log")],
    )
    save_config(base, base.run_dir / "config.yaml")
    rows = run_ablation(base, args.seeds, args.variants)

    with open(base.run_dir / "ablation.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["variant", "seed", "minutes", *METRICS, *DIAGNOSTICS])
        writer.writeheader()
        writer.writerows(rows)
    table = format_table(rows, base.data.synthetic_preset)
    out = args.out or base.run_dir / "ablation.md"
    out.write_text(table)
    logger.info("ablation table (%s):\n%s", out, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

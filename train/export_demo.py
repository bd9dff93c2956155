"""Export a finished synthetic run as the app's demo assets: a half-precision checkpoint and a gallery.

`python -m train.export_demo --run runs/hpl-tiny-synthetic --data data/synthetic-demo` writes
`assets/models/hpl-tiny-synthetic.safetensors` (float16, with its metrics, the command that trained
it and a description of its training data in the metadata) and copies the Market-1501 gallery of
the synthetic test split to `assets/gallery/`, junk boxes (pid -1) left out.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

import hpl
from hpl.data.synthetic.settings import ID_FIELDS, PRESETS
from train.config import TrainConfig, flat_config, load_config

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"
RECIPE_CONFIG = "train/configs/synthetic.yaml"  # relative to the repository root, as the README runs it
# Settings that only size the identity groups; a rescaled preset (--num-ids) changes them together.
_COUNT_SETTINGS = frozenset({*ID_FIELDS, "num_distractors", "num_junk"})


def describe_training_data(data_dir: Path) -> tuple[str, str]:
    """Return (description, preset) of the synthetic data in `data_dir`, read from its `truth.json`.

    The description names the preset and seed, and any setting that differs from the preset's.
    """
    truth_file = data_dir / "truth.json"
    if not truth_file.is_file():
        raise FileNotFoundError(
            f"{truth_file} not found: pass --data, the synthetic folder the run trained on"
        )
    truth = json.loads(truth_file.read_text())
    preset, seed = truth["preset"], truth["seed"]
    expected = json.loads(json.dumps(dataclasses.asdict(PRESETS[preset])))  # tuples as lists, as stored
    changed = sorted(name for name, value in truth["settings"].items() if expected.get(name) != value)
    notes = []
    if any(name in _COUNT_SETTINGS for name in changed):
        notes.append("identity counts rescaled")
    notes += [name for name in changed if name not in _COUNT_SETTINGS]
    changes = f" ({'; '.join(notes)})" if notes else ""
    description = (
        f"Synthetic persons benchmark, {preset} preset{changes}, seed {seed} (drawn by hpl.data.synthetic): "
        "CUHK-PEDES-style captions plus Market-1501-style images of synthetic people, not real ones."
    )
    return description, preset


def recipe_command(config: TrainConfig) -> str:
    """Return the command that trains `config`: the demo recipe's config file plus every key that differs.

    An `init_from` override means that stage 0 came from another run's checkpoint.
    """
    base = flat_config(load_config(REPO_ROOT / RECIPE_CONFIG, [f"name={config.name}"]))
    changed = [
        f"{key}={_yaml_value(value)}"
        for key, value in flat_config(config).items()
        if key != "name" and base.get(key) != value
    ]
    arguments = [f"name={_yaml_value(config.name)}", *changed]
    return f"python -m train --config {RECIPE_CONFIG} " + " ".join(shlex.quote(arg) for arg in arguments)


def _yaml_value(value: Any) -> str:
    """Write `value` so that the config loader reads it back unchanged (JSON is YAML's flow style)."""
    if isinstance(value, str) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def export(run_dir: Path, data_dir: Path, assets: Path = ASSETS) -> tuple[Path, int]:
    """Write the demo checkpoint and gallery; return the checkpoint path and the gallery size."""
    info = hpl.read_checkpoint_info(run_dir / "model.safetensors")
    model = hpl.load_checkpoint(run_dir / "model.safetensors")
    metadata = dict(info.metadata)
    run_config = run_dir / "config.yaml"
    if run_config.is_file():
        command = recipe_command(load_config(run_config))
    else:
        command = f"python -m train --config {RECIPE_CONFIG} name={run_dir.name}"
    training_data, preset = describe_training_data(data_dir)
    metadata.update(
        training_data=training_data,
        preset=preset,
        recipe=(
            f"{command}, then python -m train.export_demo "
            f"--run {shlex.quote(str(run_dir))} --data {shlex.quote(str(data_dir))}"
        ),
    )
    checkpoint = hpl.save_checkpoint(
        model, assets / "models" / "hpl-tiny-synthetic.safetensors", dtype=torch.float16, **metadata
    )

    source = data_dir / "Market-1501" / "bounding_box_test"
    if not source.is_dir():
        raise FileNotFoundError(f"{source} not found: pass --data, the folder the synthetic run trained on")
    gallery = assets / "gallery"
    if gallery.exists():
        shutil.rmtree(gallery)
    gallery.mkdir(parents=True)
    files = [path for path in sorted(source.glob("*.jpg")) if not path.name.startswith("-1")]
    for path in files:
        shutil.copy2(path, gallery / path.name)
    logger.info(
        "wrote %s (%.1f MB) and %d gallery images", checkpoint, checkpoint.stat().st_size / 1e6, len(files)
    )
    return checkpoint, len(files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.export_demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", type=Path, required=True, help="finished run folder holding model.safetensors"
    )
    parser.add_argument("--data", type=Path, required=True, help="synthetic output folder the run trained on")
    parser.add_argument("--assets", type=Path, default=ASSETS, help=f"assets folder (default {ASSETS})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    export(args.run, args.data, args.assets)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: argument parsing and `main`."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hpl.data.synthetic.contact_sheet import write_contact_sheet
from hpl.data.synthetic.settings import PRESETS, SyntheticSettings
from hpl.data.synthetic.writer import generate

logger = logging.getLogger(__name__)


_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def _parse_bool(value: str) -> bool:
    """Read true/false, yes/no, on/off or 1/0, in any case."""
    word = value.lower()
    if word not in _TRUE_WORDS + _FALSE_WORDS:
        raise ValueError(f"expected true or false, got {value!r}")
    return word in _TRUE_WORDS


def _parse_override(text: str) -> tuple[str, Any]:
    """Parse NAME=VALUE into a settings field and a value of that field's type."""
    name, separator, value = text.partition("=")
    types = {f.name: f.type for f in dataclasses.fields(SyntheticSettings)}
    if not separator or name not in types:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE with NAME a settings field, got {text!r}; fields: {sorted(types)}"
        )
    kind = str(types[name])
    try:
        if "tuple" in kind:
            low, high = (int(part) for part in value.split(","))
            return name, (low, high)
        if kind == "float":
            return name, float(value)
        if kind == "bool":
            return name, _parse_bool(value)
        return name, int(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"invalid value for {name}: {value!r} ({kind}; ranges as LOW,HIGH)"
        ) from err


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hpl.data.synthetic",
        description="Generate synthetic pedestrians with captions in the Market-1501 and CUHK-PEDES formats.",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder (Market-1501/, CUHK-PEDES/, truth.json, attributes.jsonl)",
    )
    parser.add_argument(
        "--preset", default="demo", choices=sorted(PRESETS), help="size and difficulty preset (default: demo)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed; the same seed writes the same bytes"
    )
    parser.add_argument(
        "--num-ids", type=int, default=None, help="rescale the preset to about this many people in total"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_parse_override,
        default=[],
        metavar="NAME=VALUE",
        help="override one settings field, e.g. --set occlusion_rate=0.5 or --set cuhk_images=2,3 (repeatable)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="rendering processes (default 1); the output does not depend on it",
    )
    parser.add_argument(
        "--contact-sheet",
        type=Path,
        default=None,
        help="also write a PNG of 40 generated images to this path",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    summary = generate(
        args.out,
        preset=args.preset,
        seed=args.seed,
        num_ids=args.num_ids,
        workers=args.workers,
        **dict(args.overrides),
    )
    if args.contact_sheet is not None:
        logger.info("wrote contact sheet %s", write_contact_sheet(args.out, args.contact_sheet))
    table = "\n".join(f"  {name:<32} {value}" for name, value in summary.counts.items())
    logger.info(
        "preset %s, seed %d: %d people, %d files under %s\n%s",
        summary.preset,
        summary.seed,
        summary.num_persons,
        summary.num_files,
        summary.out_dir,
        table,
    )
    return 0

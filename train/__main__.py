"""`python -m train --config train/configs/<name>.yaml [key=value ...]`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from train.config import load_cli_config, parse_with_overrides
from train.trainer import Trainer

STAGES = ("stage0", "stage1", "stage2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train",
        description="Train an HPL model: stage 0 (from-scratch backbones), stage I (prompts), stage II.",
    )
    parser.add_argument("--config", required=True, help="YAML config, e.g. train/configs/synthetic.yaml")
    parser.add_argument("--resume", action="store_true", help="continue the run from its last complete epoch")
    parser.add_argument(
        "--stages", nargs="+", choices=STAGES, help="train only these stages (default: every configured one)"
    )
    parser.add_argument("overrides", nargs="*", help="config overrides such as stage2.epochs=3 name=try1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_with_overrides(parser, argv)
    config = load_cli_config(parser, args)
    trainer = Trainer(config, resume=args.resume, stages=tuple(args.stages) if args.stages else None)
    try:
        trainer.check_resume()
    except ValueError as err:
        parser.error(str(err))
    config.run_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(sys.stderr), logging.FileHandler(config.run_dir / "train.log")],
    )
    trainer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

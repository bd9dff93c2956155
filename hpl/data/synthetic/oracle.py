"""Caption oracle: how well the captions of a generated test split identify their person by content alone.

The oracle reads no pixels. For each test caption it scores every test image of the same split by
the number of attributes named in the caption that the image has (identity attributes of its
person and instance attributes such as view and held object). The R1 of that ranking, with ties
broken at random, is an upper bound for any model that reads the caption's attributes. A preset
whose oracle R1 falls below the T2I range wanted from a trained model cannot be calibrated by
training longer.

Two readers are scored:

- `r1_true` compares the true value of each named attribute, as if the caption were free of errors.
- `r1_stated` compares colours as the caption states them, wrong ones included
  (`caption_colour_error_rate`). Other words count by their true value, because synonyms such as
  "tee" for t-shirt name the same thing.

CLI: ``python -m hpl.data.synthetic.oracle DIR [--split test]``, where DIR is a generator output
folder that contains ``attributes.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class CaptionOracle:
    """R1 in percent of the attribute-matching oracle on one split's captions."""

    split: str
    num_images: int
    num_captions: int
    r1_true: float  # named attributes compared by their true values
    r1_stated: float  # colours compared as stated, wrong ones included


def caption_oracle(root: str | Path, split: str = "test") -> CaptionOracle:
    """Score the attribute-matching oracle on the CUHK-PEDES `split` written under `root`."""
    path = Path(root) / "attributes.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass a folder written by python -m hpl.data.synthetic")
    images = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("cuhk_split") == split:
                images.append(record)
    if not images:
        raise ValueError(f"{path} has no CUHK-PEDES images in split {split!r}")

    persons = np.array([record["person"] for record in images])
    columns: dict[str, np.ndarray] = {}

    def column(attribute: str) -> np.ndarray:
        if attribute not in columns:
            values = [_attribute_of(record, attribute) for record in images]
            columns[attribute] = np.array(values, dtype=object)
        return columns[attribute]

    hits_true, hits_stated = [], []
    for record in images:
        for facts in record["caption_facts"]:
            true_scores = np.zeros(len(images))
            stated_scores = np.zeros(len(images))
            for fact in facts:
                values = column(fact["attribute"])
                true_scores += values == fact["value"]
                stated = fact["stated"] if fact["attribute"].endswith("_colour") else fact["value"]
                stated_scores += values == stated
            hits_true.append(_top1_hit_rate(true_scores, persons, record["person"]))
            hits_stated.append(_top1_hit_rate(stated_scores, persons, record["person"]))
    return CaptionOracle(
        split=split,
        num_images=len(images),
        num_captions=len(hits_true),
        r1_true=100.0 * float(np.mean(hits_true)) if hits_true else 0.0,
        r1_stated=100.0 * float(np.mean(hits_stated)) if hits_stated else 0.0,
    )


def _attribute_of(record: dict, attribute: str) -> object:
    if attribute in record["identity"]:
        return record["identity"][attribute]
    return record["instance"].get(attribute)


def _top1_hit_rate(scores: np.ndarray, persons: np.ndarray, person: str) -> float:
    """Return the chance that the top-ranked image shows `person` when ties are broken at random."""
    best = scores == scores.max()
    return float((persons[best] == person).mean())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hpl.data.synthetic.oracle", description=__doc__.splitlines()[0]
    )
    parser.add_argument("root", type=Path, help="generator output folder that contains attributes.jsonl")
    parser.add_argument("--split", default="test", help="CUHK-PEDES split to score (default test)")
    args = parser.parse_args(argv)
    try:
        oracle = caption_oracle(args.root, args.split)
    except (FileNotFoundError, ValueError) as err:
        parser.error(str(err))
    print(
        f"{args.root} ({oracle.split}: {oracle.num_captions} captions, {oracle.num_images} images): "
        f"oracle T2I R1 {oracle.r1_true:.1f} with true values, {oracle.r1_stated:.1f} with stated colours"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

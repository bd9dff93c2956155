"""Feature extraction and the two retrieval protocols, shared by the trainer and every other caller."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from hpl.data.images import ImageLoadError, load_image
from hpl.data.records import ImageRecord
from hpl.metrics import RankingResult, evaluate_i2i, evaluate_t2i, format_results
from hpl.models.hpl import HPLModel
from hpl.tokenizer import tokenize

logger = logging.getLogger(__name__)

Transform = Callable[[object], torch.Tensor]


class RecordImages(Dataset):
    """Images of `records` through `transform`; unreadable files yield a zero image and `valid=False`."""

    def __init__(
        self, records: Sequence[ImageRecord], transform: Transform, image_size: tuple[int, int]
    ) -> None:
        self.records = list(records)
        self.transform = transform
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, bool]:
        path = self.records[index].path
        try:
            return self.transform(load_image(path)), True
        except ImageLoadError as err:
            logger.warning("skipping unreadable image: %s", err)
            return torch.zeros(3, *self.image_size), False


@dataclass(frozen=True)
class ExtractedImages:
    """L2-normalised retrieval features of a list of images."""

    i2i: torch.Tensor  # (N, E)
    t2i: torch.Tensor  # (N, E)
    valid: torch.Tensor  # (N,) bool, False where the file could not be read
    token_cosine: torch.Tensor  # (N,) raw I2I vs T2I token cosine (HPLModel.encode_image_with_tokens)


@torch.no_grad()
def extract_image_features(
    model: HPLModel,
    records: Sequence[ImageRecord],
    transform: Transform,
    batch_size: int = 128,
    num_workers: int = 0,
    device: torch.device | str = "cpu",
) -> ExtractedImages:
    """Embed the images of `records` with both class tokens, in eval mode."""
    was_training = model.training
    model.eval()
    loader = DataLoader(
        RecordImages(records, transform, model.image_size),
        batch_size=batch_size,
        num_workers=num_workers,
        shuffle=False,
    )
    i2i, t2i, valid, token_cosine = [], [], [], []
    for images, ok in loader:
        features, cosine = model.encode_image_with_tokens(images.to(device), normalize=True)
        i2i.append(features.i2i.float().cpu())
        t2i.append(features.t2i.float().cpu())
        valid.append(ok)
        token_cosine.append(cosine.float().cpu())
    model.train(was_training)
    if not i2i:
        empty = torch.zeros(0, model.embed_dim)
        return ExtractedImages(empty, empty, torch.zeros(0, dtype=torch.bool), torch.zeros(0))
    return ExtractedImages(torch.cat(i2i), torch.cat(t2i), torch.cat(valid), torch.cat(token_cosine))


def mean_token_cosine(images: ExtractedImages) -> float:
    """Return the mean class-token cosine over the readable images, or NaN when none could be read.

    A value near 1 means that the two task-routed tokens have not separated, so each task searches
    with the other task's feature.
    """
    readable = images.token_cosine[images.valid]
    return float(readable.mean()) if readable.numel() else math.nan


@torch.no_grad()
def extract_text_features(
    model: HPLModel, texts: Sequence[str], batch_size: int = 256, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Embed `texts` into L2-normalised T2I features (M, E)."""
    was_training = model.training
    model.eval()
    chunks = []
    for start in range(0, len(texts), batch_size):
        tokens = tokenize(texts[start : start + batch_size], model.context_length).to(device)
        chunks.append(model.encode_text(tokens, normalize=True).float().cpu())
    model.train(was_training)
    return torch.cat(chunks) if chunks else torch.zeros(0, model.embed_dim)


@dataclass(frozen=True)
class Evaluation:
    """Retrieval results per protocol ("I2I", "T2I") and the class tokens' cosine (`mean_token_cosine`).

    `token_cosine` is measured over the I2I gallery, and is None without an I2I part or without
    task routing (one class token serves both tasks, so the cosine is 1 by construction).
    """

    results: dict[str, RankingResult]
    token_cosine: float | None = None

    def metrics(self) -> dict[str, float]:
        """Return the figures as one flat row: `I2I_r1`, ..., `T2I_minp` and `token_cosine`."""
        row = {
            f"{task}_{metric}": round(float(getattr(result, metric)), 2)
            for task, result in self.results.items()
            for metric in ("r1", "r5", "r10", "map", "minp")
        }
        if self.token_cosine is not None:
            row["token_cosine"] = round(self.token_cosine, 4)
        return row

    def format(self) -> str:
        """Return the markdown results table, followed by the token cosine when there is one."""
        table = format_results(self.results)
        if self.token_cosine is None:
            return table
        return (
            f"{table}\n\nI2I and T2I class tokens: mean cosine {self.token_cosine:.4f} over the I2I gallery"
        )


def evaluate_model(
    model: HPLModel,
    transform: Transform,
    i2i_query: Sequence[ImageRecord] = (),
    i2i_gallery: Sequence[ImageRecord] = (),
    t2i_test: Sequence[ImageRecord] = (),
    batch_size: int = 128,
    num_workers: int = 0,
    device: torch.device | str = "cpu",
    max_rank: int = 50,
) -> Evaluation:
    """Evaluate I2I (v_i2i, Market protocol) and T2I (v_t2i against captions, IRRA protocol).

    Either part is left out when its records are empty. Images that cannot be read are dropped from
    the evaluation and counted in the log.
    """
    results: dict[str, RankingResult] = {}
    token_cosine = None
    if i2i_query and i2i_gallery:
        query = extract_image_features(model, i2i_query, transform, batch_size, num_workers, device)
        gallery = extract_image_features(model, i2i_gallery, transform, batch_size, num_workers, device)
        q_records, q_features = _keep_valid(i2i_query, query.i2i, query.valid, "I2I query")
        g_records, g_features = _keep_valid(i2i_gallery, gallery.i2i, gallery.valid, "I2I gallery")
        results["I2I"] = evaluate_i2i(
            (q_features @ g_features.T).numpy(),
            np.array([r.pid for r in q_records]),
            np.array([r.pid for r in g_records]),
            np.array([r.camid for r in q_records]),
            np.array([r.camid for r in g_records]),
            max_rank=max_rank,
        )
        if model.config.task_routed:
            token_cosine = mean_token_cosine(gallery)
    if t2i_test:
        images = extract_image_features(model, t2i_test, transform, batch_size, num_workers, device)
        g_records, g_features = _keep_valid(t2i_test, images.t2i, images.valid, "T2I gallery")
        captions = [(caption, record.pid) for record in t2i_test for caption in record.captions]
        text_features = extract_text_features(model, [c for c, _ in captions], device=device)
        results["T2I"] = evaluate_t2i(
            (text_features @ g_features.T).numpy(),
            np.array([pid for _, pid in captions]),
            np.array([r.pid for r in g_records]),
            max_rank=max_rank,
        )
    return Evaluation(results, token_cosine)


def _keep_valid(
    records: Sequence[ImageRecord], features: torch.Tensor, valid: torch.Tensor, what: str
) -> tuple[list[ImageRecord], torch.Tensor]:
    if bool(valid.all()):
        return list(records), features
    logger.warning("%s: %d unreadable images left out", what, int((~valid).sum()))
    return [r for r, ok in zip(records, valid.tolist(), strict=True) if ok], features[valid]

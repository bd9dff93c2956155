"""Training datasets and loaders: image-text pairs and I2I images, PK-sampled into mixed batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from hpl.data.images import ImageLoadError, load_image
from hpl.data.pairs import PairDataset, load_pair
from hpl.data.records import ImageRecord
from hpl.data.sampler import PKSampler
from hpl.models.hpl import HPLModel
from hpl.tokenizer import tokenize

logger = logging.getLogger(__name__)

Transform = Callable[[object], torch.Tensor]


class TrainImages(Dataset):
    """Augmented training images with their labels, and one random caption when captions exist.

    An unreadable image yields a zero tensor with `valid=False`, so the step drops that row and the
    trainer counts it instead of stopping.
    """

    def __init__(
        self,
        records: Sequence[ImageRecord],
        transform: Transform,
        image_size: tuple[int, int],
        context_length: int | None = None,
    ) -> None:
        self.records = list(records)
        self.transform = transform
        self.image_size = image_size
        self.context_length = context_length  # None: no captions returned

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        record = self.records[index]
        try:
            image, valid = self.transform(load_image(record.path)), True
        except ImageLoadError as err:
            logger.warning("skipping unreadable training image: %s", err)
            image, valid = torch.zeros(3, *self.image_size), False
        item = {
            "images": image,
            "labels": torch.tensor(record.label),
            "valid": torch.tensor(valid),
            "indices": torch.tensor(index),
        }
        if self.context_length is not None:
            caption = record.captions[int(torch.randint(len(record.captions), ()))]
            item["tokens"] = tokenize(caption, self.context_length)[0]
        return item


@dataclass(frozen=True)
class MixedBatch:
    """Image-text pairs (T2I part) and I2I images of one step, invalid rows already removed."""

    pair_images: torch.Tensor  # (Bt, 3, H, W)
    pair_tokens: torch.Tensor  # (Bt, L)
    pair_labels: torch.Tensor  # (Bt,)
    pair_indices: torch.Tensor  # (Bt,) rows of the T2I training list
    i2i_images: torch.Tensor  # (Bi, 3, H, W)
    i2i_labels: torch.Tensor  # (Bi,)
    i2i_indices: torch.Tensor  # (Bi,) rows of the I2I training list
    skipped: int  # unreadable images dropped from this batch

    def to(self, device: torch.device) -> MixedBatch:
        """Move every tensor to `device`."""
        return MixedBatch(
            *(getattr(self, name).to(device, non_blocking=True) for name in _TENSOR_FIELDS),
            skipped=self.skipped,
        )


_TENSOR_FIELDS = (
    "pair_images",
    "pair_tokens",
    "pair_labels",
    "pair_indices",
    "i2i_images",
    "i2i_labels",
    "i2i_indices",
)


def _valid_rows(batch: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
    valid = batch["valid"]
    if bool(valid.all()):
        return batch, 0
    return {key: value[valid] for key, value in batch.items()}, int((~valid).sum())


class MixedLoader:
    """Zip a PK loader of image-text pairs with a PK loader of I2I images, cycling the shorter one.

    An epoch is one pass over the pair sampler; with no I2I records the I2I part stays empty.
    """

    def __init__(self, pair_loader: DataLoader, i2i_loader: DataLoader | None) -> None:
        self.pair_loader = pair_loader
        self.i2i_loader = i2i_loader
        self._i2i_iterator: Iterator | None = None

    def __len__(self) -> int:
        return len(self.pair_loader)

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle both samplers for `epoch`."""
        self.pair_loader.batch_sampler.set_epoch(epoch)
        if self.i2i_loader is not None:
            self.i2i_loader.batch_sampler.set_epoch(epoch)
            self._i2i_iterator = iter(self.i2i_loader)

    def __iter__(self) -> Iterator[MixedBatch]:
        for pairs in self.pair_loader:
            pairs, skipped = _valid_rows(pairs)
            i2i, skipped_i2i = self._next_i2i(pairs)
            yield MixedBatch(
                pair_images=pairs["images"],
                pair_tokens=pairs["tokens"],
                pair_labels=pairs["labels"],
                pair_indices=pairs["indices"],
                i2i_images=i2i["images"],
                i2i_labels=i2i["labels"],
                i2i_indices=i2i["indices"],
                skipped=skipped + skipped_i2i,
            )

    def _next_i2i(self, pairs: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
        if self.i2i_loader is None:
            empty = pairs["images"][:0]
            return {"images": empty, "labels": pairs["labels"][:0], "indices": pairs["indices"][:0]}, 0
        if self._i2i_iterator is None:
            self._i2i_iterator = iter(self.i2i_loader)
        try:
            batch = next(self._i2i_iterator)
        except StopIteration:
            self.i2i_loader.batch_sampler.set_epoch(self.i2i_loader.batch_sampler.epoch + 1)
            self._i2i_iterator = iter(self.i2i_loader)
            batch = next(self._i2i_iterator)
        return _valid_rows(batch)


def build_mixed_loader(
    pair: PairDataset,
    transform: Transform,
    image_size: tuple[int, int],
    context_length: int,
    t2i_size: int,
    i2i_size: int,
    instances: int,
    num_workers: int = 0,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
) -> MixedLoader:
    """Build the PK-sampled mixed loader of stage I and stage II."""
    pair_set = TrainImages(pair.train_t2i, transform, image_size, context_length)
    pair_loader = _pk_loader(pair_set, t2i_size, instances, num_workers, seed, rank, world_size)
    i2i_loader = None
    if pair.train_i2i and i2i_size > 0:
        i2i_set = TrainImages(pair.train_i2i, transform, image_size)
        i2i_loader = _pk_loader(i2i_set, i2i_size, instances, num_workers, seed + 1, rank, world_size)
    return MixedLoader(pair_loader, i2i_loader)


@torch.no_grad()
def find_look_alikes(
    model: HPLModel,
    loader: DataLoader,
    transform: Transform,
    num_neighbours: int,
    seed: int | Sequence[int],
    device: torch.device,
    batch_size: int = 256,
) -> dict[int, list[int]]:
    """Map each label of a PK loader to its `num_neighbours` nearest labels, nearest first.

    A label is represented by the T2I feature of one of its images, drawn anew for each `seed`. An
    unreadable image leaves its label with a zero feature, so its neighbours are arbitrary.
    """
    sampler: PKSampler = loader.batch_sampler
    records = loader.dataset.records
    rng = np.random.default_rng(seed)
    picks = [int(rng.choice(sampler.indices_of(label))) for label in sampler.labels]

    was_training = model.training
    model.eval()
    features = []
    for start in range(0, len(picks), batch_size):
        images = torch.stack(
            [
                _load_or_zeros(records[i].path, transform, model.image_size)
                for i in picks[start : start + batch_size]
            ]
        )
        features.append(model.encode_image(images.to(device), normalize=True, flip=False).t2i.float())
    model.train(was_training)

    feature_matrix = torch.cat(features)
    similarity = feature_matrix @ feature_matrix.T
    similarity.fill_diagonal_(-float("inf"))
    count = min(num_neighbours, len(picks) - 1)
    nearest = similarity.topk(count, dim=1).indices.cpu().tolist()
    labels = sampler.labels
    return {label: [labels[j] for j in row] for label, row in zip(labels, nearest, strict=True)}


def _load_or_zeros(path: str, transform: Transform, image_size: tuple[int, int]) -> torch.Tensor:
    try:
        return transform(load_image(path))
    except ImageLoadError as err:
        logger.warning("look-alike search: unreadable image left as zeros: %s", err)
        return torch.zeros(3, *image_size)


def _pk_loader(
    dataset: TrainImages, size: int, instances: int, num_workers: int, seed: int, rank: int, world_size: int
) -> DataLoader:
    if size % instances:
        raise ValueError(
            f"batch part size {size} must be a multiple of the images per identity ({instances})"
        )
    labels = [record.label for record in dataset.records]
    num_identities = min(size // instances, len(set(labels)))
    sampler = PKSampler(labels, num_identities, instances, seed=seed, rank=rank, world_size=world_size)
    return DataLoader(
        dataset, batch_sampler=sampler, num_workers=num_workers, persistent_workers=num_workers > 0
    )


def build_pair_loader(
    pair: PairDataset,
    transform: Transform,
    image_size: tuple[int, int],
    context_length: int,
    batch_size: int,
    num_workers: int = 0,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
) -> DataLoader:
    """Shuffled image-caption pairs for the contrastive stage 0."""
    dataset = TrainImages(pair.train_t2i, transform, image_size, context_length)
    sampler = torch.utils.data.DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=True
    )
    return DataLoader(
        dataset,
        batch_size=min(batch_size, len(dataset) // world_size),
        sampler=sampler,
        drop_last=True,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )


def load_training_pair(
    t2i_dataset: str,
    t2i_root: str | Path,
    i2i_dataset: str,
    i2i_root: str | Path,
    synthetic_preset: str = "demo",
    synthetic_seed: int = 0,
    synthetic_overrides: dict | None = None,
) -> PairDataset:
    """Read and merge the T2I set and its I2I partner.

    The synthetic pair is generated into `t2i_root` first when that folder contains no output yet, so a
    synthetic run needs no separate data step.
    """
    if "synthetic" in (t2i_dataset, i2i_dataset):
        root = Path(t2i_root)
        if not (root / "Market-1501").is_dir() or not (root / "CUHK-PEDES").is_dir():
            from hpl.data.synthetic import generate

            logger.info(
                "generating the synthetic %s preset (seed %d) into %s", synthetic_preset, synthetic_seed, root
            )
            generate(root, preset=synthetic_preset, seed=synthetic_seed, **(synthetic_overrides or {}))
        return load_pair("cuhk_pedes", root, "market1501", root)
    return load_pair(t2i_dataset, t2i_root, i2i_dataset, i2i_root)

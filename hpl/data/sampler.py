"""PK batch sampler: P identities x K images per batch, deterministic per seed and epoch, DDP-aware."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from torch.utils.data import Sampler

logger = logging.getLogger(__name__)


class PKSampler(Sampler[list[int]]):
    """Batch sampler yielding lists of P * K dataset indices: K images of each of P distinct labels.

    Use it as `DataLoader(dataset, batch_sampler=PKSampler(labels, P, K))`. Each epoch follows the
    algorithm of torchreid's RandomIdentitySampler. The images of every label are shuffled and cut
    into chunks of K, and the last incomplete chunk is dropped. A label with fewer than K images
    gets one chunk drawn with replacement. Batches then take one chunk from each of P random labels
    that still have chunks, until fewer than P such labels remain.

    With `set_neighbours`, batches are built from groups of look-alike labels instead, as in graph
    sampling (Liao and Shao, "Graph Sampling Based Deep Metric Learning for Generalizable Person
    Re-Identification", CVPR 2022): a random label that still has chunks, then its nearest labels that
    still have chunks, up to `group_size` labels, and further groups until the batch has P labels.
    Random batches rarely contain two people who look alike, so the loss gives little weight to the
    details that distinguish them.

    The batches depend only on `seed`, the neighbours and the epoch set by `set_epoch`. With
    `world_size` > 1, rank r receives batches r, r + world_size, ... of that epoch's list, truncated
    so that every rank gets the same number. The ranks' shares are disjoint, and P and K are per
    rank, so the global batch is world_size * P * K images.
    """

    def __init__(
        self,
        labels: Sequence[int],
        num_identities: int,
        num_instances: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if num_identities < 1 or num_instances < 1:
            raise ValueError(
                f"num_identities (P={num_identities}) and num_instances (K={num_instances}) must be at least 1"
            )
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(
                f"Invalid rank {rank} for world_size {world_size}: expected 0 <= rank < world_size"
            )

        indices_per_label: dict[int, list[int]] = {}
        for index, label in enumerate(labels):
            indices_per_label.setdefault(int(label), []).append(index)
        self._indices_per_label = {
            label: np.asarray(indices) for label, indices in sorted(indices_per_label.items())
        }
        if len(self._indices_per_label) < num_identities:
            raise ValueError(
                f"PK sampling needs at least P={num_identities} distinct labels, got "
                f"{len(self._indices_per_label)}. Lower num_identities or add identities."
            )

        self.num_identities = num_identities
        self.num_instances = num_instances
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.group_size = 1
        self._neighbours: dict[int, list[int]] | None = None
        self._cached_epoch: int | None = None
        self._cached_batches: list[list[int]] = []

    @property
    def batch_size(self) -> int:
        """Images per batch on this rank: P * K."""
        return self.num_identities * self.num_instances

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches the next iteration yields (call it before every epoch)."""
        self.epoch = epoch

    @property
    def labels(self) -> list[int]:
        """The distinct labels, sorted."""
        return list(self._indices_per_label)

    def indices_of(self, label: int) -> np.ndarray:
        """Dataset indices of the images of `label`."""
        return self._indices_per_label[label]

    def set_neighbours(self, neighbours: Mapping[int, Sequence[int]] | None, group_size: int) -> None:
        """Draw batches from groups of `group_size` look-alike labels (random labels if `neighbours` is None).

        `neighbours` maps every label to other labels, nearest first. Every rank must receive the same
        mapping. The batches of the current epoch are rebuilt.
        """
        if group_size < 1:
            raise ValueError(f"group_size must be at least 1, got {group_size}")
        if neighbours is not None:
            missing = [label for label in self._indices_per_label if label not in neighbours]
            if missing:
                raise ValueError(
                    f"neighbours are missing for {len(missing)} labels, for example {missing[0]}: "
                    "pass a list of nearest labels for every label of the sampler"
                )
            self._neighbours = {
                label: [int(other) for other in neighbours[label]] for label in self._indices_per_label
            }
        else:
            self._neighbours = None
        self.group_size = group_size
        self._cached_epoch = None

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._rank_batches()

    def __len__(self) -> int:
        return len(self._rank_batches())

    def _rank_batches(self) -> list[list[int]]:
        if self._cached_epoch != self.epoch:
            batches = self._epoch_batches(self.epoch)
            per_rank = len(batches) // self.world_size
            self._cached_batches = batches[self.rank : per_rank * self.world_size : self.world_size]
            self._cached_epoch = self.epoch
        return self._cached_batches

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        chunks_per_label = self._chunk_labels(rng)
        if self._neighbours is not None and self.group_size > 1:
            return self._grouped_batches(chunks_per_label, rng)

        batches = []
        available = [label for label, chunks in chunks_per_label.items() if chunks]
        while len(available) >= self.num_identities:
            chosen = rng.choice(len(available), size=self.num_identities, replace=False)
            batch = []
            for position in chosen:
                batch.extend(chunks_per_label[available[position]].pop())
            batches.append(batch)

            # Remove exhausted labels by swapping in the last entry. Going from the highest position
            # down, the entry swapped in is never an exhausted label still waiting to be removed.
            for position in sorted(chosen.tolist(), reverse=True):
                if not chunks_per_label[available[position]]:
                    available[position] = available[-1]
                    available.pop()
        return batches

    def _grouped_batches(
        self, chunks_per_label: dict[int, list[list[int]]], rng: np.random.Generator
    ) -> list[list[int]]:
        assert self._neighbours is not None
        available = {label for label, chunks in chunks_per_label.items() if chunks}
        batches = []
        while len(available) >= self.num_identities:
            chosen: list[int] = []
            while len(chosen) < self.num_identities:
                candidates = sorted(available.difference(chosen))
                centre = candidates[int(rng.integers(len(candidates)))]
                group = [centre]
                for label in self._neighbours[centre]:
                    if len(group) == self.group_size or len(chosen) + len(group) == self.num_identities:
                        break
                    if label in available and label not in chosen and label not in group:
                        group.append(label)
                chosen.extend(group[: self.num_identities - len(chosen)])
            batch = []
            for label in chosen:
                batch.extend(chunks_per_label[label].pop())
                if not chunks_per_label[label]:
                    available.discard(label)
            batches.append(batch)
        return batches

    def _chunk_labels(self, rng: np.random.Generator) -> dict[int, list[list[int]]]:
        """Shuffle the images of every label and cut them into chunks of K indices."""
        k = self.num_instances
        chunks_per_label = {}
        for label, indices in self._indices_per_label.items():
            if len(indices) < k:
                shuffled = rng.choice(indices, size=k, replace=True)
            else:
                shuffled = rng.permutation(indices)
            usable = len(shuffled) - len(shuffled) % k
            chunks_per_label[label] = [shuffled[start : start + k].tolist() for start in range(0, usable, k)]
        return chunks_per_label

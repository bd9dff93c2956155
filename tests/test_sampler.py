"""Tests of PKSampler: batch composition, determinism, length and DDP shares."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from hpl.data.sampler import PKSampler

# 12 labels with 1 to 12 images each, in an interleaved order.
LABELS = [label for count in range(1, 13) for label in [count - 1] * count]
LABELS = LABELS[::2] + LABELS[1::2]


def _batches(sampler: PKSampler) -> list[list[int]]:
    return [list(batch) for batch in sampler]


def test_every_batch_has_p_ids_k_images():
    sampler = PKSampler(LABELS, num_identities=4, num_instances=3, seed=1)
    batches = _batches(sampler)
    assert batches
    for batch in batches:
        assert len(batch) == 12
        counts = Counter(LABELS[index] for index in batch)
        assert len(counts) == 4
        assert set(counts.values()) == {3}


def test_label_groups_are_contiguous():
    batch = _batches(PKSampler(LABELS, num_identities=4, num_instances=3, seed=1))[0]
    groups = [LABELS[index] for index in batch]
    assert groups == [label for label in groups[::3] for _ in range(3)]


def test_small_labels_sampled_with_replacement():
    labels = [0, 1, 1, 1, 1, 2, 2, 2, 2, 3]
    sampler = PKSampler(labels, num_identities=2, num_instances=4, seed=0)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for batch in sampler:
            for index in batch:
                if labels[index] in (0, 3):
                    assert batch.count(index) == 4


def test_images_used_at_most_once_per_epoch():
    sampler = PKSampler(LABELS, num_identities=3, num_instances=2, seed=5)
    indices = [index for batch in sampler for index in batch if LABELS.count(LABELS[index]) >= 2]
    assert len(indices) == len(set(indices))


def test_same_seed_epoch_same_batches():
    first = PKSampler(LABELS, num_identities=4, num_instances=2, seed=3)
    second = PKSampler(LABELS, num_identities=4, num_instances=2, seed=3)
    first.set_epoch(7)
    second.set_epoch(7)
    assert _batches(first) == _batches(second)


def test_epoch_and_seed_change_batches():
    sampler = PKSampler(LABELS, num_identities=4, num_instances=2, seed=3)
    epoch_zero = _batches(sampler)
    sampler.set_epoch(1)
    assert _batches(sampler) != epoch_zero
    assert _batches(PKSampler(LABELS, num_identities=4, num_instances=2, seed=4)) != epoch_zero


def test_len_matches_iteration():
    for world_size in (1, 2, 3):
        for epoch in range(5):
            sampler = PKSampler(LABELS, num_identities=3, num_instances=2, seed=epoch, world_size=world_size)
            sampler.set_epoch(epoch)
            assert len(sampler) == len(_batches(sampler))
            assert len(sampler) > 0


def test_ddp_shares_disjoint_and_equal():
    world_size = 3
    full = PKSampler(LABELS, num_identities=2, num_instances=2, seed=9)
    full.set_epoch(4)
    shares = []
    for rank in range(world_size):
        sampler = PKSampler(
            LABELS, num_identities=2, num_instances=2, seed=9, rank=rank, world_size=world_size
        )
        sampler.set_epoch(4)
        shares.append(_batches(sampler))
    assert len({len(share) for share in shares}) == 1
    flat = [tuple(batch) for share in shares for batch in share]
    assert len(flat) == len(set(flat))
    assert set(flat) <= {tuple(batch) for batch in _batches(full)}
    assert len(flat) == len(full) - len(full) % world_size


def test_works_as_dataloader_batch_sampler():
    dataset = TensorDataset(torch.tensor(LABELS))
    loader = DataLoader(dataset, batch_sampler=PKSampler(LABELS, num_identities=3, num_instances=2, seed=0))
    for (labels,) in loader:
        assert labels.shape == (6,)
        assert len(set(labels.tolist())) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_identities": 0, "num_instances": 2}, "at least 1"),
        ({"num_identities": 13, "num_instances": 2}, "at least P=13 distinct labels"),
        ({"num_identities": 2, "num_instances": 2, "rank": 2, "world_size": 2}, "Invalid rank"),
    ],
)
def test_invalid_arguments_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PKSampler(LABELS, **kwargs)


def test_neighbour_groups_stay_together():
    """With each label's nearest neighbour its pair partner, every batch contains whole pairs."""
    labels = [label for label in range(12) for _ in range(4)]
    sampler = PKSampler(labels, num_identities=4, num_instances=2, seed=0)
    partners = {
        label: [label ^ 1] + [other for other in range(12) if other not in (label, label ^ 1)]
        for label in range(12)
    }
    sampler.set_neighbours(partners, group_size=2)
    batches = _batches(sampler)
    assert len(batches) == len(_batches(PKSampler(labels, num_identities=4, num_instances=2, seed=0)))
    used = [index for batch in batches for index in batch]
    assert len(used) == len(set(used))
    for batch in batches:
        batch_labels = {labels[index] for index in batch}
        assert len(batch_labels) == 4
        assert all(label ^ 1 in batch_labels for label in batch_labels)


def test_neighbours_cleared_restores_random_batches():
    sampler = PKSampler(LABELS, num_identities=4, num_instances=2, seed=3)
    plain = _batches(sampler)
    neighbours = {label: sorted(set(LABELS) - {label}) for label in set(LABELS)}
    sampler.set_neighbours(neighbours, group_size=4)
    assert _batches(sampler) != plain
    sampler.set_neighbours(None, group_size=1)
    assert _batches(sampler) == plain


def test_neighbours_must_cover_every_label():
    sampler = PKSampler(LABELS, num_identities=4, num_instances=2)
    with pytest.raises(ValueError, match="neighbours are missing"):
        sampler.set_neighbours({0: [1]}, group_size=2)
    with pytest.raises(ValueError, match="group_size must be at least 1"):
        sampler.set_neighbours(None, group_size=0)

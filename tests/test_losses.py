"""Each loss against a direct, written-out computation on small hand-made tensors."""

import math

import pytest
import torch
import torch.nn.functional as F

from hpl import losses


def _unit(rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float64), dim=-1)


def test_sdm_matches_loop():
    torch.manual_seed(0)
    images, texts = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
    pids = torch.tensor([7, 7, 3, 9])
    scale, eps = 10.0, 1e-8

    cos = _unit(images.tolist()) @ _unit(texts.tolist()).T
    expected = 0.0
    for sims in (cos, cos.T):
        total = 0.0
        for i in range(4):
            positives = [j for j in range(4) if pids[j] == pids[i]]
            logits = [scale * sims[i, j].item() for j in range(4)]
            norm = math.log(sum(math.exp(v) for v in logits))
            for j in range(4):
                p = math.exp(logits[j] - norm)
                q = (1.0 / len(positives)) if j in positives else 0.0
                total += p * ((logits[j] - norm) - math.log(q + eps))
        expected += total / 4
    got = losses.sdm_loss(images, texts, pids, logit_scale=scale, epsilon=eps)
    assert got.item() == pytest.approx(expected, rel=1e-9)


def test_sdm_near_zero_for_perfect_alignment():
    features = torch.eye(3, dtype=torch.float64)
    loss = losses.sdm_loss(features, features, torch.tensor([0, 1, 2]), logit_scale=50.0)
    assert loss.item() < 1e-6


def test_t2i_id_loss_averages_both():
    image_logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    text_logits = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    labels = torch.tensor([0, 1])

    def ce(logits):
        return (
            sum(
                -math.log(math.exp(row[y]) / sum(math.exp(v) for v in row))
                for row, y in zip(logits.tolist(), labels.tolist(), strict=True)
            )
            / 2
        )

    expected = (ce(image_logits) + ce(text_logits)) / 2
    assert losses.t2i_id_loss(image_logits, text_logits, labels).item() == pytest.approx(expected, rel=1e-6)


def test_label_smoothing_matches_formula():
    logits = torch.tensor([[3.0, 1.0, 0.0]])
    eps = 0.1
    log_p = F.log_softmax(logits, dim=1)[0]
    expected = -((1 - eps) * log_p[0] + eps * log_p.mean())
    got = losses.id_loss(logits, torch.tensor([0]), label_smoothing=eps)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)


def test_triplet_hard_mining_by_hand():
    features = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 1.0], [0.0, 5.0]])
    labels = torch.tensor([0, 0, 1, 1])
    # Anchor 0: farthest positive 3, closest negative 1 -> 3 - 1 + 0.3 = 2.3
    # Anchor 1: positive 3, negatives sqrt(10), sqrt(34) -> 3 - 3.1623 + 0.3 = 0.1377
    # Anchor 2: positive 4, negatives 1, sqrt(10) -> 4 - 1 + 0.3 = 3.3
    # Anchor 3: positive 4, negatives 5, sqrt(34) -> max(0, 4 - 5 + 0.3) = 0
    expected = (2.3 + (3 - math.sqrt(10) + 0.3) + 3.3 + 0.0) / 4
    assert losses.triplet_loss(features, labels, margin=0.3).item() == pytest.approx(expected, rel=1e-5)


def test_triplet_skips_singleton_pid():
    features = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    labels = torch.tensor([0, 0, 1])  # label 1 appears once: no positive, left out
    # Anchors 0 and 1: positive distance 1, closest negative sqrt(41) or sqrt(32) -> relu < 0 = 0
    assert losses.triplet_loss(features, labels).item() == pytest.approx(0.0)
    only_singletons = losses.triplet_loss(torch.randn(3, 4, requires_grad=True), torch.tensor([0, 1, 2]))
    assert only_singletons.item() == 0.0
    only_singletons.backward()  # still part of the graph


def test_triplet_identical_features_give_margin():
    features = torch.ones(4, 3)
    labels = torch.tensor([0, 0, 1, 1])
    assert losses.triplet_loss(features, labels, margin=0.3).item() == pytest.approx(0.3, abs=1e-5)


def test_feature_regression_normalised_and_raw():
    a = torch.tensor([[3.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    # Normalised: row 0 identical direction -> 0; row 1 orthogonal -> 2.
    assert losses.feature_regression_loss(a, b).item() == pytest.approx(1.0)
    # Raw: ||(2, 0)||^2 = 4 and ||(-2, 2)||^2 = 8.
    assert losses.feature_regression_loss(a, b, normalize=False).item() == pytest.approx(6.0)


def test_instance_consistency_sums_two_terms():
    v_prompt, v = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    t_prompt, t = torch.tensor([[1.0, 1.0]]), torch.tensor([[2.0, 2.0]])
    assert losses.instance_consistency_loss(v_prompt, v, t_prompt, t).item() == pytest.approx(2.0)


def test_supervised_contrastive_by_hand():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    contrasts = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    anchor_labels, contrast_labels = torch.tensor([0, 1]), torch.tensor([0, 1, 0])
    scale = 2.0
    # Anchor 0: logits [2, 0, 2], positives {0, 2}; anchor 1: logits [0, 2, 0], positive {1}.
    log_z0 = math.log(2 * math.exp(2) + 1)
    log_z1 = math.log(math.exp(2) + 2)
    expected = -(((2 - log_z0) + (2 - log_z0)) / 2 + (2 - log_z1)) / 2
    got = losses.supervised_contrastive_loss(anchors, contrasts, anchor_labels, contrast_labels, scale)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_supervised_contrastive_skips_anchor_without_positive():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    contrasts = torch.tensor([[1.0, 0.0]])
    got = losses.supervised_contrastive_loss(anchors, contrasts, torch.tensor([0, 5]), torch.tensor([0]), 1.0)
    assert got.item() == pytest.approx(0.0, abs=1e-6)  # one contrast: log-softmax is 0


def test_supervised_contrastive_without_self():
    features = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    scale = 2.0
    # Rows 0 and 1 are each other's positive (logit 2) and see row 2 at logit 0. Row 2 has no positive.
    expected = -(2 - math.log(math.exp(2) + 1))
    got = losses.supervised_contrastive_loss(features, features, labels, labels, scale, exclude_self=True)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_supervised_contrastive_without_positives():
    features = torch.randn(3, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2])
    alone = losses.supervised_contrastive_loss(features, features, labels, labels, 10.0, exclude_self=True)
    assert alone.item() == 0.0
    alone.backward()  # The zero stays in the graph, so a training step without positives still runs.
    assert features.grad is not None


def test_supervised_contrastive_self_shape_error():
    features = torch.randn(3, 4)
    with pytest.raises(ValueError, match="one set"):
        losses.supervised_contrastive_loss(
            features, features[:2], torch.tensor([0, 1, 2]), torch.tensor([0, 1]), 1.0, exclude_self=True
        )


def test_prompt_contrastive_losses_are_the_two_directions():
    torch.manual_seed(3)
    images, prompts, labels = torch.randn(4, 6), torch.randn(4, 6), torch.tensor([0, 0, 1, 2])
    i2t, t2i = losses.prompt_contrastive_losses(images, prompts, labels, 5.0)
    assert i2t.item() == pytest.approx(
        losses.supervised_contrastive_loss(images, prompts, labels, labels, 5.0).item()
    )
    assert t2i.item() == pytest.approx(
        losses.supervised_contrastive_loss(prompts, images, labels, labels, 5.0).item()
    )
    assert i2t.item() != pytest.approx(t2i.item())


def test_ilpa_pairs_each_prompt_with_the_other_modality():
    v = torch.tensor([[1.0, 0.0]])
    t = torch.tensor([[0.0, 1.0]])
    t_prompt = v.clone()  # caption prompt reproduces the image feature: L_tgps = 0
    v_prompt = -t  # image prompt opposite to the caption feature: L_vgps = 4
    assert losses.ilpa_loss(t_prompt, v, v_prompt, t).item() == pytest.approx(4.0)


def test_cic_is_cross_entropy_over_all_prompts():
    i2i = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    prompts = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([0, 1])
    scale = 3.0
    # Cosines: row 0 [1, 0, -1], row 1 [0, 1, 0].
    expected = (
        -math.log(math.exp(3) / (math.exp(3) + 1 + math.exp(-3)))
        - math.log(math.exp(3) / (1 + math.exp(3) + 1))
    ) / 2
    assert losses.cic_loss(i2i, prompts, labels, scale).item() == pytest.approx(expected, rel=1e-6)


def test_cmpr_is_mean_squared_frobenius():
    p_t = torch.zeros(2, 2, 3)
    p_v = torch.zeros(2, 2, 3)
    p_v[0, 0, 0] = 2.0  # ||.||_F^2 = 4
    p_v[1] = 1.0  # ||.||_F^2 = 6
    assert losses.cmpr_loss(p_t, p_v).item() == pytest.approx(5.0)
    assert losses.cmpr_loss(p_v, p_v).item() == 0.0


def test_clip_contrastive_by_hand():
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    texts = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    scale = 1.0
    c = 1 / math.sqrt(2)
    # Similarity matrix rows=images: [[1, c], [0, c]].
    row0 = -math.log(math.exp(1) / (math.exp(1) + math.exp(c)))
    row1 = -math.log(math.exp(c) / (1 + math.exp(c)))
    col0 = -math.log(math.exp(1) / (math.exp(1) + 1))
    col1 = -math.log(math.exp(c) / (math.exp(c) + math.exp(c)))
    expected = ((row0 + row1) / 2 + (col0 + col1) / 2) / 2
    assert losses.clip_contrastive_loss(images, texts, scale).item() == pytest.approx(expected, rel=1e-6)


def test_all_losses_finite_with_identical_features():
    features = torch.ones(4, 8, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1])
    values = [
        losses.sdm_loss(features, features, labels),
        losses.triplet_loss(features, labels),
        losses.supervised_contrastive_loss(features, features, labels, labels, 50.0),
        losses.cic_loss(features, features[:2], torch.tensor([0, 1, 0, 1]), 50.0),
        losses.feature_regression_loss(features, features),
        losses.clip_contrastive_loss(features, features, 50.0),
    ]
    total = sum(values)
    assert torch.isfinite(total)
    total.backward()
    assert torch.isfinite(features.grad).all()

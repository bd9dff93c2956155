"""Loss functions of HPL, each a pure function of tensors returning a scalar.

Names follow "Hierarchical Prompt Learning for Image- and Text-Based Person Re-Identification"
(Zhou et al., AAAI 2026). The base losses come from IRRA (SDM, shared ID classifier), BoT (BNNeck ID
loss with label smoothing, batch-hard triplet) and CLIP-ReID (label-aware contrastive prompt losses).
Shapes: B batch, E feature width, N labels, K pseudo tokens, D token width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def clip_contrastive_loss(
    image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor | float
) -> torch.Tensor:
    """Symmetric InfoNCE of CLIP: row i of images (B, E) matches row i of texts (B, E)."""
    logits = logit_scale * F.normalize(image_features, dim=-1) @ F.normalize(text_features, dim=-1).T
    targets = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def sdm_loss(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    pids: torch.Tensor,
    logit_scale: float = 50.0,
    epsilon: float = 1e-8,
) -> torch.Tensor:
    """Similarity-distribution matching of IRRA (L_sdm) between images (B, E) and captions (B, E).

    In both directions the softmax over scaled cosine similarities is pulled, by KL divergence,
    towards the uniform distribution over the pairs that share a pid. IRRA scales by 1/0.02 = 50.
    """
    cosine = F.normalize(image_features, dim=-1) @ F.normalize(text_features, dim=-1).T  # image x text
    same_pid = (pids[:, None] == pids[None, :]).to(cosine.dtype)
    target = same_pid / same_pid.sum(dim=1, keepdim=True)  # (B, B), rows sum to 1

    image_to_text = _kl_to_target(logit_scale * cosine, target, epsilon)
    text_to_image = _kl_to_target(logit_scale * cosine.T, target, epsilon)
    return image_to_text + text_to_image


def _kl_to_target(logits: torch.Tensor, target: torch.Tensor, epsilon: float) -> torch.Tensor:
    log_prediction = F.log_softmax(logits, dim=1)
    kl = log_prediction.exp() * (log_prediction - torch.log(target + epsilon))
    return kl.sum(dim=1).mean()


def id_loss(logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Identity cross-entropy over (B, N) logits; BoT uses label smoothing 0.1 for L_id^i2i."""
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)


def t2i_id_loss(image_logits: torch.Tensor, text_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_id^t2i of IRRA: mean of the ID losses of images and captions from one shared classifier."""
    return (id_loss(image_logits, labels) + id_loss(text_logits, labels)) / 2


def triplet_loss(features: torch.Tensor, labels: torch.Tensor, margin: float = 0.3) -> torch.Tensor:
    """Batch-hard triplet loss of BoT on Euclidean distances of raw features (B, E).

    Each anchor takes its farthest positive and closest negative. Anchors without another image of
    their label, or without any negative, are left out of the mean (our choice: BoT's code would pair
    such an anchor with itself at distance 0). With no valid anchor the loss is 0.
    """
    distances = torch.cdist(features, features).clamp_min(1e-12)  # (B, B)
    same = labels[:, None] == labels[None, :]
    not_self = ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positive = same & not_self
    negative = ~same

    hardest_positive = distances.masked_fill(~positive, float("-inf")).amax(dim=1)
    hardest_negative = distances.masked_fill(~negative, float("inf")).amin(dim=1)
    valid = positive.any(dim=1) & negative.any(dim=1)
    if not valid.any():
        return features.sum() * 0.0
    losses = F.relu(hardest_positive[valid] - hardest_negative[valid] + margin)
    return losses.mean()


def feature_regression_loss(
    predicted: torch.Tensor, target: torch.Tensor, normalize: bool = True
) -> torch.Tensor:
    """Mean over the batch of ||predicted - target||^2 for (B, E) features.

    With `normalize` both sides are L2-normalised first (our choice), so the loss is 2 - 2 cos and
    does not depend on the feature norms of two different encoders.
    """
    if normalize:
        predicted, target = F.normalize(predicted, dim=-1), F.normalize(target, dim=-1)
    return (predicted - target).pow(2).sum(dim=-1).mean()


def instance_consistency_loss(
    image_prompt_features: torch.Tensor,
    image_features: torch.Tensor,
    text_prompt_features: torch.Tensor,
    text_features: torch.Tensor,
    normalize: bool = True,
) -> torch.Tensor:
    """L_ic (stage I): a prompt built from pseudo tokens reproduces its source feature.

    mean_B ||v~_eos - v_t2i||^2 over every image plus mean_{B_t2i} ||t~_eos - t_eos||^2 over captions.
    """
    image_term = feature_regression_loss(image_prompt_features, image_features, normalize)
    text_term = feature_regression_loss(text_prompt_features, text_features, normalize)
    return image_term + text_term


def supervised_contrastive_loss(
    anchors: torch.Tensor,
    contrasts: torch.Tensor,
    anchor_labels: torch.Tensor,
    contrast_labels: torch.Tensor,
    logit_scale: torch.Tensor | float,
    exclude_self: bool = False,
) -> torch.Tensor:
    """Label-aware contrastive loss of CLIP-ReID stage 1 (the form of L_t2i and L_i2t).

    For each anchor (B, E) the log-softmax over all contrasts (M, E) is averaged over the contrasts
    with the same label. Features are L2-normalised and scaled by `logit_scale` (our choice; CLIP-ReID
    uses raw features with temperature 1). With `exclude_self` the anchors are the contrasts (M = B),
    and each anchor is left out of its own softmax and positives (SupCon's form). Anchors without any
    positive are left out, and a batch without any positive gives 0.
    """
    logits = logit_scale * F.normalize(anchors, dim=-1) @ F.normalize(contrasts, dim=-1).T  # (B, M)
    positive = anchor_labels[:, None] == contrast_labels[None, :]
    if exclude_self:
        if logits.shape[0] != logits.shape[1]:
            raise ValueError(
                f"invalid shapes for exclude_self: anchors and contrasts must be one set, got logits of "
                f"shape {tuple(logits.shape)}; pass the same features as anchors and contrasts"
            )
        itself = torch.eye(logits.shape[0], dtype=torch.bool, device=logits.device)
        logits = logits.masked_fill(itself, float("-inf"))
        positive = positive & ~itself
    log_prob = F.log_softmax(logits, dim=1).masked_fill(~positive, 0.0)
    counts = positive.sum(dim=1)
    valid = counts > 0
    if not valid.any():
        return anchors.sum() * 0.0
    return -(log_prob.sum(dim=1)[valid] / counts[valid]).mean()


def prompt_contrastive_losses(
    image_features: torch.Tensor,
    prompt_features: torch.Tensor,
    labels: torch.Tensor,
    logit_scale: torch.Tensor | float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (L_i2t, L_t2i) of stage I between images (B, E) and identity prompts r~ (B, E) of `labels`."""
    image_to_text = supervised_contrastive_loss(image_features, prompt_features, labels, labels, logit_scale)
    text_to_image = supervised_contrastive_loss(prompt_features, image_features, labels, labels, logit_scale)
    return image_to_text, text_to_image


def ilpa_loss(
    text_prompt_features: torch.Tensor,
    image_features: torch.Tensor,
    image_prompt_features: torch.Tensor,
    text_features: torch.Tensor,
    normalize: bool = True,
) -> torch.Tensor:
    """L_ILPA = L_tgps + L_vgps over the image-text pairs (B_t2i rows of each argument).

    L_tgps = mean ||t~_eos - v_t2i||^2 (a caption's prompt reproduces its image's feature) and
    L_vgps = mean ||v~_eos - t_eos||^2 (an image's prompt reproduces its caption's feature).
    """
    tgps = feature_regression_loss(text_prompt_features, image_features, normalize)
    vgps = feature_regression_loss(image_prompt_features, text_features, normalize)
    return tgps + vgps


def cic_loss(
    i2i_features: torch.Tensor,
    all_prompt_features: torch.Tensor,
    labels: torch.Tensor,
    logit_scale: torch.Tensor | float,
) -> torch.Tensor:
    """L_cic: cross-entropy of I2I features (B, E) against every identity prompt feature (N, E).

    This is CLIP-ReID's stage-2 image-to-text loss, on cosine similarities scaled by `logit_scale`.
    """
    logits = logit_scale * F.normalize(i2i_features, dim=-1) @ F.normalize(all_prompt_features, dim=-1).T
    return F.cross_entropy(logits, labels)


def cmpr_loss(text_pseudo_tokens: torch.Tensor, image_pseudo_tokens: torch.Tensor) -> torch.Tensor:
    """L_CMPR = mean over pairs of ||P_t - P_v||_F^2 for pseudo tokens (B, K, D) of a caption and its image."""
    return (text_pseudo_tokens - image_pseudo_tokens).pow(2).sum(dim=(1, 2)).mean()

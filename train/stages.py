"""The training stages: each declares its trainable parameters and returns a dict of named losses.

Stage 0 (contrastive image-caption pretraining) replaces CLIP's web pretraining when the
backbone starts from random weights. Stage I (prompt construction) and stage II (representation
learning) follow "Hierarchical Prompt Learning for Image- and Text-Based Person Re-Identification"
(Zhou et al., AAAI 2026), Eq. 13 and Eq. 14.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from hpl import losses
from hpl.models.hpl import HPLModel
from hpl.models.text import TextOutput
from train.data import MixedBatch

logger = logging.getLogger(__name__)

Losses = dict[str, torch.Tensor]


@dataclass(frozen=True)
class ParamGroup:
    """Parameters trained with one learning rate, `lr_scale` times the stage's base rate."""

    name: str
    params: list[nn.Parameter]
    lr: float


@dataclass(frozen=True)
class LossSettings:
    """Constants and weights of the stage losses (see `train.config.LossConfig`)."""

    sdm_scale: float = 50.0
    label_smoothing: float = 0.1
    triplet_margin: float = 0.3
    lambda_ilpa: float = 0.4
    lambda_cmpr: float = 0.06
    prompt_logit_scale: float = 0.0
    normalize_regression: bool = True
    stage0_identities: bool = False
    stage0_logit_scale: float = 0.0


def _parameters(*modules: nn.Module | nn.Parameter | None) -> list[nn.Parameter]:
    params: list[nn.Parameter] = []
    for module in modules:
        if isinstance(module, nn.Parameter):
            params.append(module)
        elif module is not None:
            params.extend(module.parameters())
    return params


def _prompt_scale(model: HPLModel, settings: LossSettings) -> torch.Tensor | float:
    if settings.prompt_logit_scale > 0:
        return settings.prompt_logit_scale
    return model.logit_scale.exp().detach()


class Stage:
    """One optimisation stage. The trainer calls `parameter_groups`, `prepare`, `losses`, `finish`."""

    name = "stage"
    mixed_batches = True  # PK-sampled image-text pairs plus I2I images (`train.data.MixedBatch`)

    def __init__(self, settings: LossSettings) -> None:
        self.settings = settings

    def parameter_groups(self, model: HPLModel, lr: float, **options: float | None) -> list[ParamGroup]:
        """Return the parameters this stage trains; everything else stays frozen."""
        raise NotImplementedError

    def weights(self, model: HPLModel) -> dict[str, float]:
        """Return the weight of each named loss in the total."""
        raise NotImplementedError

    def prepare(self, model: HPLModel, device: torch.device) -> None:  # noqa: B027
        """Compute what stays fixed during the stage (called before the first epoch and on resume)."""

    def finish(self, model: HPLModel) -> None:  # noqa: B027
        """Adjust the model once the stage is complete."""

    def batches(self, loader: Iterable, device: torch.device) -> Iterator:
        """Yield the stage's inputs for one epoch of `loader`."""
        for batch in loader:
            yield batch.to(device) if hasattr(batch, "to") else batch

    def losses(self, model: HPLModel, batch: object) -> Losses:
        """Return the named, unweighted losses of one step."""
        raise NotImplementedError


class ContrastiveStage(Stage):
    """Stage 0: CLIP's symmetric InfoNCE between the T2I token and the caption, both encoders trained.

    At the end the I2I token restarts as a copy of the trained T2I token, and the frozen prompt
    encoder becomes a copy of the trained text encoder.

    `LossSettings.stage0_logit_scale` > 0 replaces the learned logit scale by a fixed one, as a fixed
    temperature in SupCon. CLIP's scale starts at 1 / 0.07 (about 14) and, in a run of a few thousand
    steps, stays near it. A sharper scale weights the negatives closest to each anchor more.
    """

    name = "stage0"
    mixed_batches = False  # shuffled image-caption pairs, as in CLIP

    def parameter_groups(self, model: HPLModel, lr: float, **options: float | None) -> list[ParamGroup]:
        learned_scale = model.logit_scale if self.settings.stage0_logit_scale <= 0 else None
        return [ParamGroup("encoders", _parameters(model.visual, model.text, learned_scale), lr)]

    def weights(self, model: HPLModel) -> dict[str, float]:
        return {"clip": 1.0}

    def batches(self, loader: Iterable, device: torch.device) -> Iterator:
        for batch in loader:
            valid = batch["valid"]
            yield {key: value[valid].to(device) for key, value in batch.items()}

    def losses(self, model: HPLModel, batch: dict[str, torch.Tensor]) -> Losses:
        images = model.encode_visual(batch["images"]).t2i
        texts = model.encode_text(batch["tokens"])
        return {"clip": losses.clip_contrastive_loss(images, texts, self.logit_scale(model))}

    def logit_scale(self, model: HPLModel) -> torch.Tensor | float:
        """Return the fixed scale of the settings, or CLIP's learned scale (at most 100)."""
        if self.settings.stage0_logit_scale > 0:
            return self.settings.stage0_logit_scale
        return model.logit_scale.exp().clamp(max=100.0)

    def finish(self, model: HPLModel) -> None:
        model.visual.reset_i2i_token()
        model.refresh_prompt_encoder()
        model.match_pseudo_token_scale()
        logger.info("stage 0 done: I2I token reset from the T2I token, prompt encoder refreshed")


class IdentityContrastiveStage(ContrastiveStage):
    """Stage 0 that uses identity labels (`LossSettings.stage0_identities`), for training from scratch.

    Batches are PK-sampled image-caption pairs plus I2I images. L_clip is the label-aware InfoNCE
    between images and captions in both directions: every caption of the image's identity counts as
    a match, which is CLIP's loss when each identity appears once. L_image is the same loss among all
    images of the batch, each image left out of its own softmax. Plain CLIP pretraining treats two
    photos of one person as unrelated. L_image teaches the invariance that I2I retrieval needs, so
    the T2I token, and the I2I token copied from it, start from identity features.
    """

    mixed_batches = True

    def weights(self, model: HPLModel) -> dict[str, float]:
        return {"clip": 1.0, "image": 1.0}

    def batches(self, loader: Iterable, device: torch.device) -> Iterator:
        # The mixed loader yields MixedBatch objects, not the dictionaries of plain stage 0.
        yield from Stage.batches(self, loader, device)

    def losses(self, model: HPLModel, batch: MixedBatch) -> Losses:
        num_pairs = batch.pair_images.shape[0]
        images = model.encode_visual(torch.cat([batch.pair_images, batch.i2i_images])).t2i
        texts = model.encode_text(batch.pair_tokens)
        labels = torch.cat([batch.pair_labels, batch.i2i_labels])
        scale = self.logit_scale(model)

        # The label-aware loss of stage I in both directions, here between images and captions.
        image_to_text, text_to_image = losses.prompt_contrastive_losses(
            images[:num_pairs], texts, batch.pair_labels, scale
        )
        image = losses.supervised_contrastive_loss(images, images, labels, labels, scale, exclude_self=True)
        return {"clip": (image_to_text + text_to_image) / 2, "image": image}


class PromptStage(Stage):
    """Stage I: identity prompts and inversion networks learn against frozen encoders (Eq. 13).

    L = L_i2t + L_t2i + L_ic. Both contrastive losses pair the T2I image token with the identity
    prompt features r~ of the batch's labels.
    """

    name = "stage1"

    def parameter_groups(self, model: HPLModel, lr: float, **options: float | None) -> list[ParamGroup]:
        prompt_lr = options.get("prompt_lr") or lr
        return [
            ParamGroup("identity_prompts", [model.prompts.identity_context], prompt_lr),
            ParamGroup("inversion", _parameters(model.image_inversion, model.text_inversion), lr),
        ]

    def weights(self, model: HPLModel) -> dict[str, float]:
        return {"i2t": 1.0, "t2i": 1.0, "ic": 1.0}

    def losses(self, model: HPLModel, batch: MixedBatch) -> Losses:
        with torch.no_grad():
            images = torch.cat([batch.pair_images, batch.i2i_images])
            visual = model.encode_visual(images)
            text = model.encode_text_sequence(batch.pair_tokens)
        labels = torch.cat([batch.pair_labels, batch.i2i_labels])
        return self.prompt_losses(model, visual.t2i, visual.sequence, labels, text, batch.pair_labels)

    def prompt_losses(
        self,
        model: HPLModel,
        image_features: torch.Tensor,
        image_sequence: torch.Tensor,
        labels: torch.Tensor,
        text: TextOutput,
        pair_labels: torch.Tensor,
    ) -> Losses:
        """Stage-I losses from frozen features of all images (B) and of the captions (Bt)."""
        scale = _prompt_scale(model, self.settings)
        identity_features = model.encode_prompts(labels)
        i2t, t2i = losses.prompt_contrastive_losses(image_features, identity_features, labels, scale)

        image_prompts = model.encode_prompts(labels, model.invert_image(image_sequence))
        text_prompts = model.encode_prompts(pair_labels, model.invert_text(text))
        ic = losses.instance_consistency_loss(
            image_prompts, image_features, text_prompts, text.eos, self.settings.normalize_regression
        )
        return {"i2t": i2t, "t2i": t2i, "ic": ic}


class RepresentationStage(Stage):
    """Stage II: encoders, heads and inversion networks learn with frozen prompts (Eq. 14).

    L = L_sdm + L_id^t2i + L_tri + L_id^i2i [+ L_cic + lambda1 L_ILPA [+ lambda2 L_CMPR]], where the
    bracketed terms need hierarchical prompts (and CMPR). The I2I losses see every image of the
    batch (pairs and I2I images); L_sdm, L_id^t2i, L_ILPA and L_CMPR see the image-text pairs.
    """

    name = "stage2"

    def __init__(self, settings: LossSettings) -> None:
        super().__init__(settings)
        self.identity_features: torch.Tensor | None = None  # (N, E) r~ of every label

    def parameter_groups(self, model: HPLModel, lr: float, **options: float | None) -> list[ParamGroup]:
        head_lr = lr * (options.get("head_lr_scale") or 1.0)
        # The I2I class token is new in stage II (a copy of the T2I one), so it learns at the rate of the
        # other new parts.
        i2i_token = model.visual.i2i_token_parameters()
        heads = [model.classifier_i2i, model.classifier_t2i, model.bnneck.weight, *i2i_token]
        heads += [model.image_inversion, model.text_inversion]
        new_ids = {id(param) for param in i2i_token}
        encoders = [param for param in _parameters(model.visual, model.text) if id(param) not in new_ids]
        return [
            ParamGroup("encoders", encoders, lr),
            ParamGroup("heads", _parameters(*heads), head_lr),
        ]

    def weights(self, model: HPLModel) -> dict[str, float]:
        weights = {"sdm": 1.0, "id_t2i": 1.0, "triplet": 1.0, "id_i2i": 1.0}
        if model.prompts is not None:
            weights.update(cic=1.0, ilpa=self.settings.lambda_ilpa)
            if model.config.cmpr:
                weights["cmpr"] = self.settings.lambda_cmpr
        return weights

    @torch.no_grad()
    def prepare(self, model: HPLModel, device: torch.device) -> None:
        if model.prompts is None:
            return
        labels = torch.arange(model.config.num_labels, device=device)
        features = [model.encode_prompts(chunk) for chunk in labels.split(256)]
        self.identity_features = torch.cat(features)
        logger.info("stage II: %d identity prompt features computed once", len(labels))

    def losses(self, model: HPLModel, batch: MixedBatch) -> Losses:
        settings = self.settings
        num_pairs = batch.pair_images.shape[0]
        visual = model.encode_visual(torch.cat([batch.pair_images, batch.i2i_images]))
        text = model.encode_text_sequence(batch.pair_tokens)
        labels = torch.cat([batch.pair_labels, batch.i2i_labels])
        pair_t2i = visual.t2i[:num_pairs]

        _, i2i_logits = model.classify_i2i(visual.i2i)
        result = {
            "sdm": losses.sdm_loss(pair_t2i, text.eos, batch.pair_labels, settings.sdm_scale),
            "id_t2i": losses.t2i_id_loss(
                model.classify_t2i(pair_t2i), model.classify_t2i(text.eos), batch.pair_labels
            ),
            "triplet": losses.triplet_loss(visual.i2i, labels, settings.triplet_margin),
            "id_i2i": losses.id_loss(i2i_logits, labels, settings.label_smoothing),
        }
        if model.prompts is None:
            return result

        result["cic"] = losses.cic_loss(
            visual.i2i, self.identity_features, labels, _prompt_scale(model, settings)
        )
        image_pseudo = model.invert_image(visual.sequence[:num_pairs])
        text_pseudo = model.invert_text(text)
        # T_t and T_v of every pair go through the prompt encoder as one batch.
        prompt_features = model.encode_prompts(
            batch.pair_labels.repeat(2), torch.cat([text_pseudo, image_pseudo])
        )
        text_prompt, image_prompt = prompt_features.split(num_pairs)
        result["ilpa"] = losses.ilpa_loss(
            text_prompt, pair_t2i, image_prompt, text.eos, settings.normalize_regression
        )
        if model.config.cmpr:
            result["cmpr"] = losses.cmpr_loss(text_pseudo, image_pseudo)
        return result

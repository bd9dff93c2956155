"""The HPL model: task-routed CLIP encoders, hierarchical prompts, inversion networks and heads."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from hpl.models.backbone import CLIP_MEAN, CLIP_STD, TINY_BACKBONE, create_backbone
from hpl.models.inversion import InversionNetwork
from hpl.models.prompts import HierarchicalPrompts
from hpl.models.text import PromptEncoder, TextEncoder, TextOutput
from hpl.models.visual import TaskRoutedVisionEncoder, VisualOutput

logger = logging.getLogger(__name__)

I2I_TEST_FEATURES = ("bnneck", "raw")


@dataclass(frozen=True)
class HPLConfig:
    """Architecture of an HPL model; stored in every checkpoint and enough to rebuild it."""

    backbone: str = TINY_BACKBONE  # open_clip model name
    pretrained: str | None = None  # None, an open_clip tag ("openai") or a local weights file
    image_size: tuple[int, int] = (128, 64)  # (height, width) in pixels
    num_labels: int = 0  # training identities; 0 builds an inference-only model (no heads or prompts)
    task_routed: bool = True  # two class tokens (TRT); False is the joint baseline with one token
    hierarchical_prompts: bool = True  # identity prompts, inversion networks and the prompt encoder
    cmpr: bool = True  # Cross-Modal Prompt Regularization in stage II (read by the trainer)
    num_id_tokens: int = 4  # learnable identity context vectors per label (as in CLIP-ReID)
    num_pseudo_tokens: int = 4  # pseudo tokens K produced by each inversion network
    inversion_depth: int = 4  # transformer blocks per inversion network
    inversion_heads: int = 0  # attention heads in the inversion networks; 0 picks width // 64
    i2i_test_feature: str = "bnneck"  # I2I retrieval feature: after the BNNeck (BoT) or "raw"
    flip_test: bool = False  # retrieval features average each image with its mirror image

    def __post_init__(self) -> None:
        if self.i2i_test_feature not in I2I_TEST_FEATURES:
            raise ValueError(
                f"i2i_test_feature must be one of {I2I_TEST_FEATURES}, got {self.i2i_test_feature!r}"
            )
        if self.num_labels < 0:
            raise ValueError(f"num_labels must be >= 0, got {self.num_labels}")
        if self.cmpr and not self.hierarchical_prompts:
            raise ValueError("cmpr=True needs hierarchical_prompts=True: CMPR regularises the pseudo tokens")
        object.__setattr__(self, "image_size", tuple(self.image_size))

    def to_dict(self) -> dict[str, Any]:
        """Return the config as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["image_size"] = list(self.image_size)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HPLConfig:
        """Build a config from `to_dict` output; unknown keys raise ValueError."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown HPL config keys {unknown}; known keys are {sorted(known)}")
        return cls(**values)


class ImageFeatures(NamedTuple):
    """Retrieval features of images: one per task."""

    i2i: torch.Tensor  # (B, E) for image queries
    t2i: torch.Tensor  # (B, E) for text queries


class HPLModel(nn.Module):
    """One model for image-to-image and text-to-image person retrieval.

    Parts are named as in "Hierarchical Prompt Learning for Image- and Text-Based Person
    Re-Identification" (Zhou et al., AAAI 2026). The encoders are `visual` (M_v with task routing),
    `text` (M_t) and `prompt_encoder` (the frozen M~_t, without a vocabulary table). `prompts` contains
    the identity context vectors and templates, and `image_inversion` (I_v) and `text_inversion`
    (I_t) make pseudo tokens. The heads are `bnneck` with `classifier_i2i` (BoT's I2I head) and
    `classifier_t2i` (IRRA's shared ID classifier).
    """

    def __init__(self, config: HPLConfig, clip: nn.Module) -> None:
        super().__init__()
        self.config = config
        self.visual = TaskRoutedVisionEncoder(clip.visual, task_routed=config.task_routed)
        self.text = TextEncoder(clip)
        self.logit_scale = clip.logit_scale  # CLIP's learnable log inverse temperature
        embed_dim = self.visual.vit.output_dim
        token_width = self.text.width

        self.bnneck = nn.BatchNorm1d(embed_dim)
        self.bnneck.bias.requires_grad_(False)  # BoT's BNNeck has no shift
        self.classifier_i2i: nn.Linear | None = None
        self.classifier_t2i: nn.Linear | None = None
        self.prompts: HierarchicalPrompts | None = None
        self.image_inversion: InversionNetwork | None = None
        self.text_inversion: InversionNetwork | None = None
        self.prompt_encoder: PromptEncoder | None = None

        if config.num_labels > 0:
            self.classifier_i2i = _make_classifier(embed_dim, config.num_labels, bias=False)
            self.classifier_t2i = _make_classifier(embed_dim, config.num_labels, bias=True)
        if config.num_labels > 0 and config.hierarchical_prompts:
            heads = config.inversion_heads or max(1, token_width // 64)
            self.prompts = HierarchicalPrompts(
                config.num_labels,
                config.num_id_tokens,
                config.num_pseudo_tokens,
                token_width,
                self.text.context_length,
            )
            self.image_inversion = InversionNetwork(
                embed_dim, token_width, config.num_pseudo_tokens, config.inversion_depth, heads
            )
            self.text_inversion = InversionNetwork(
                embed_dim, token_width, config.num_pseudo_tokens, config.inversion_depth, heads
            )
            self.refresh_prompt_encoder()
            self.match_pseudo_token_scale()

    # Properties ---------------------------------------------------------------------------------

    @property
    def image_size(self) -> tuple[int, int]:
        """Input (height, width) in pixels."""
        return self.visual.image_size

    @property
    def context_length(self) -> int:
        """Text context length in tokens."""
        return self.text.context_length

    @property
    def embed_dim(self) -> int:
        """Width E of the joint embedding space."""
        return self.visual.vit.output_dim

    @property
    def image_mean(self) -> tuple[float, float, float]:
        """Per-channel mean that input images are normalised with."""
        return CLIP_MEAN

    @property
    def image_std(self) -> tuple[float, float, float]:
        """Per-channel standard deviation that input images are normalised with."""
        return CLIP_STD

    # Retrieval ----------------------------------------------------------------------------------

    def encode_image(
        self, images: torch.Tensor, normalize: bool = False, flip: bool | None = None
    ) -> ImageFeatures:
        """Return the I2I and T2I retrieval features of images (B, 3, H, W).

        With `flip` (default: the config's `flip_test`) each feature is the mean of the features of
        the image and of its mirror image, the flip test of ReID toolkits. Both views go through the
        encoder as one batch.
        """
        return self.encode_image_with_tokens(images, normalize, flip)[0]

    def encode_image_with_tokens(
        self, images: torch.Tensor, normalize: bool = False, flip: bool | None = None
    ) -> tuple[ImageFeatures, torch.Tensor]:
        """Return `encode_image`'s features and the cosine (B,) of each image's two class-token outputs.

        The cosine compares the raw I2I and T2I outputs of the image itself (not its mirror image),
        before the BNNeck. It measures how far task routing has separated the two tokens.
        """
        flip = self.config.flip_test if flip is None else flip
        output = self.visual(torch.cat([images, images.flip(-1)]) if flip else images)
        i2i, t2i = output.i2i, output.t2i
        count = images.shape[0]
        token_cosine = F.cosine_similarity(i2i[:count].float(), t2i[:count].float(), dim=-1)
        if flip:
            i2i, t2i = _mean_of_views(i2i), _mean_of_views(t2i)
        if self.config.i2i_test_feature == "bnneck":
            i2i = self.bnneck(i2i)
        if normalize:
            i2i, t2i = F.normalize(i2i, dim=-1), F.normalize(t2i, dim=-1)
        return ImageFeatures(i2i=i2i, t2i=t2i), token_cosine

    def encode_text(self, tokens: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Return the T2I retrieval features (B, E) of token ids (B, L)."""
        features = self.text(tokens).eos
        return F.normalize(features, dim=-1) if normalize else features

    # Training paths ------------------------------------------------------------------------------

    def encode_visual(self, images: torch.Tensor) -> VisualOutput:
        """Return both class tokens and the output sequence, before any head."""
        return self.visual(images)

    def encode_text_sequence(self, tokens: torch.Tensor) -> TextOutput:
        """Return the end-of-text feature, the output sequence and its padding mask."""
        return self.text(tokens)

    def invert_image(self, visual_sequence: torch.Tensor) -> torch.Tensor:
        """Map image output sequences (B, L, E) to pseudo tokens P_v (B, K, D)."""
        return self._require(self.image_inversion, "image inversion network")(visual_sequence)

    def invert_text(self, text: TextOutput) -> torch.Tensor:
        """Map caption output sequences to pseudo tokens P_t (B, K, D)."""
        network = self._require(self.text_inversion, "text inversion network")
        return network(text.sequence, text.padding_mask)

    def encode_prompts(self, labels: torch.Tensor, pseudo_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """Encode prompts of `labels` (B,) with the frozen prompt encoder into (B, E) features.

        Without `pseudo_tokens` the prompt is T_id = "A photo of [id] person." (its feature is r~^y);
        with pseudo tokens (B, K, D) it is "A photo of [id] and [inst] person." (T_v or T_t).
        """
        prompts = self._require(self.prompts, "identity prompts")
        embeddings, eot_positions = prompts.compose(labels, pseudo_tokens)
        return self.prompt_encoder.encode_embeddings(embeddings, eot_positions).eos

    def classify_i2i(self, i2i: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (BNNeck feature, ID logits) of raw I2I features (B, E)."""
        classifier = self._require(self.classifier_i2i, "I2I classifier")
        bn_feature = self.bnneck(i2i)
        return bn_feature, classifier(bn_feature)

    def classify_t2i(self, features: torch.Tensor) -> torch.Tensor:
        """Return ID logits of T2I image or caption features (B, E) from the shared classifier."""
        return self._require(self.classifier_t2i, "T2I classifier")(features)

    @torch.no_grad()
    def refresh_prompt_encoder(self) -> None:
        """Freeze a copy of the current text encoder as M~_t and re-embed the prompt templates."""
        if self.prompts is None:
            return
        self.prompt_encoder = self.text.frozen_copy()
        self.prompts.refresh_templates(self.text.token_embedding)

    @torch.no_grad()
    def match_pseudo_token_scale(self) -> None:
        """Scale the inversion networks' outputs to the current vocabulary table (call while they are untrained)."""
        if self.image_inversion is None:
            return
        token_rms = self.text.token_embedding.weight.pow(2).mean().sqrt().item()
        self.image_inversion.match_output_scale(token_rms)
        self.text_inversion.match_output_scale(token_rms)

    def _require(self, part: nn.Module | None, name: str) -> nn.Module:
        if part is None:
            raise RuntimeError(
                f"this model has no {name}: it was built with num_labels={self.config.num_labels} and "
                f"hierarchical_prompts={self.config.hierarchical_prompts}"
            )
        return part


def _mean_of_views(features: torch.Tensor) -> torch.Tensor:
    """Average the two halves (image, mirror image) of a (2B, E) feature batch into (B, E)."""
    original, mirrored = features.chunk(2)
    return (original + mirrored) / 2


def _make_classifier(embed_dim: int, num_labels: int, bias: bool) -> nn.Linear:
    classifier = nn.Linear(embed_dim, num_labels, bias=bias)
    nn.init.normal_(classifier.weight, std=0.001)
    if bias:
        nn.init.zeros_(classifier.bias)
    return classifier


def build_model(config: HPLConfig, load_pretrained: bool = True) -> HPLModel:
    """Build an HPL model; `load_pretrained=False` skips backbone weights (a checkpoint follows)."""
    pretrained = config.pretrained if load_pretrained else None
    clip = create_backbone(config.backbone, pretrained=pretrained, image_size=config.image_size)
    return HPLModel(config, clip)


def create_model(
    backbone: str = TINY_BACKBONE,
    pretrained: str | None = None,
    num_labels: int = 0,
    image_size: tuple[int, int] = (128, 64),
    **options: Any,
) -> HPLModel:
    """Create an HPL model from an open_clip backbone; `options` are further `HPLConfig` fields."""
    config = HPLConfig(
        backbone=backbone,
        pretrained=pretrained,
        num_labels=num_labels,
        image_size=tuple(image_size),
        **options,
    )
    return build_model(config)

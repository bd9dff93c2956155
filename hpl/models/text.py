"""CLIP text encoder split so that it also encodes prompts given as token embeddings."""

from __future__ import annotations

import copy
from typing import NamedTuple

import open_clip
import torch
from torch import nn


class TextOutput(NamedTuple):
    """Projected outputs of the text encoder (raw, not normalised)."""

    eos: torch.Tensor  # (B, E) feature at the end-of-text token
    sequence: torch.Tensor  # (B, L', E) output tokens up to the batch's last end-of-text position
    padding_mask: torch.Tensor  # (B, L') True at padding positions after each end-of-text token


class PromptEncoder(nn.Module):
    """A CLIP text transformer that starts from token embeddings instead of token ids.

    It contains the positional embedding, the transformer, `ln_final` and the text projection, but no
    vocabulary table: prompts arrive already embedded (fixed template words plus learnable or
    pseudo tokens), as in the prompt learners of CoOp and CLIP-ReID.
    """

    def __init__(
        self,
        positional_embedding: nn.Parameter,
        transformer: nn.Module,
        ln_final: nn.Module,
        text_projection: nn.Parameter | nn.Linear,
        attn_mask: torch.Tensor | None,
    ) -> None:
        super().__init__()
        self.positional_embedding = positional_embedding  # (L, D)
        self.transformer = transformer
        self.ln_final = ln_final
        self.text_projection = text_projection
        self.register_buffer("attn_mask", attn_mask, persistent=False)

    @property
    def context_length(self) -> int:
        """Number L of token positions."""
        return self.positional_embedding.shape[0]

    @property
    def width(self) -> int:
        """Width D of token embeddings."""
        return self.positional_embedding.shape[1]

    def encode_embeddings(self, token_embeddings: torch.Tensor, eot_positions: torch.Tensor) -> TextOutput:
        """Encode (B, L, D) token embeddings; the feature is read at `eot_positions` (B,).

        Positions after the last end-of-text token of the batch are dropped before the transformer.
        The causal mask keeps every position from seeing later ones, so the result is unchanged, and
        short captions cost a fraction of the full context. `sequence` then has that shorter length.
        """
        length = int(eot_positions.max()) + 1 if eot_positions.numel() else 1
        x = token_embeddings[:, :length] + self.positional_embedding[:length].to(token_embeddings.dtype)
        attn_mask = self.attn_mask[:length, :length] if self.attn_mask is not None else None
        x = self.transformer(x, attn_mask=attn_mask)
        x = self.ln_final(x)
        x = (
            self.text_projection(x)
            if isinstance(self.text_projection, nn.Linear)
            else x @ self.text_projection
        )

        rows = torch.arange(x.shape[0], device=x.device)
        positions = torch.arange(x.shape[1], device=x.device)
        padding_mask = positions[None, :] > eot_positions[:, None]
        return TextOutput(eos=x[rows, eot_positions], sequence=x, padding_mask=padding_mask)

    def frozen_copy(self) -> PromptEncoder:
        """Return a deep copy of this encoder with every parameter frozen."""
        clone = PromptEncoder(
            copy.deepcopy(self.positional_embedding),
            copy.deepcopy(self.transformer),
            copy.deepcopy(self.ln_final),
            copy.deepcopy(self.text_projection),
            self.attn_mask,
        )
        clone.requires_grad_(False)
        return clone


class TextEncoder(PromptEncoder):
    """The CLIP text tower: token table, transformer and end-of-text pooling."""

    def __init__(self, clip: open_clip.CLIP) -> None:
        if getattr(clip, "text_pool_type", "argmax") != "argmax":
            raise ValueError(
                f"the text tower must pool at the end-of-text token (argmax), got {clip.text_pool_type!r}"
            )
        super().__init__(
            clip.positional_embedding, clip.transformer, clip.ln_final, clip.text_projection, clip.attn_mask
        )
        self.token_embedding = clip.token_embedding

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Look up token embeddings (B, L, D) for token ids (B, L)."""
        return self.token_embedding(tokens)

    def forward(self, tokens: torch.Tensor) -> TextOutput:
        """Encode token ids (B, L); the end-of-text token is the largest id of each row."""
        if tokens.ndim != 2 or tokens.shape[1] != self.context_length:
            raise ValueError(
                f"tokens must have shape (B, {self.context_length}), got {tuple(tokens.shape)}; "
                "use hpl.tokenize(texts, context_length=model.context_length)"
            )
        return self.encode_embeddings(self.embed_tokens(tokens), tokens.argmax(dim=-1))

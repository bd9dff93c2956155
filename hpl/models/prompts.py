"""Identity prompts and the hierarchical prompt templates of HPL."""

from __future__ import annotations

import torch
from torch import nn

from hpl.tokenizer import tokenize

PLACEHOLDER = "X"


def _template(num_id_tokens: int, num_pseudo_tokens: int | None) -> str:
    identity = " ".join([PLACEHOLDER] * num_id_tokens)
    if num_pseudo_tokens is None:
        return f"A photo of {identity} person."
    instance = " ".join([PLACEHOLDER] * num_pseudo_tokens)
    return f"A photo of {identity} and {instance} person."


class HierarchicalPrompts(nn.Module):
    """Learnable identity context vectors and the two prompt templates built around them.

    T_id = "A photo of [id] person." and T_h = "A photo of [id] and [inst] person.", where [id] are
    `num_id_tokens` learnable vectors per training label and [inst] are `num_pseudo_tokens` pseudo
    tokens from an inversion network. The fixed words of both templates are stored as token
    embeddings (buffers) taken from the text encoder's vocabulary table by `refresh_templates`.
    """

    def __init__(
        self,
        num_labels: int,
        num_id_tokens: int,
        num_pseudo_tokens: int,
        token_width: int,
        context_length: int,
    ) -> None:
        super().__init__()
        if num_labels < 1 or num_id_tokens < 1 or num_pseudo_tokens < 1:
            raise ValueError(
                "identity prompts need num_labels, num_id_tokens and num_pseudo_tokens >= 1, got "
                f"{num_labels}, {num_id_tokens}, {num_pseudo_tokens}"
            )
        self.num_id_tokens = num_id_tokens
        self.num_pseudo_tokens = num_pseudo_tokens
        self.identity_context = nn.Parameter(torch.empty(num_labels, num_id_tokens, token_width))
        nn.init.normal_(self.identity_context, std=0.02)

        id_tokens = tokenize(_template(num_id_tokens, None), context_length)[0]
        hier_tokens = tokenize(_template(num_id_tokens, num_pseudo_tokens), context_length)[0]
        self.register_buffer("id_template_tokens", id_tokens)
        self.register_buffer("hier_template_tokens", hier_tokens)
        self.register_buffer("id_template", torch.zeros(context_length, token_width))
        self.register_buffer("hier_template", torch.zeros(context_length, token_width))

        id_slots = _placeholder_positions(id_tokens)
        hier_slots = _placeholder_positions(hier_tokens)
        self.id_slots = id_slots  # positions of [id] in T_id
        self.hier_id_slots = hier_slots[:num_id_tokens]  # positions of [id] in T_h
        self.hier_inst_slots = hier_slots[num_id_tokens:]  # positions of [inst] in T_h

    @property
    def num_labels(self) -> int:
        """Number of training identities with a prompt."""
        return self.identity_context.shape[0]

    @torch.no_grad()
    def refresh_templates(self, token_embedding: nn.Embedding) -> None:
        """Embed the fixed template words with `token_embedding` (call after it changes)."""
        self.id_template.copy_(token_embedding(self.id_template_tokens))
        self.hier_template.copy_(token_embedding(self.hier_template_tokens))

    def compose(
        self, labels: torch.Tensor, pseudo_tokens: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Build prompt embeddings (B, L, D) and end-of-text positions (B,) for `labels` (B,).

        Without `pseudo_tokens` this is T_id; with pseudo tokens (B, K, D) it is the hierarchical
        prompt T_h whose instance slots hold them.
        """
        context = self.identity_context[labels]  # (B, n, D)
        if pseudo_tokens is None:
            prompts = self.id_template.expand(labels.shape[0], -1, -1).clone()
            prompts[:, self.id_slots] = context.to(prompts.dtype)
            eot = self.id_template_tokens.argmax()
        else:
            if pseudo_tokens.shape[1] != self.num_pseudo_tokens:
                raise ValueError(
                    f"expected {self.num_pseudo_tokens} pseudo tokens per prompt, got {pseudo_tokens.shape[1]}"
                )
            prompts = self.hier_template.expand(labels.shape[0], -1, -1).clone()
            prompts[:, self.hier_id_slots] = context.to(prompts.dtype)
            prompts[:, self.hier_inst_slots] = pseudo_tokens.to(prompts.dtype)
            eot = self.hier_template_tokens.argmax()
        return prompts, eot.expand(labels.shape[0])


def _placeholder_positions(tokens: torch.Tensor) -> list[int]:
    placeholder_id = tokenize(PLACEHOLDER)[0, 1].item()
    return (tokens == placeholder_id).nonzero().flatten().tolist()

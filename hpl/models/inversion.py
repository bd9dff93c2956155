"""Inversion networks: encoder token sequences to pseudo tokens in the text token-embedding space."""

from __future__ import annotations

import torch
from torch import nn


class InversionNetwork(nn.Module):
    """Map a feature sequence (B, L, E) to K pseudo tokens (B, K, D).

    K learnable query tokens are put in front of the projected input sequence, `depth` pre-norm
    transformer blocks mix them, and the query outputs are projected to the token width D. HPL
    (Zhou et al., AAAI 2026) specifies four ViT-style blocks. The query-token design, the width (D)
    and the input (the encoder's full output sequence) are our choices.
    """

    def __init__(self, input_dim: int, token_width: int, num_tokens: int, depth: int, heads: int) -> None:
        super().__init__()
        if token_width % heads:
            raise ValueError(f"inversion width {token_width} is not divisible by {heads} heads")
        self.input_proj = nn.Linear(input_dim, token_width)
        self.queries = nn.Parameter(torch.randn(num_tokens, token_width) * token_width**-0.5)
        block = nn.TransformerEncoderLayer(
            d_model=token_width,
            nhead=heads,
            dim_feedforward=4 * token_width,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(block, num_layers=depth, enable_nested_tensor=False)
        self.ln_out = nn.LayerNorm(token_width)
        self.output_proj = nn.Linear(token_width, token_width)

    @torch.no_grad()
    def match_output_scale(self, token_rms: float) -> None:
        """Re-initialise the output projection so pseudo tokens start at the scale of real token embeddings.

        `token_rms` is the root mean square of the vocabulary table. Without this, untrained pseudo
        tokens are orders of magnitude larger than the template words around them in a prompt.
        """
        nn.init.normal_(self.output_proj.weight, std=token_rms / self.output_proj.in_features**0.5)
        nn.init.zeros_(self.output_proj.bias)

    @property
    def num_tokens(self) -> int:
        """Number K of pseudo tokens produced per input."""
        return self.queries.shape[0]

    def forward(self, features: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Return pseudo tokens (B, K, D); `padding_mask` (B, L) is True where the input is padding."""
        batch = features.shape[0]
        x = torch.cat([self.queries.expand(batch, -1, -1), self.input_proj(features)], dim=1)
        if padding_mask is not None:
            keep_queries = padding_mask.new_zeros(batch, self.num_tokens)
            padding_mask = torch.cat([keep_queries, padding_mask], dim=1)
        *inner_blocks, last_block = self.blocks.layers
        for block in inner_blocks:
            x = block(x, src_key_padding_mask=padding_mask)
        queries = _query_outputs(last_block, x, self.num_tokens, padding_mask)
        return self.output_proj(self.ln_out(queries))


def _query_outputs(
    block: nn.TransformerEncoderLayer, x: torch.Tensor, num_queries: int, padding_mask: torch.Tensor | None
) -> torch.Tensor:
    """Run a pre-norm encoder block for the first `num_queries` positions of `x` only.

    Only the query positions leave the network, so the last block attends from them alone and skips
    the feed-forward layer of every other position. The result equals the block's full output there.
    """
    source = block.norm1(x)
    attended, _ = block.self_attn(
        source[:, :num_queries], source, source, key_padding_mask=padding_mask, need_weights=False
    )
    queries = x[:, :num_queries] + block.dropout1(attended)
    hidden = block.dropout(block.activation(block.linear1(block.norm2(queries))))
    return queries + block.dropout2(block.linear2(hidden))

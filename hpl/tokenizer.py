"""CLIP byte-pair tokenization with truncation that keeps the end-of-text token last."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch
from open_clip.tokenizer import SimpleTokenizer

DEFAULT_CONTEXT_LENGTH = 77


@dataclass(frozen=True)
class TokenizedTexts:
    """Token ids of a batch of texts and which of them did not fit the context."""

    tokens: torch.Tensor  # (B, L) int64, zero-padded
    truncated: tuple[bool, ...]  # one flag per text


@lru_cache(maxsize=1)
def _clip_tokenizer() -> SimpleTokenizer:
    # The BPE vocabulary ships inside open_clip, so this never touches the network.
    return SimpleTokenizer()


def tokenize_with_report(
    texts: str | Sequence[str], context_length: int = DEFAULT_CONTEXT_LENGTH
) -> TokenizedTexts:
    """Tokenize texts as CLIP does and report which ones were cut to fit `context_length`.

    A text longer than the context keeps its first `context_length - 1` tokens (the start-of-text
    token included) and ends with the end-of-text token, whose position the text encoder pools.
    """
    if isinstance(texts, str):
        texts = [texts]
    if context_length < 3:
        raise ValueError(f"context_length must be at least 3 (start, one word, end), got {context_length}")

    tokenizer = _clip_tokenizer()
    tokens = torch.zeros(len(texts), context_length, dtype=torch.long)
    truncated = []
    for row, text in enumerate(texts):
        ids = [tokenizer.sot_token_id, *tokenizer.encode(text), tokenizer.eot_token_id]
        cut = len(ids) > context_length
        if cut:
            ids = ids[: context_length - 1] + [tokenizer.eot_token_id]
        tokens[row, : len(ids)] = torch.tensor(ids)
        truncated.append(cut)
    return TokenizedTexts(tokens=tokens, truncated=tuple(truncated))


def tokenize(texts: str | Sequence[str], context_length: int = DEFAULT_CONTEXT_LENGTH) -> torch.Tensor:
    """Return CLIP token ids (B, context_length) for `texts`; see `tokenize_with_report`."""
    return tokenize_with_report(texts, context_length).tokens


def eot_token_id() -> int:
    """Return the end-of-text token id, the largest id of the vocabulary."""
    return _clip_tokenizer().eot_token_id

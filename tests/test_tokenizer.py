import torch

from hpl.tokenizer import eot_token_id, tokenize, tokenize_with_report


def test_short_text_not_truncated():
    result = tokenize_with_report(["a woman with a red bag"], context_length=77)
    assert result.truncated == (False,)
    assert result.tokens.shape == (1, 77)
    assert result.tokens[0].argmax().item() > 0


def test_long_text_keeps_eot_last():
    text = " ".join(["walking"] * 200)
    result = tokenize_with_report([text, "short"], context_length=77)
    assert result.truncated == (True, False)
    assert result.tokens[0, -1].item() == eot_token_id()
    assert (result.tokens[0] != 0).all()


def test_unicode_and_html_tokenize():
    tokens = tokenize(["un homme en veste bleue 👕", "<b>red</b> & blue"], context_length=77)
    assert tokens.shape == (2, 77)
    assert torch.equal(tokens.argmax(dim=1) > 0, torch.tensor([True, True]))


def test_context_length_too_small_rejected():
    try:
        tokenize("x", context_length=2)
    except ValueError as err:
        assert "context_length" in str(err)
    else:
        raise AssertionError("context_length=2 should be rejected")

"""Shapes, routing and initialisation of the HPL model on the tiny backbone."""

import pytest
import torch

import hpl
from hpl.models import HPLConfig, create_backbone
from hpl.models.inversion import InversionNetwork
from hpl.tokenizer import tokenize

IMAGE_SIZE = (128, 64)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return hpl.create_model(num_labels=6, image_size=IMAGE_SIZE)


def _images(batch=3):
    return torch.randn(batch, 3, *IMAGE_SIZE)


def test_encode_image_shapes_and_finite(model):
    model.eval()
    features = model.encode_image(_images())
    assert features.i2i.shape == (3, model.embed_dim)
    assert features.t2i.shape == (3, model.embed_dim)
    assert torch.isfinite(features.i2i).all()
    assert torch.isfinite(features.t2i).all()


def test_encode_image_normalize(model):
    model.eval()
    features = model.encode_image(_images(), normalize=True)
    assert torch.allclose(features.i2i.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(features.t2i.norm(dim=-1), torch.ones(3), atol=1e-5)


def test_flip_test_averages_image_and_mirror(model):
    model.eval()
    images = _images()
    with torch.no_grad():
        plain = model.encode_image(images)
        mirrored = model.encode_image(images.flip(-1))
        flipped = model.encode_image(images, flip=True)
        # The flip test of a mirror image is the flip test of the image itself.
        flipped_mirror = model.encode_image(images.flip(-1), flip=True)
    for token in ("i2i", "t2i"):
        views = (getattr(plain, token) + getattr(mirrored, token)) / 2
        assert torch.allclose(getattr(flipped, token), views, atol=1e-5)
        assert torch.allclose(getattr(flipped_mirror, token), getattr(flipped, token), atol=1e-5)
        assert not torch.allclose(getattr(flipped, token), getattr(plain, token), atol=1e-3)


def test_flip_test_follows_the_config():
    torch.manual_seed(0)
    model = hpl.create_model(image_size=IMAGE_SIZE, flip_test=True).eval()
    images = _images()
    with torch.no_grad():
        default = model.encode_image(images, normalize=True)
        flipped = model.encode_image(images, normalize=True, flip=True)
        single = model.encode_image(images, normalize=True, flip=False)
    assert torch.equal(default.i2i, flipped.i2i)
    assert torch.equal(default.t2i, flipped.t2i)
    assert not torch.allclose(default.i2i, single.i2i, atol=1e-3)
    assert HPLConfig.from_dict(model.config.to_dict()).flip_test
    assert not HPLConfig.from_dict({"backbone": "hpl-tiny"}).flip_test  # older checkpoints


def test_encode_text_shape(model):
    tokens = tokenize(["a man in a blue coat", "a girl with a phone"], model.context_length)
    assert model.encode_text(tokens).shape == (2, model.embed_dim)


def test_new_token_starts_as_copy_of_cls(model):
    visual = model.visual
    assert torch.equal(visual.class_embedding_i2i, visual.vit.class_embedding)
    assert torch.equal(visual.positional_embedding_i2i, visual.vit.positional_embedding[0])
    output = visual(_images())
    # Identical tokens at identical positions stay identical through every block.
    assert torch.allclose(output.i2i, output.t2i, atol=1e-5)


def test_sequence_holds_both_class_tokens(model):
    output = model.encode_visual(_images(2))
    rows, cols = model.visual.grid_size
    assert output.sequence.shape == (2, 2 + rows * cols, model.embed_dim)


def test_joint_baseline_has_one_class_token():
    baseline = hpl.create_model(
        num_labels=4, task_routed=False, hierarchical_prompts=False, cmpr=False, image_size=IMAGE_SIZE
    )
    output = baseline.encode_visual(_images(2))
    rows, cols = baseline.visual.grid_size
    assert baseline.visual.num_class_tokens == 1
    assert output.sequence.shape[1] == 1 + rows * cols
    assert torch.equal(output.i2i, output.t2i)
    assert baseline.prompts is None
    assert baseline.image_inversion is None


def test_pseudo_token_paths(model):
    images = _images(2)
    tokens = tokenize(["a man with an umbrella", "a woman seen from the back"], model.context_length)
    labels = torch.tensor([0, 5])

    image_pseudo = model.invert_image(model.encode_visual(images).sequence)
    text_pseudo = model.invert_text(model.encode_text_sequence(tokens))
    k, width = model.config.num_pseudo_tokens, model.text.width
    assert image_pseudo.shape == (2, k, width)
    assert text_pseudo.shape == (2, k, width)

    identity = model.encode_prompts(labels)
    hierarchical = model.encode_prompts(labels, image_pseudo)
    assert identity.shape == hierarchical.shape == (2, model.embed_dim)
    assert not torch.allclose(identity, hierarchical)


def test_text_inversion_ignores_padding(model):
    tokens = tokenize(["a man", "a woman in a long red coat with a black umbrella"], model.context_length)
    text = model.encode_text_sequence(tokens)
    short_eot = int(tokens[0].argmax())
    assert text.padding_mask[0, short_eot + 1 :].all()
    assert not text.padding_mask[1].any()
    changed = text._replace(sequence=text.sequence.clone())
    changed.sequence[0, short_eot + 1 :] += 100.0  # padding positions of the short caption
    assert torch.allclose(model.invert_text(text), model.invert_text(changed), atol=1e-5)


def test_inversion_matches_full_blocks():
    """Computing only the query rows in the last block changes nothing the network returns."""
    torch.manual_seed(0)
    network = InversionNetwork(input_dim=48, token_width=32, num_tokens=4, depth=3, heads=2)
    features = torch.randn(5, 9, 48)
    padding_mask = torch.zeros(5, 9, dtype=torch.bool)
    padding_mask[1, 6:] = True
    padding_mask[3, 2:] = True
    queries = network.queries.expand(5, -1, -1)
    full_mask = torch.cat([torch.zeros(5, 4, dtype=torch.bool), padding_mask], dim=1)
    full = network.blocks(
        torch.cat([queries, network.input_proj(features)], dim=1), src_key_padding_mask=full_mask
    )
    expected = network.output_proj(network.ln_out(full[:, :4]))
    assert torch.allclose(network(features, padding_mask), expected, atol=1e-6)
    assert torch.allclose(network(features), network(features, torch.zeros_like(padding_mask)), atol=1e-6)


def test_prompt_templates_place_slots(model):
    prompts = model.prompts
    assert len(prompts.id_slots) == model.config.num_id_tokens
    assert len(prompts.hier_inst_slots) == model.config.num_pseudo_tokens
    assert max(prompts.hier_id_slots) < min(prompts.hier_inst_slots)


def test_prompt_encoder_is_frozen_copy(model):
    assert all(not p.requires_grad for p in model.prompt_encoder.parameters())
    encoder_weight = model.prompt_encoder.transformer.resblocks[0].attn.in_proj_weight
    text_weight = model.text.transformer.resblocks[0].attn.in_proj_weight
    assert torch.equal(encoder_weight, text_weight)
    assert encoder_weight.data_ptr() != text_weight.data_ptr()


def test_inference_only_model_has_no_heads():
    model = hpl.create_model(num_labels=0, image_size=IMAGE_SIZE)
    assert model.classifier_i2i is None
    assert model.prompts is None
    with pytest.raises(RuntimeError, match="no identity prompts"):
        model.encode_prompts(torch.tensor([0]))


def test_wrong_image_size_rejected(model):
    with pytest.raises(ValueError, match="shape"):
        model.encode_image(torch.randn(1, 3, 224, 224))


def test_config_validation():
    with pytest.raises(ValueError, match="i2i_test_feature"):
        HPLConfig(i2i_test_feature="mean")
    with pytest.raises(ValueError, match="hierarchical_prompts"):
        HPLConfig(hierarchical_prompts=False, cmpr=True)
    with pytest.raises(ValueError, match="unknown HPL config keys"):
        HPLConfig.from_dict({"backbone": "hpl-tiny", "depth": 3})


def test_unknown_backbone_rejected():
    with pytest.raises(ValueError, match="unknown backbone"):
        create_backbone("ViT-Q-99")


def test_missing_weights_file_names_remedies(tmp_path):
    with pytest.raises(FileNotFoundError, match="network access"):
        create_backbone("hpl-tiny", pretrained=str(tmp_path / "missing.safetensors"))


@pytest.mark.parametrize("image_size", [(256, 128), (384, 128)])
def test_non_square_grid(image_size):
    model = hpl.create_model(num_labels=0, image_size=image_size).eval()
    patch_height, patch_width = model.visual.vit.patch_size
    assert model.visual.grid_size == (image_size[0] // patch_height, image_size[1] // patch_width)
    features = model.encode_image(torch.randn(1, 3, *image_size))
    assert features.t2i.shape == (1, model.embed_dim)


def test_trimmed_padding_gives_clip_features():
    """Dropping padding after the last end-of-text token must not change open_clip's text features."""
    torch.manual_seed(4)
    clip = create_backbone("hpl-tiny")
    model = hpl.HPLModel(HPLConfig(), clip).eval()
    tokens = tokenize(["a man", "a woman in a long red coat carrying a black umbrella"], model.context_length)
    assert torch.allclose(model.encode_text(tokens), clip.encode_text(tokens), atol=1e-5)
    sequence = model.encode_text_sequence(tokens).sequence
    assert sequence.shape[1] == int(tokens.argmax(dim=1).max()) + 1

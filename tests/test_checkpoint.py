"""Safetensors checkpoints: exact round trip, pretrained weights from a local file, bad files."""

import pickle

import open_clip
import pytest
import torch
from safetensors.torch import save_file

import hpl
from hpl.checkpoint import checkpoint_fingerprint, read_checkpoint_info

IMAGE_SIZE = (128, 64)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(1)
    model = hpl.create_model(num_labels=5, image_size=IMAGE_SIZE).eval()
    path = tmp_path_factory.mktemp("ckpt") / "model.safetensors"
    hpl.save_checkpoint(model, path, metrics={"i2i_r1": 12.5}, dataset="synthetic")
    return model, path


def test_round_trip_is_exact(saved):
    model, path = saved
    loaded = hpl.load_checkpoint(path)
    original_state, loaded_state = model.state_dict(), loaded.state_dict()
    assert original_state.keys() == loaded_state.keys()
    for name, tensor in original_state.items():
        assert torch.equal(tensor, loaded_state[name]), name

    images = torch.randn(2, 3, *IMAGE_SIZE)
    assert torch.equal(model.encode_image(images).i2i, loaded.encode_image(images).i2i)


def test_metadata_and_config_stored(saved):
    model, path = saved
    info = read_checkpoint_info(path)
    assert info.config == model.config
    assert info.metadata == {"metrics": {"i2i_r1": 12.5}, "dataset": "synthetic"}
    assert hpl.load_checkpoint(path).checkpoint_metadata["dataset"] == "synthetic"


def test_half_precision_checkpoint_loads_as_float32(saved, tmp_path):
    model, _ = saved
    path = hpl.save_checkpoint(model, tmp_path / "half.safetensors", dtype=torch.float16)
    loaded = hpl.load_checkpoint(path)
    assert loaded.visual.vit.conv1.weight.dtype == torch.float32
    expected = model.visual.vit.conv1.weight.half().float()
    assert torch.equal(loaded.visual.vit.conv1.weight, expected)


def test_pickle_file_rejected_without_unpickling(tmp_path):
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="pickle"):
        hpl.load_checkpoint(path)
    assert not marker.exists()

    torch_file = tmp_path / "weights.safetensors"
    torch.save({"w": torch.zeros(2)}, torch_file)
    with pytest.raises(ValueError, match="pickle"):
        hpl.load_checkpoint(torch_file)


def test_header_length_starting_like_a_pickle_loads(saved, tmp_path):
    model, _ = saved
    # Pad the metadata until the header length's first byte is 0x80, the first byte of a pickle stream.
    # Each padding character adds one byte to the header, which safetensors pads to a multiple of 8.
    path = hpl.save_checkpoint(model, tmp_path / "model.safetensors", note="")
    start = (0x80 - path.read_bytes()[0]) % 256
    for padding in range(start, start + 8):
        hpl.save_checkpoint(model, path, note="x" * padding)
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length starting with 0x80")
    assert hpl.load_checkpoint(path).checkpoint_metadata["note"] == "x" * padding


def test_truncated_file_rejected(saved, tmp_path):
    _, path = saved
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated|corrupt|readable"):
        hpl.load_checkpoint(truncated)


def test_empty_and_missing_files_rejected(tmp_path):
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        hpl.load_checkpoint(empty)
    with pytest.raises(FileNotFoundError, match="not found"):
        hpl.load_checkpoint(tmp_path / "nope.safetensors")


def test_plain_safetensors_without_config_rejected(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not an HPL checkpoint"):
        hpl.load_checkpoint(path)


def test_config_that_does_not_match_weights_rejected(saved, tmp_path):
    model, path = saved
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata()
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    header["config"] = header["config"].replace('"num_labels": 5', '"num_labels": 9')
    wrong = tmp_path / "wrong.safetensors"
    save_file(tensors, str(wrong), metadata=header)
    with pytest.raises(ValueError, match="does not match"):
        hpl.load_checkpoint(wrong)


def test_invalid_hf_hub_name_rejected():
    with pytest.raises(ValueError, match="hf-hub:owner/repo"):
        hpl.load_checkpoint("hf-hub:only-owner")


def test_fingerprint_changes_with_weights(saved, tmp_path):
    model, path = saved
    other = hpl.save_checkpoint(
        hpl.create_model(num_labels=5, image_size=IMAGE_SIZE), tmp_path / "o.safetensors"
    )
    assert checkpoint_fingerprint(path) == checkpoint_fingerprint(path)
    assert checkpoint_fingerprint(path) != checkpoint_fingerprint(other)


@pytest.mark.slow
def test_vit_b16_weights_from_local_file(tmp_path):
    """The real-weights path: a random-init ViT-B-16 saved as open_clip weights, then loaded by file."""
    torch.manual_seed(2)
    clip = open_clip.create_model("ViT-B-16", pretrained=None)
    weights = tmp_path / "open_clip_model.safetensors"
    save_file({name: t.contiguous() for name, t in clip.state_dict().items()}, str(weights))

    model = hpl.create_model(backbone="ViT-B-16", pretrained=str(weights), image_size=(256, 128)).eval()
    assert model.visual.grid_size == (16, 8)
    assert torch.equal(model.visual.vit.conv1.weight, clip.visual.conv1.weight)
    assert torch.equal(model.text.token_embedding.weight, clip.token_embedding.weight)
    # The 14x14 positional grid was resized to 16x8; the class position is kept as is.
    assert model.visual.vit.positional_embedding.shape == (1 + 16 * 8, 768)
    assert torch.equal(model.visual.vit.positional_embedding[0], clip.visual.positional_embedding[0])

    tokens = hpl.tokenize(["a person in a black jacket"])
    assert torch.allclose(model.encode_text(tokens), clip.encode_text(tokens), atol=1e-5)
    features = model.encode_image(torch.randn(1, 3, 256, 128))
    assert torch.isfinite(features.t2i).all()

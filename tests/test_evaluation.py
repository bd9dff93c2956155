"""The shared evaluation: both protocols on files, and the class tokens' cosine."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

import hpl
from hpl.data.records import ImageRecord
from hpl.data.transforms import build_test_transform
from hpl.evaluation import evaluate_model, extract_image_features, mean_token_cosine

IMAGE_SIZE = (128, 64)


def _records(folder, count, pid_of=lambda i: i % 3, camid_of=lambda i: i % 2):
    rng = np.random.default_rng(0)
    records = []
    for index in range(count):
        path = folder / f"{index:03d}.jpg"
        pixels = rng.integers(0, 256, size=(*IMAGE_SIZE, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)
        records.append(
            ImageRecord(str(path), pid=pid_of(index), camid=camid_of(index), captions=("a person",))
        )
    return records


def _model(task_routed=True, flip_test=False):
    torch.manual_seed(0)
    return hpl.create_model(num_labels=3, image_size=IMAGE_SIZE, task_routed=task_routed, flip_test=flip_test)


def _token_cosine(model, records, batch_size=128):
    return mean_token_cosine(extract_image_features(model, records, _transform(model), batch_size))


def _transform(model):
    return build_test_transform(model.image_size, model.image_mean, model.image_std)


def _direct_cosine(model, records):
    transform = _transform(model)
    images = torch.stack([transform(Image.open(record.path).convert("RGB")) for record in records])
    with torch.no_grad():
        output = model.eval().encode_visual(images)
    return float(torch.nn.functional.cosine_similarity(output.i2i, output.t2i, dim=-1).mean())


def test_token_cosine_copied_and_moved_token(tmp_path):
    model = _model()
    records = _records(tmp_path, 5)
    model.visual.reset_i2i_token()
    assert _token_cosine(model, records, batch_size=2) == pytest.approx(1.0, abs=1e-5)

    with torch.no_grad():
        model.visual.class_embedding_i2i.add_(torch.randn_like(model.visual.class_embedding_i2i))
    moved = _token_cosine(model, records, batch_size=2)
    assert moved < 0.999
    assert moved == pytest.approx(_direct_cosine(model, records), abs=1e-5)


def test_token_cosine_ignores_flip_test(tmp_path):
    model = _model(flip_test=True).eval()
    with torch.no_grad():
        model.visual.class_embedding_i2i.add_(torch.randn_like(model.visual.class_embedding_i2i))
    records = _records(tmp_path, 3)
    assert _token_cosine(model, records) == pytest.approx(_direct_cosine(model, records), abs=1e-5)

    images = torch.randn(2, 3, *IMAGE_SIZE)
    with torch.no_grad():
        features, _ = model.encode_image_with_tokens(images, normalize=True)
        plain = model.encode_image(images, normalize=True)
    assert torch.equal(features.i2i, plain.i2i)
    assert torch.equal(features.t2i, plain.t2i)


def test_token_cosine_unreadable_images(tmp_path):
    model = _model()
    with torch.no_grad():
        model.visual.class_embedding_i2i.add_(torch.randn_like(model.visual.class_embedding_i2i))
    records = _records(tmp_path, 4)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    mixed = [*records[:2], ImageRecord(str(broken), pid=0), *records[2:]]

    model.train()
    cosine = _token_cosine(model, mixed, batch_size=3)
    assert model.training
    assert cosine == pytest.approx(_direct_cosine(model, records), abs=1e-5)
    only_broken = _token_cosine(model, [ImageRecord(str(broken), pid=0)])
    assert math.isnan(only_broken)


def test_evaluate_model_token_cosine_routing(tmp_path):
    query = _records(tmp_path, 3, camid_of=lambda i: 0)
    gallery_folder = tmp_path / "gallery"
    gallery_folder.mkdir()
    gallery = _records(gallery_folder, 6, camid_of=lambda i: 1)
    routed = _model()
    evaluation = evaluate_model(routed, _transform(routed), query, gallery, t2i_test=gallery)
    assert set(evaluation.results) == {"I2I", "T2I"}
    assert evaluation.token_cosine == pytest.approx(_direct_cosine(routed, gallery), abs=1e-5)
    metrics = evaluation.metrics()
    assert metrics["token_cosine"] == round(evaluation.token_cosine, 4)
    assert {"I2I_r1", "I2I_map", "T2I_r1", "T2I_minp"} <= set(metrics)
    assert "class tokens: mean cosine" in evaluation.format()

    joint = _model(task_routed=False)
    evaluation = evaluate_model(joint, _transform(joint), query, gallery)
    assert set(evaluation.results) == {"I2I"}
    assert evaluation.token_cosine is None
    assert "token_cosine" not in evaluation.metrics()
    assert "cosine" not in evaluation.format()

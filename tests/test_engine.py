"""ReIDEngine on random-init tiny models: search against brute force, the index cache, bad input."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from gallery_helpers import (
    NUM_CAMERAS,
    NUM_PIDS,
    draw_person,
    make_gallery,
    market_name,
    save_tiny_checkpoint,
)
from PIL import Image
from safetensors.torch import save_file

from hpl.data.images import ImageLoadError
from hpl.engine import ReIDEngine
from hpl.index_cli import main as index_main
from hpl.models.backbone import register_model_configs

GALLERY_SIZE = NUM_PIDS * NUM_CAMERAS


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", training_data="none")


@pytest.fixture(scope="module")
def other_checkpoint(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt2") / "other.safetensors", seed=1)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory) -> Path:
    """A shared gallery that no test changes."""
    return make_gallery(tmp_path_factory.mktemp("shared") / "gallery")


@pytest.fixture()
def own_gallery(tmp_path) -> Path:
    """A gallery that the test may change."""
    return make_gallery(tmp_path / "gallery")


@pytest.fixture(scope="module")
def engine(checkpoint, gallery, tmp_path_factory) -> ReIDEngine:
    return ReIDEngine.from_checkpoint(
        checkpoint, gallery=gallery, cache_root=tmp_path_factory.mktemp("cache")
    )


@pytest.fixture()
def own_engine(checkpoint, gallery, tmp_path) -> ReIDEngine:
    """An engine whose gallery the test may extend."""
    return ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, cache_root=tmp_path / "cache")


def _brute_force_order(query: np.ndarray, gallery: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = gallery @ query
    order = np.argsort(-scores, kind="stable")
    return order, scores[order]


def test_text_search_matches_brute_force(engine, gallery):
    paths = engine.gallery_paths()
    embedded = engine.embed_files(paths)
    query, _ = engine.encode_query_text("a person in a red shirt")

    response = engine.search_text("a person in a red shirt", k=5)

    order, scores = _brute_force_order(query.numpy(), embedded.t2i)
    assert [r.path for r in response.results] == [paths[i] for i in order[:5]]
    assert [r.score for r in response.results] == pytest.approx(scores[:5].tolist(), abs=1e-5)
    assert [r.rank for r in response.results] == [1, 2, 3, 4, 5]


def test_image_search_matches_brute_force(engine, gallery):
    paths = engine.gallery_paths()
    embedded = engine.embed_files(paths)
    query_path = gallery / market_name(2, 1)
    query = engine.encode_query_image(query_path)

    response = engine.search_image(query_path, k=GALLERY_SIZE)

    order, scores = _brute_force_order(query.numpy(), embedded.i2i)
    assert paths[order[0]] == str(query_path)  # the photo is its own nearest neighbour...
    kept = order[1:]  # ...so the engine leaves the identical file out
    assert [r.path for r in response.results] == [paths[i] for i in kept]
    assert [r.score for r in response.results] == pytest.approx(scores[1:].tolist(), abs=1e-5)
    assert [r.rank for r in response.results] == list(range(1, GALLERY_SIZE))
    assert any("left out" in message for message in response.messages)


def test_query_bytes_from_gallery_left_out(engine, gallery):
    query_path = gallery / market_name(3, 0)
    response = engine.search_image(query_path.read_bytes(), k=5)
    assert len(response.results) == 5
    assert str(query_path) not in [r.path for r in response.results]


def test_distractors_not_counted_as_identities(checkpoint, tmp_path):
    folder = make_gallery(tmp_path / "with-distractors", num_pids=2, num_cameras=2)
    draw_person(7, 0).save(folder / "0000_c1s1_000001_01.jpg")
    engine = ReIDEngine.from_checkpoint(checkpoint, gallery=folder, cache_root=tmp_path / "cache")
    stats = engine.stats()
    assert stats.num_images == 5
    assert stats.num_identities == 2


def test_results_carry_pid_camid(engine, gallery):
    response = engine.search_text("a person", k=GALLERY_SIZE)
    labels = {(Path(r.path).name, r.pid, r.camid) for r in response.results}
    expected = {(market_name(p, c), p, c) for p in range(1, NUM_PIDS + 1) for c in range(NUM_CAMERAS)}
    assert labels == expected


def test_features_l2_normalised(engine):
    embedded = engine.embed_files(engine.gallery_paths())
    assert np.linalg.norm(embedded.i2i, axis=1) == pytest.approx(np.ones(GALLERY_SIZE), abs=1e-5)
    assert np.linalg.norm(embedded.t2i, axis=1) == pytest.approx(np.ones(GALLERY_SIZE), abs=1e-5)


def test_cache_reused_without_reembedding(checkpoint, gallery, tmp_path):
    first = ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, cache_root=tmp_path / "cache")
    second = ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, cache_root=tmp_path / "cache")

    assert first.encode_calls > 0
    assert not first.stats().loaded_from_cache
    assert second.encode_calls == 0
    assert second.stats().loaded_from_cache
    assert second.stats().num_images == GALLERY_SIZE
    assert second.search_text("a man", k=3) == first.search_text("a man", k=3)


def test_other_checkpoint_rebuilds(checkpoint, other_checkpoint, gallery, tmp_path, caplog):
    index_dir = tmp_path / "index"
    ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, index_dir=index_dir)
    with caplog.at_level(logging.WARNING, logger="hpl.engine"):
        other = ReIDEngine.from_checkpoint(other_checkpoint, gallery=gallery, index_dir=index_dir)

    assert other.encode_calls > 0
    assert not other.stats().loaded_from_cache
    assert "rebuilding the gallery index" in caplog.text
    assert "checkpoint" in caplog.text


def test_changed_folder_rebuilds(checkpoint, own_gallery, tmp_path, caplog):
    ReIDEngine.from_checkpoint(checkpoint, gallery=own_gallery, cache_root=tmp_path / "cache")
    draw_person(9, 0).save(own_gallery / market_name(9, 0))
    with caplog.at_level(logging.WARNING, logger="hpl.engine"):
        engine = ReIDEngine.from_checkpoint(checkpoint, gallery=own_gallery, cache_root=tmp_path / "cache")

    assert engine.encode_calls > 0
    assert engine.stats().num_images == GALLERY_SIZE + 1
    assert "another version of the gallery folder" in caplog.text


def test_corrupt_files_skipped_and_counted(checkpoint, own_gallery, tmp_path):
    gallery = own_gallery
    (gallery / "0001_c1s1_000999_01.jpg").write_bytes(b"")
    (gallery / "notes.png").write_text("not an image")
    truncated = io.BytesIO()
    draw_person(1, 0).save(truncated, format="JPEG")
    (gallery / "0002_c1s1_000999_01.jpg").write_bytes(truncated.getvalue()[:200])

    engine = ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, cache_root=tmp_path / "cache")
    stats = engine.stats()

    assert stats.num_images == GALLERY_SIZE
    assert stats.num_skipped == 3
    assert any("notes.png" in line for line in stats.skipped)
    assert any("empty" in line for line in stats.skipped)

    reloaded = ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, cache_root=tmp_path / "cache")
    assert reloaded.encode_calls == 0
    assert reloaded.stats().num_skipped == 3


def test_non_finite_features_rejected(engine, gallery, monkeypatch):
    original = engine._encode_batch

    def poisoned(images):
        features = original(images)
        features.i2i[0, 0] = np.nan
        return features

    monkeypatch.setattr(engine, "_encode_batch", poisoned)
    embedded = engine.embed_files(engine.gallery_paths()[:3])

    assert len(embedded.paths) == 2
    assert embedded.skipped[0].endswith("non-finite features")
    assert np.isfinite(embedded.i2i).all()


def test_k_larger_than_gallery(engine):
    response = engine.search_text("someone", k=1000)
    assert len(response.results) == GALLERY_SIZE
    assert any("all of them are shown" in message for message in response.messages)
    assert all(r.pid >= 1 for r in response.results)


def test_invalid_k_rejected(engine):
    for k in (0, -3, 2.5):
        with pytest.raises(ValueError, match="k must be a whole number"):
            engine.search_text("someone", k=k)


def test_empty_gallery(checkpoint, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    engine = ReIDEngine.from_checkpoint(checkpoint, gallery=empty, cache_root=tmp_path / "cache")

    response = engine.search_text("someone", k=5)

    assert response.results == ()
    assert "gallery is empty" in response.messages[-1]
    assert engine.search_image(draw_person(1, 0), k=5).results == ()


def test_one_image_gallery(checkpoint, tmp_path):
    make_gallery(tmp_path / "one", num_pids=1, num_cameras=1)
    engine = ReIDEngine.from_checkpoint(checkpoint, gallery=tmp_path / "one", cache_root=tmp_path / "cache")
    query = tmp_path / market_name(1, 1)
    draw_person(1, 1).save(query)
    response = engine.search_image(query, k=10)
    assert len(response.results) == 1
    assert response.results[0].pid == 1


def test_empty_text_rejected(engine):
    for text in ("", "   \n\t"):
        with pytest.raises(ValueError, match="query text is empty"):
            engine.search_text(text, k=3)


def test_long_text_truncated(engine):
    response = engine.search_text("a person wearing a very long coat " * 40, k=3)
    assert len(response.results) == 3
    assert any("truncated to 77 tokens" in message for message in response.messages)


def test_unusual_text_searches(engine):
    for text in (
        "Frau mit rotem Mantel, Größe L",
        "行人 穿着红色外套 🧥👜",
        "<script>alert(1)</script> & <b>",
    ):
        response = engine.search_text(text, k=2)
        assert len(response.results) == 2
        assert response.messages == ()


def test_query_image_sources(engine, tmp_path):
    path = tmp_path / "query.jpg"
    draw_person(1, 0).convert("L").convert("RGB").save(path)  # not a file of the gallery
    by_path = engine.search_image(path, k=3)
    by_bytes = engine.search_image(path.read_bytes(), k=3)
    by_pil = engine.search_image(Image.open(path), k=3)
    assert by_path.results == by_bytes.results
    assert by_path.results == by_pil.results


def test_query_image_modes(engine):
    person = draw_person(2, 0)
    rgba = person.convert("RGBA")
    sixteen_bit = Image.fromarray(np.asarray(person.convert("L"), dtype=np.uint16) * 257)
    for image in (person.convert("L"), rgba, person.convert("CMYK"), person.convert("P"), sixteen_bit):
        assert len(engine.search_image(image, k=2).results) == 2


def test_bad_query_image_rejected(engine, tmp_path):
    with pytest.raises(ImageLoadError, match="empty"):
        engine.search_image(b"", k=3)
    with pytest.raises(ImageLoadError, match="not a supported image"):
        engine.search_image(b"plain text, not pixels", k=3)
    with pytest.raises(FileNotFoundError):
        engine.search_image(tmp_path / "missing.jpg", k=3)


def test_add_images_to_gallery(own_engine, tmp_path):
    engine = own_engine
    extra = tmp_path / "extra"
    extra.mkdir()
    for camid in range(2):
        draw_person(7, camid).save(extra / market_name(7, camid))
    broken = tmp_path / "extra" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 broken")

    stats = engine.add_images([*sorted(extra.glob("0*.jpg")), broken])

    assert stats.num_images == GALLERY_SIZE + 2
    assert stats.num_skipped == 1
    assert engine.search_image(extra / market_name(7, 1), k=1).results[0].path == str(
        extra / market_name(7, 1)
    )


def test_explain_returns_maps_and_panel(engine, gallery):
    explanation = engine.explain(
        gallery / market_name(1, 0), text="a man in red", reference_image=gallery / market_name(1, 1)
    )
    assert explanation.maps.i2i.shape == (128, 64)
    assert explanation.image.shape == (128, 64, 3)
    assert explanation.panel.width == 4 * 2 * 64
    assert explanation.panel.height > 2 * 128
    assert explanation.messages == ()


def test_progress_callback_reports_all(checkpoint, gallery, tmp_path):
    calls = []
    engine = ReIDEngine.from_checkpoint(checkpoint, batch_size=5)
    engine.index_folder(
        gallery, index_dir=tmp_path / "index", progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (GALLERY_SIZE, GALLERY_SIZE)
    assert len(calls) == 3


def test_zero_shot_backbone_from_file(gallery, tmp_path):
    register_model_configs()
    torch.manual_seed(0)
    clip = open_clip.create_model("hpl-tiny", force_image_size=(128, 64))
    weights = tmp_path / "clip-tiny.safetensors"
    save_file({name: tensor.contiguous() for name, tensor in clip.state_dict().items()}, str(weights))

    engine = ReIDEngine.from_backbone("hpl-tiny", str(weights), image_size=(128, 64), gallery=gallery)
    embedded = engine.embed_files(engine.gallery_paths()[:2])

    assert engine.model_info()["mode"] == "zero-shot"
    torch.testing.assert_close(engine.model.visual.vit.conv1.weight, clip.visual.conv1.weight)
    assert np.allclose(embedded.i2i, embedded.t2i, atol=1e-5), "both tokens start from CLIP's class token"
    assert len(engine.search_text("a person", k=3).results) == 3


def test_real_market_photos(checkpoint, market_sample, tmp_path):
    engine = ReIDEngine.from_checkpoint(
        checkpoint, gallery=market_sample / "bounding_box_test", cache_root=tmp_path / "cache"
    )
    query = sorted((market_sample / "query").glob("*.jpg"))[0]

    by_photo = engine.search_image(query, k=10)
    by_text = engine.search_text("a man wearing a dark jacket and jeans", k=10)

    assert engine.stats().num_images == len(list((market_sample / "bounding_box_test").glob("*.jpg")))
    assert len(by_photo.results) == 10
    assert len(by_text.results) == 10
    for result in (*by_photo.results, *by_text.results):
        name = Path(result.path).name
        assert result.pid == int(name.split("_")[0])
        assert result.camid == int(name.split("_")[1][1]) - 1


def test_index_cli_build_and_search(checkpoint, gallery, tmp_path, capsys):
    out = tmp_path / "cli-index"
    assert (
        index_main(["build", "--checkpoint", str(checkpoint), "--gallery", str(gallery), "--out", str(out)])
        == 0
    )
    assert (out / "manifest.json").is_file()

    code = index_main(
        ["search", "--index", str(out), "--checkpoint", str(checkpoint), "--text", "a man", "-k", "3"]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[-4].split() == ["rank", "score", "pid", "camid", "path"]
    assert len(lines[-3:]) == 3


def test_index_cli_rejects_other_checkpoint(checkpoint, other_checkpoint, gallery, tmp_path, capsys):
    out = tmp_path / "cli-index"
    index_main(["build", "--checkpoint", str(checkpoint), "--gallery", str(gallery), "--out", str(out)])
    code = index_main(
        ["search", "--index", str(out), "--checkpoint", str(other_checkpoint), "--text", "a man"]
    )
    assert code == 2
    assert "rebuild the index with this checkpoint" in capsys.readouterr().err

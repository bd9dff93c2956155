"""Tests of the synthetic persons generator on tiny outputs (about 15 people, 150 images)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from hpl.data import synthetic
from hpl.data.synthetic import MARKET_NAME_PATTERN, SYNONYMS, generate, make_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
TINY = {"num_ids": 14, "num_junk": 3, "num_distractors": 4}


def _generate_tiny(out: Path, **overrides: Any) -> synthetic.SyntheticSummary:
    return generate(out, **{"preset": "demo", "seed": 0, **TINY, **overrides})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "out"
    _generate_tiny(out)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def _attributes(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / "attributes.jsonl").read_text(encoding="utf-8").splitlines()]


def _truth(root: Path) -> dict[str, Any]:
    return json.loads((root / "truth.json").read_text(encoding="utf-8"))


def _reid_raw(root: Path) -> list[dict[str, Any]]:
    return json.loads((root / "CUHK-PEDES" / "reid_raw.json").read_text(encoding="utf-8"))


def _market_files(root: Path, folder: str) -> list[str]:
    return sorted(path.name for path in (root / "Market-1501" / folder).iterdir())


# ---------------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------------


def test_same_seed_same_bytes(tiny: Path, tmp_path: Path) -> None:
    _generate_tiny(tmp_path / "again")
    first, second = _files(tiny), _files(tmp_path / "again")
    assert sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_different_seed_differs(tiny: Path, tmp_path: Path) -> None:
    _generate_tiny(tmp_path / "other", seed=1)
    assert (tmp_path / "other" / "attributes.jsonl").read_bytes() != (tiny / "attributes.jsonl").read_bytes()
    first = [record["identity"] for record in _attributes(tiny)]
    second = [record["identity"] for record in _attributes(tmp_path / "other")]
    assert first != second


def test_workers_same_bytes(tiny: Path, tmp_path: Path) -> None:
    _generate_tiny(tmp_path / "parallel", workers=2)
    assert _files(tmp_path / "parallel") == _files(tiny)


# ---------------------------------------------------------------------------------------------------
# Market-1501 part
# ---------------------------------------------------------------------------------------------------


def test_market_names_match_pattern(tiny: Path) -> None:
    for folder in ("bounding_box_train", "bounding_box_test", "query"):
        names = _market_files(tiny, folder)
        assert names, folder
        for name in names:
            match = MARKET_NAME_PATTERN.match(name)
            assert match, name
            assert 1 <= int(match.group(2)) <= 6, name
            is_query_box = match.group(5) == "00"
            assert is_query_box == (folder == "query"), name


def test_market_images_are_128x64_jpeg(tiny: Path) -> None:
    for path in list((tiny / "Market-1501" / "query").iterdir())[:5]:
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.mode == "RGB"
            assert image.size == (64, 128)


def test_junk_and_distractors_only_in_gallery(tiny: Path) -> None:
    gallery = _market_files(tiny, "bounding_box_test")
    assert sum(name.startswith("-1_") for name in gallery) == 3
    assert sum(name.startswith("0000_") for name in gallery) == 4
    for folder in ("bounding_box_train", "query"):
        assert not any(name.startswith(("-1_", "0000_")) for name in _market_files(tiny, folder))


def test_train_and_test_pids_disjoint(tiny: Path) -> None:
    train = {name[:4] for name in _market_files(tiny, "bounding_box_train")}
    test = {name[:4] for name in _market_files(tiny, "query")}
    assert train
    assert test
    assert not train & test


def test_queries_have_cross_camera_positives(tiny: Path) -> None:
    gallery_cameras: dict[str, set[str]] = defaultdict(set)
    for name in _market_files(tiny, "bounding_box_test"):
        gallery_cameras[name.split("_")[0]].add(name.split("_")[1][1])
    same_camera_positives = 0
    for name in _market_files(tiny, "query"):
        pid, camera = name.split("_")[0], name.split("_")[1][1]
        assert gallery_cameras[pid] - {camera}, f"{name} has no gallery image from another camera"
        same_camera_positives += camera in gallery_cameras[pid]
    assert same_camera_positives > 0  # the protocol's same-camera removal is exercised


# ---------------------------------------------------------------------------------------------------
# CUHK-PEDES part
# ---------------------------------------------------------------------------------------------------


def test_reid_raw_schema(tiny: Path) -> None:
    entries = _reid_raw(tiny)
    assert entries
    for entry in entries:
        assert set(entry) == {"split", "captions", "file_path", "processed_tokens", "id"}
        assert entry["split"] in ("train", "val", "test")
        assert isinstance(entry["id"], int)
        assert entry["id"] >= 1
        assert 1 <= len(entry["captions"]) <= 2
        assert len(entry["processed_tokens"]) == len(entry["captions"])
        assert (tiny / "CUHK-PEDES" / "imgs" / entry["file_path"]).is_file(), entry["file_path"]
        assert entry["file_path"].startswith(("Market/", "SYN/"))
        for caption, tokens in zip(entry["captions"], entry["processed_tokens"], strict=True):
            assert tokens == synthetic.tokenize_caption(caption)


def test_cuhk_ids_contiguous_per_split(tiny: Path) -> None:
    ids_by_split: dict[str, set[int]] = defaultdict(set)
    for entry in _reid_raw(tiny):
        ids_by_split[entry["split"]].add(entry["id"])
    train, val, test = (
        sorted(ids_by_split["train"]),
        sorted(ids_by_split["val"]),
        sorted(ids_by_split["test"]),
    )
    assert train == list(range(1, len(train) + 1))
    assert val == list(range(len(train) + 1, len(train) + len(val) + 1))
    assert test[0] == len(train) + len(val) + 1
    assert test == list(range(test[0], test[0] + len(test)))


def test_shared_images_identical_in_both(tiny: Path) -> None:
    shared = [key for person in _truth(tiny)["persons"] for key in person["shared_keys"]]
    assert shared
    market_paths = {path.name: path for path in (tiny / "Market-1501").rglob("*.jpg")}
    cuhk_paths = {entry["file_path"] for entry in _reid_raw(tiny)}
    for key in shared:
        assert f"Market/{key}" in cuhk_paths, key
        copy = tiny / "CUHK-PEDES" / "imgs" / "Market" / key
        assert copy.read_bytes() == market_paths[key].read_bytes(), key


# ---------------------------------------------------------------------------------------------------
# Truth and attributes
# ---------------------------------------------------------------------------------------------------


def test_truth_matches_file_labels(tiny: Path) -> None:
    persons = {person["person"]: person for person in _truth(tiny)["persons"]}
    for record in _attributes(tiny):
        if record["kind"] != "person":
            continue
        person = persons[record["person"]]
        if record["market_folder"] is not None:
            assert int(record["key"][:4]) == person["market_pid"], record["key"]
            expected_split = "train" if record["market_folder"] == "bounding_box_train" else "test"
            assert person["market_split"] == expected_split, record["key"]
        if record["cuhk_split"] is not None:
            assert record["cuhk_id"] == person["cuhk_id"]
            assert record["cuhk_split"] == person["cuhk_split"]
    cuhk_id_of_path = {entry["file_path"]: entry["id"] for entry in _reid_raw(tiny)}
    for record in _attributes(tiny):
        if record["cuhk_file_path"] is not None:
            assert cuhk_id_of_path[record["cuhk_file_path"]] == persons[record["person"]]["cuhk_id"]


def test_truth_covers_every_group(tiny: Path) -> None:
    persons = _truth(tiny)["persons"]
    groups = {person["group"] for person in persons}
    assert "market_test_in_cuhk_train" in groups
    assert "cuhk_test_in_market_train" in groups
    for person in persons:
        both = person["market_pid"] is not None and person["cuhk_id"] is not None
        assert bool(person["shared_keys"]) == both, person["person"]
    leaked = [person for person in persons if person["group"] == "market_test_in_cuhk_train"]
    assert all(person["market_split"] == "test" and person["cuhk_split"] == "train" for person in leaked)


def test_identity_fixed_instances_vary(tiny: Path) -> None:
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in _attributes(tiny):
        if record["kind"] == "person":
            by_person[record["person"]].append(record)
    checked = 0
    for records in by_person.values():
        identities = {json.dumps(record["identity"], sort_keys=True) for record in records}
        assert len(identities) == 1
        if len(records) >= 6:
            for name in ("view", "phase", "camid"):
                assert len({record["instance"][name] for record in records}) > 1, name
            checked += 1
    assert checked > 0


# ---------------------------------------------------------------------------------------------------
# Captions
# ---------------------------------------------------------------------------------------------------

_COLOUR_ATTRIBUTES = {
    "hair_colour",
    "upper_colour",
    "pattern_colour",
    "lower_colour",
    "shoes_colour",
    "bag_colour",
    "headwear_colour",
    "held_colour",
}


def _check_english(caption: str) -> None:
    assert caption.isascii(), caption
    assert caption[0].isupper(), caption
    assert caption.endswith("."), caption
    assert "  " not in caption, caption
    assert " ," not in caption, caption
    for article, word in re.findall(r"\b(a|an) ([a-zA-Z]+)", caption):
        expected = "an" if word[0].lower() in "aeiou" else "a"
        assert article == expected, f"{article} {word} in {caption!r}"


def test_captions_are_plain_english(tiny: Path) -> None:
    captions = [caption for entry in _reid_raw(tiny) for caption in entry["captions"]]
    assert captions
    for caption in captions:
        _check_english(caption)
        assert len(caption.split()) >= 5, caption


def test_captions_name_drawn_attributes(tiny: Path) -> None:
    checked = 0
    for record in _attributes(tiny):
        truth = {**(record["identity"] or {}), **record["instance"]}
        for caption, facts in zip(record["captions"], record["caption_facts"], strict=True):
            assert facts, caption
            for fact in facts:
                attribute = fact["attribute"]
                if attribute in truth:  # "build" is derived from height and width, so it is not stored
                    assert fact["value"] == truth[attribute], (attribute, caption)
                if fact["value"] in SYNONYMS and attribute not in _COLOUR_ATTRIBUTES:
                    assert fact["stated"] in SYNONYMS[fact["value"]], (attribute, caption)
                else:
                    assert fact["stated"] == fact["value"], (
                        attribute,
                        caption,
                    )  # demo captions make no mistakes
                if attribute in _COLOUR_ATTRIBUTES or fact["value"] in SYNONYMS:
                    assert fact["stated"] in caption, (attribute, caption)
                checked += 1
    assert checked > 50


def test_captions_often_name_instance_details(tiny: Path) -> None:
    facts = [fact for record in _attributes(tiny) for facts in record["caption_facts"] for fact in facts]
    views = [fact for fact in facts if fact["attribute"] == "view"]
    captions = sum(len(record["captions"]) for record in _attributes(tiny))
    assert len(views) >= captions * 0.5


def test_back_view_captions_hide_face_details(tiny: Path) -> None:
    for record in _attributes(tiny):
        if record["instance"]["view"] != "back":
            continue
        for caption in record["captions"]:
            assert "glasses" not in caption, caption
            assert "logo" not in caption, caption


def test_colour_errors_are_recorded(tmp_path: Path) -> None:
    _generate_tiny(tmp_path / "noisy", caption_colour_error_rate=1.0, num_ids=10)
    colour_facts = [
        (fact, caption)
        for record in _attributes(tmp_path / "noisy")
        for caption, facts in zip(record["captions"], record["caption_facts"], strict=True)
        for fact in facts
        if fact["attribute"] in _COLOUR_ATTRIBUTES
    ]
    assert colour_facts
    for fact, caption in colour_facts:
        assert fact["stated"] != fact["value"], caption
        assert fact["stated"] in caption, caption


# ---------------------------------------------------------------------------------------------------
# Settings, presets, readers and CLI
# ---------------------------------------------------------------------------------------------------


def test_make_settings_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        make_settings("huge")
    with pytest.raises(ValueError, match="unknown synthetic setting"):
        make_settings("demo", occlusion=0.5)
    with pytest.raises(ValueError, match="market_test_cameras"):
        make_settings("demo", market_test_cameras=(1, 3))
    with pytest.raises(ValueError, match="occlusion_rate"):
        make_settings("demo", occlusion_rate=1.5)
    with pytest.raises(ValueError, match="camera_lighting_strength"):
        make_settings("demo", camera_lighting_strength=1.5)
    with pytest.raises(ValueError, match="backgrounds_per_camera"):
        make_settings("demo", backgrounds_per_camera=0)


def test_presets_differ_in_difficulty() -> None:
    demo, benchmark = make_settings("demo"), make_settings("benchmark")

    def t2i_test_ids(settings: synthetic.SyntheticSettings) -> int:
        return settings.cuhk_only_test_ids + settings.shared_test_ids + settings.cuhk_test_in_market_train_ids

    assert t2i_test_ids(demo) == 100
    assert t2i_test_ids(benchmark) == 330
    assert benchmark.uniform_fraction > demo.uniform_fraction
    assert benchmark.caption_attribute_rate < demo.caption_attribute_rate
    assert benchmark.caption_colour_error_rate > demo.caption_colour_error_rate
    assert benchmark.occlusion_rate > demo.occlusion_rate
    assert benchmark.low_res_rate > demo.low_res_rate
    assert demo.shared_backgrounds
    assert not benchmark.shared_backgrounds
    assert benchmark.camera_lighting_strength > demo.camera_lighting_strength


def test_lighting_strength_scales_offsets() -> None:
    camera = synthetic.make_cameras(0, 2)[0]
    assert synthetic.with_lighting_strength(camera, 1.0) == camera
    neutral = synthetic.with_lighting_strength(camera, 0.0)
    assert (neutral.brightness, neutral.contrast, neutral.cast) == (1.0, 1.0, (1.0, 1.0, 1.0))
    half = synthetic.with_lighting_strength(camera, 0.5)
    assert half.brightness == pytest.approx((1.0 + camera.brightness) / 2, abs=1e-3)


@pytest.mark.parametrize("shared", [False, True], ids=["own-camera", "shared"])
def test_background_views(shared: bool) -> None:
    from hpl.data.synthetic.writer import _background_view

    cameras = synthetic.make_cameras(0, 6)
    settings = make_settings("benchmark", backgrounds_per_camera=3, shared_backgrounds=shared)
    picks = [
        _background_view(SimpleNamespace(render_seed=seed), cameras[2], cameras, settings)
        for seed in range(200)
    ]
    assert {view for _, view in picks} == {0, 1, 2}
    sources = {camera.camid for camera, _ in picks}
    assert sources == ({1, 2, 3, 4, 5, 6} if shared else {3})


def test_uniform_groups_differ_in_few_details() -> None:
    settings = make_settings("benchmark", num_ids=60)
    plan = synthetic.plan_dataset(settings, seed=3)
    groups: dict[int, list[synthetic.Identity]] = defaultdict(list)
    for person in plan.persons:
        if person.identity.uniform_group is not None:
            groups[person.identity.uniform_group].append(person.identity)
    assert groups
    for members in groups.values():
        base = members[0]
        for member in members[1:]:
            differing = {
                name
                for name in (
                    "upper_type",
                    "upper_colour",
                    "lower_type",
                    "shoes_type",
                    "bag_type",
                    "hair_style",
                    "skin_tone",
                )
                if getattr(member, name) != getattr(base, name)
            }
            assert base.upper_type == member.upper_type
            assert base.upper_colour == member.upper_colour
            assert len(differing) <= 2, differing


def test_generate_keeps_foreign_folders(tmp_path: Path) -> None:
    real = tmp_path / "Market-1501" / "query"
    real.mkdir(parents=True)
    (real / "0001_c1s1_000001_00.jpg").write_bytes(b"real data")
    with pytest.raises(FileExistsError, match="not written by this generator"):
        _generate_tiny(tmp_path, num_ids=10)
    assert (real / "0001_c1s1_000001_00.jpg").read_bytes() == b"real data"


def test_generate_replaces_own_output(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "twice"
    _generate_tiny(out, num_ids=10)
    _generate_tiny(out, num_ids=10, seed=2)
    assert _truth(out)["seed"] == 2
    on_disk = {path.name for path in (out / "Market-1501").rglob("*.jpg")}
    planned = {record["key"] for record in _attributes(out) if record["market_folder"]}
    assert on_disk == planned


def test_readers_load_output(tiny: Path) -> None:
    from hpl.data.datasets import load_dataset

    market = load_dataset("market1501", tiny)
    cuhk = load_dataset("cuhk_pedes", tiny)
    counts = _truth(tiny)["counts"]
    assert len(market.train) == counts["market_bounding_box_train_images"]
    assert len(market.query) == counts["market_query_images"]
    assert (
        len(market.gallery) == counts["market_bounding_box_test_images"] + counts["market_distractor_images"]
    )
    assert len(cuhk.train) == counts["cuhk_train_images"]
    assert len(cuhk.test) == counts["cuhk_test_images"]


def test_pair_merge_matches_truth(tiny: Path) -> None:
    pairs = pytest.importorskip("hpl.data.pairs")
    pair = pairs.load_pair("cuhk_pedes", tiny)
    persons = _truth(tiny)["persons"]
    trainable = [p for p in persons if p["group"] in ("market_only_train", "cuhk_only_train", "shared_train")]
    assert pair.num_labels == len(trainable)

    person_of_key = {}
    for record in _attributes(tiny):
        if record["kind"] == "person":
            person_of_key[f"market1501/{record['key']}"] = record["person"]
            if record["cuhk_file_path"] and not record["cuhk_file_path"].startswith("Market/"):
                person_of_key[f"cuhk_pedes/{record['cuhk_file_path']}"] = record["person"]
    label_persons: dict[int, set[str]] = defaultdict(set)
    for record in pair.train_t2i + pair.train_i2i:
        label_persons[record.label].add(person_of_key[record.key])
    assert all(len(members) == 1 for members in label_persons.values())
    assert len(label_persons) == len(trainable)


def test_contact_sheet_written(tiny: Path, tmp_path: Path) -> None:
    sheet = synthetic.write_contact_sheet(tiny, tmp_path / "sheet.png", count=8, columns=4)
    with Image.open(sheet) as image:
        assert image.size[0] == 4 * 64 * 2
        assert image.size[1] >= 2 * 128 * 2


def test_cli_tiny_run(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    command = [sys.executable, "-m", "hpl.data.synthetic", "--out", str(out), "--num-ids", "10"]
    command += [
        "--set",
        "num_junk=1",
        "--set",
        "cuhk_images=1,2",
        "--set",
        "shared_backgrounds=no",
        "--seed",
        "5",
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "preset demo, seed 5" in result.stderr
    assert (out / "CUHK-PEDES" / "reid_raw.json").is_file()
    assert (out / "truth.json").is_file()
    assert _truth(out)["settings"]["cuhk_images"] == [1, 2]
    assert _truth(out)["settings"]["shared_backgrounds"] is False


def test_cli_rejects_unknown_setting(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hpl.data.synthetic", "--out", str(tmp_path / "x"), "--set", "colour=3"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "settings field" in result.stderr


def _oracle_record(person: str, upper: str, bag: str, view: str, facts: list[list[dict]]) -> dict:
    return {
        "person": person,
        "cuhk_split": "test",
        "identity": {"upper_colour": upper, "bag_type": bag},
        "instance": {"view": view},
        "caption_facts": facts,
    }


def _fact(attribute: str, value: str, stated: str | None = None) -> dict:
    return {"attribute": attribute, "value": value, "stated": stated or value}


def test_caption_oracle_ranks_by_named_attributes(tmp_path: Path) -> None:
    from hpl.data.synthetic.oracle import caption_oracle

    records = [
        # Names only the red top that A and B share: a tie between two people, R1 1/2.
        _oracle_record("A", "red", "backpack", "front", [[_fact("upper_colour", "red")]]),
        # Names B's handbag too, so B alone matches best.
        _oracle_record(
            "B", "red", "handbag", "back", [[_fact("upper_colour", "red"), _fact("bag_type", "handbag")]]
        ),
        # States a wrong colour (red for blue): the stated reader then prefers A and B.
        _oracle_record("C", "blue", "backpack", "side", [[_fact("upper_colour", "blue", "red")]]),
        _oracle_record("D", "blue", "backpack", "back", []),  # no caption, still a gallery image
        {"person": "E", "cuhk_split": "train", "identity": {}, "instance": {}, "caption_facts": [[]]},
    ]
    with open(tmp_path / "attributes.jsonl", "w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)

    oracle = caption_oracle(tmp_path)

    assert oracle.num_images == 4
    assert oracle.num_captions == 3
    assert oracle.r1_true == pytest.approx(100 * (1 / 2 + 1 + 1 / 2) / 3)
    assert oracle.r1_stated == pytest.approx(100 * (1 / 2 + 1 + 0) / 3)


def test_caption_oracle_on_generated_split(tiny: Path) -> None:
    from hpl.data.synthetic.oracle import caption_oracle

    oracle = caption_oracle(tiny)
    assert oracle.num_captions > 0
    assert 0 < oracle.r1_true <= 100
    assert oracle.r1_stated == oracle.r1_true  # the demo preset makes no colour errors


def test_caption_oracle_rejects_bad_folders(tmp_path: Path) -> None:
    from hpl.data.synthetic.oracle import caption_oracle

    with pytest.raises(FileNotFoundError, match="attributes.jsonl not found"):
        caption_oracle(tmp_path)
    (tmp_path / "attributes.jsonl").write_text(json.dumps({"cuhk_split": "train"}) + "\n")
    with pytest.raises(ValueError, match="no CUHK-PEDES images in split 'test'"):
        caption_oracle(tmp_path)

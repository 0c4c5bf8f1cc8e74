"""Checks before any job: model names from the libraries' source registries, folders, weights cache."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT
from embtree import preflight

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def test_timm_registry_equals_timm_list_models():
    timm = pytest.importorskip("timm")
    reg = preflight.timm_registry()
    assert set(timm.list_models()) <= set(reg)
    assert reg["resnet18"][0] == timm.models.get_pretrained_cfg("resnet18").tag  # default tag first
    for name in ["resnet18", "vit_base_patch16_224", "convnext_base"]:
        assert set(reg[name]) == {n.split(".", 1)[1] for n in timm.list_pretrained(name + ".*")}


def test_open_clip_registry_equals_open_clip_lists():
    pytest.importorskip("open_clip")
    # In a fresh process: other tests register extra model configs in this one (add_model_config).
    code = ("import json, open_clip; print(json.dumps([sorted(open_clip.list_models()), "
            "sorted(map(list, open_clip.list_pretrained()))]))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    models, pretrained = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    reg = preflight.open_clip_registry()
    assert sorted(reg) == models
    assert sorted([m, t] for m in reg for t in reg[m]) == pretrained


@pytest.mark.parametrize(
    ("spec", "key", "text"),
    [
        ({"type": "timm", "model": "resnet_18"}, "model", "did you mean ['resnet18'"),
        ({"type": "timm", "model": "resnet18.nosuchtag"}, "model", "no pretrained tag 'nosuchtag'"),
        ({"type": "open_clip", "model": "ViT-B32", "pretrained": "openai"}, "model", "did you mean ['ViT-B-32'"),
        ({"type": "open_clip", "model": "ViT-B-32"}, "pretrained", "needs the pretrained tag"),
        ({"type": "open_clip", "model": "ViT-B-32", "pretrained": "laion9"}, "pretrained", "not an open_clip pretrained tag"),
    ],
)
def test_check_encoder_names_the_key(spec, key, text):
    problems = preflight.check_encoder(spec)
    assert len(problems) == 1 and problems[0][0] == key and text in problems[0][1]


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "timm", "model": "resnet18.a1_in1k"},
        {"type": "timm", "model": "test_resnet", "pretrained": False},
        {"type": "open_clip", "model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k"},
        {"type": "open_clip", "model": "ViT-B-32-quickgelu", "pretrained": "openai"},
        {"type": "open_clip", "model": "ViT-B-32", "pretrained": False},
        {"type": "pixels"},
    ],
)
def test_check_encoder_accepts_valid_entries(spec):
    assert preflight.check_encoder(spec) == []


def test_missing_checkpoint_is_named(tmp_path):
    spec = {"type": "timm", "model": "resnet18", "checkpoint": str(tmp_path / "w.safetensors")}
    assert [k for k, _ in preflight.check_encoder(spec)] == ["checkpoint"]
    (tmp_path / "w.safetensors").write_bytes(b"x")
    assert preflight.check_encoder(spec) == []


def test_weights_cache_status(tmp_path):
    timm_spec = {"type": "timm", "model": "resnet18"}
    assert preflight.weights_cache_status(timm_spec, tmp_path) is False
    assert preflight.weights_cache_status({**timm_spec, "pretrained": False}, tmp_path) is None
    assert preflight.weights_cache_status({**timm_spec, "checkpoint": "w.pth"}, tmp_path) is None
    snap = tmp_path / "hf/hub/models--timm--resnet18.a1_in1k/snapshots/abc"
    snap.mkdir(parents=True)
    (snap / "model.safetensors").write_bytes(b"x")
    assert preflight.weights_cache_status(timm_spec, tmp_path) is True
    clip = {"type": "open_clip", "model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k"}
    assert preflight.weights_cache_status(clip, tmp_path) is False
    hub_id = preflight.open_clip_registry()["ViT-B-32"]["laion2b_s34b_b79k"]["hf_hub"].strip("/")
    snap = tmp_path / "hf/hub" / ("models--" + hub_id.replace("/", "--")) / "snapshots/abc"
    snap.mkdir(parents=True)
    (snap / "open_clip_model.safetensors").write_bytes(b"x")
    assert preflight.weights_cache_status(clip, tmp_path) is True


def test_check_image_folder(make_image_folder, tmp_path):
    root = make_image_folder({"cat": 2, "dog": 1})
    assert preflight.check_image_folder(root) == []
    assert "not found" in preflight.check_image_folder(tmp_path / "nope")[0]
    (root / "ship").mkdir()
    assert "['ship']" in preflight.check_image_folder(root)[0]
    only = tmp_path / "one"
    (only / "cat").mkdir(parents=True)
    assert "at least 2" in preflight.check_image_folder(only)[0]


def test_check_image_folder_finds_empty_and_unreadable_files(make_image_folder):
    # From the listing's sizes and modes (no image opened); a 0-byte file used to fail the
    # embedding job in a DataLoader worker.
    root = make_image_folder({"cat": 2, "dog": 2})
    (root / "cat" / "000.png").write_bytes(b"")
    os.symlink(root / "nowhere.png", root / "dog" / "002.png")  # a broken link
    entries = preflight.scan_images(root)
    assert len(entries) == 5 and preflight.check_image_folder(root, entries=entries) == \
        preflight.check_image_folder(root)
    empty, unreadable = preflight.check_image_folder(root)
    assert empty == f"1 image file(s) in {root} are empty (0 bytes): ['{os.path.join('cat', '000.png')}']; " \
        "re-copy them or delete them"
    assert unreadable.startswith(f"1 image file(s) in {root} cannot be read") and "002.png" in unreadable
    if os.geteuid() != 0:  # root reads every file
        os.remove(root / "dog" / "002.png")
        os.chmod(root / "dog" / "001.png", 0)
        assert "cannot be read" in preflight.check_image_folder(root)[-1]


def test_image_manifest_changes_with_the_files(make_image_folder):
    root = make_image_folder({"cat": 2, "dog": 2})
    before = preflight.image_manifest(root)
    assert before.startswith("4 images") and preflight.image_manifest(root) == before
    (root / "cat" / "notes.txt").write_text("not an image")
    assert preflight.image_manifest(root) == before
    os.remove(root / "dog" / "001.png")
    removed = preflight.image_manifest(root)
    assert removed.startswith("3 images")
    shutil.copy(root / "cat" / "000.png", root / "dog" / "001.png")
    assert preflight.image_manifest(root) not in (before, removed)


def test_registries_import_no_deep_learning_library():
    code = ("import sys; from embtree import preflight; preflight.timm_registry(); preflight.open_clip_registry(); "
            "print(sorted(m for m in ('torch', 'timm', 'open_clip') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip
    assert out.stdout.strip() == "[]"


# --- the mistakes stop `snakemake -n`, naming the key -----------------------------------------

BASE = {
    "cache_dir": "cache",
    "datasets": {"imgs": {"type": "imagefolder", "path": "images", "encoders": ["enc"]}},
    "encoders": {"enc": {"type": "pixels", "image_size": 8}},
}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"encoders": {"enc": {"type": "timm", "model": "resnt18", "pretrained": False}}}, "encoders.enc.model"),
        ({"encoders": {"enc": {"type": "open_clip", "model": "ViT-B-32"}}}, "encoders.enc.pretrained"),
        ({"datasets": {"imgs": {"type": "imagefolder", "path": "missing", "encoders": ["enc"]}}}, "datasets.imgs.path"),
        ({"encoders": {"enc": {"type": "timm", "model": "resnet18", "pretrained": True}}}, "encoders.enc.pretrained"),
    ],
    ids=["timm-typo", "open_clip-no-tag", "no-folder", "weights-not-cached"],
)
def test_mistakes_fail_the_dry_run_naming_the_key(tmp_path, make_image_folder, change, key):
    make_image_folder({"cat": 1, "dog": 1})
    cfg = {**BASE, **change}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "workflow" / "Snakefile"), "-d", str(tmp_path), "--configfile", "c.yaml", "-n"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"config error at '{key}'" in out, out[-2000:]
    assert not (tmp_path / "results").exists()


# --- shards: image counts without loading, and the shard count's checks ------------------------


def test_image_count_of_builtin_sets_matches_their_loaders():
    from embtree.data.datasets import load_dataset

    digits = load_dataset({"type": "digits"})
    assert preflight.image_count({"type": "digits", "split": "test"}) == (len(digits), True)
    assert list(preflight.BUILTIN_CLASS_COUNTS["digits"][None]) == np.bincount(digits.labels).tolist()
    # max_per_class: min(count, m) per class (digits' smallest class has 174 images).
    capped = load_dataset({"type": "digits", "max_per_class": 175})
    assert preflight.image_count({"type": "digits", "max_per_class": 175}) == (len(capped), True) == (1749, True)
    assert preflight.image_count({"type": "cifar100", "split": "train", "max_per_class": 300}) == (30000, True)
    assert preflight.image_count({"type": "cifar100-coarse", "split": "test"}) == (10000, True)
    # Subsets only the job can count: an upper bound.
    assert preflight.image_count({"type": "cifar10", "split": "test", "imbalance": "odd-half"}) == (10000, False)


def test_image_count_of_folders_from_their_listing(make_image_folder, tmp_path):
    root = make_image_folder({"cat": 3, "dog": 5, "emu": 1})
    entries = preflight.scan_images(root)
    spec = {"type": "imagefolder", "path": str(root)}
    assert preflight.image_count(spec, entries) == (9, True)
    assert preflight.image_count({**spec, "max_per_class": 2}, entries) == (5, True)
    assert preflight.image_count({**spec, "eval_fraction": 0.2}, entries) == (9, False)
    assert preflight.image_count(spec, None) == (None, False)  # no listing: unknown
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in sorted((root / "dog").iterdir()):
        shutil.copy(f, flat / f.name)
    entries = preflight.scan_images(flat)
    assert preflight.image_count({"type": "imagenet", "path": str(flat)}, entries) == (5, True)
    assert preflight.image_count({"type": "imagenet", "path": str(flat), "max_per_class": 1}, entries) == (5, False)


def test_check_shards():
    encoders = {"vit": {"type": "timm", "batch_size": 64}, "pix": {"type": "pixels", "batch_size": 64}}
    images = {"type": "digits", "encoders": ["vit"]}
    assert preflight.check_shards({**images, "shards": 29}, encoders, 1797) == []  # 29 batches of 64
    assert preflight.check_shards({**images}, encoders, 1797) == []
    assert preflight.check_shards({**images, "shards": 1}, {"vit": encoders["pix"]}, 1797) == []  # 1 = one job
    assert preflight.check_shards({**images, "shards": 40}, encoders, None) == []  # unknown: the job checks
    (msg,) = preflight.check_shards({**images, "shards": 30}, encoders, 1797)
    assert "30 shards of 1797 images in batches of encoders.vit.batch_size=64: at most 29" in msg
    (msg,) = preflight.check_shards({**images, "encoders": ["pix", "vit"], "shards": 2}, encoders, 1797)
    assert "encoder 'pix' (type pixels) standardises" in msg
    (msg,) = preflight.check_shards({"type": "features", "shards": 2}, encoders, None)
    assert "a 'features' data set is already embedded" in msg

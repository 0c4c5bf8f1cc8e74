"""Bad input stops the run at DAG build with one error naming the file and the config key.

Each case of issue 13: a listed class with 0 samples, a file that is not a zip / has a bad
CRC / holds an object array, logits without class names, duplicate class names, a class
with exactly one sample (a warning, not an error), an unknown top-level config key.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, dry_run
from embtree.data.store import FeaturesFileError, check_features_file, load_embeddings
from embtree.settings import config_errors

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
RNG = np.random.default_rng(0)


def _feats(n=12, d=3):
    return RNG.normal(size=(n, d))


def _bad_crc(path):
    np.savez(path, features=np.full((12, 3), 7.0), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    raw = bytearray(path.read_bytes())
    pos = raw.find(np.full(4, 7.0).tobytes())
    raw[pos + 3] ^= 0xFF  # one flipped byte inside the stored (uncompressed) features
    path.write_bytes(bytes(raw))


CASES = {
    # name: (writer, config extra, config key named, message fragment)
    "empty-class": (lambda p: np.savez(p, features=_feats(), labels=np.arange(12) % 3,
                                       class_names=np.array(list("abcd"))), {}, "path", "['d'] are listed but have no samples"),
    "empty-class-config-names": (lambda p: np.savez(p, features=_feats(), labels=np.arange(12) % 3),
                                 {"class_names": list("abcd")}, "class_names", "no samples"),
    "not-a-zip": (lambda p: p.write_bytes(b"this is not a zip file"), {}, "path", "not a readable .npz"),
    "bad-crc": (_bad_crc, {}, "path", "CRC"),
    "object-array": (lambda p: np.savez(p, features=_feats(), labels=np.arange(12) % 3,
                                        class_names=np.array(list("abc"), dtype=object)), {}, "path", "dtype object"),
    "logits-no-names": (lambda p: np.savez(p, features=_feats(), labels=np.arange(12) % 3, logits=_feats()),
                        {}, "class_names", "no 'class_names' array"),
    "duplicate-names": (lambda p: np.savez(p, features=_feats(), labels=np.arange(12) % 3,
                                           class_names=np.array(["a", "b", "a"])), {}, "path", "duplicate class names ['a']"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_features_file_names_file_and_key(tmp_path, case):
    write, extra, key, fragment = CASES[case]
    path = tmp_path / "f.npz"
    write(path)
    with pytest.raises(FeaturesFileError, match=str(path)) as info:
        check_features_file(path, class_names=extra.get("class_names"))
    assert info.value.key == key and fragment in str(info.value)


def test_good_files_pass_and_single_sample_classes_are_reported(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, logits=_feats())
    info = check_features_file(path, class_names=["a", "b", "c"])  # names from the config
    assert info["n_classes"] == 3 and info["shapes"]["logits"] == (12, 3)
    assert info["class_names"] == ["a", "b", "c"] and info["wnids"] is None
    np.savez(path, features=_feats(), labels=np.r_[np.zeros(6, int), np.ones(5, int), 2],
             class_names=np.array(list("abc")), wnids=np.array(["n02084071", "", "n02121808"]))
    info = check_features_file(path)
    assert info["single_sample_classes"] == ["c"] and info["class_names"] == ["a", "b", "c"]
    assert info["wnids"].tolist() == ["n02084071", "", "n02121808"]


def test_nan_features_pass_the_cheap_check_and_fail_the_import_job(tmp_path):
    # The SLURM test's failing job relies on this: the DAG-time check never reads the
    # features, the import job does and names the file.
    from embtree.data.datasets import load_dataset

    path = tmp_path / "nan.npz"
    X = _feats().astype(np.float32)
    X[3, 1] = np.nan
    np.savez(path, features=X, labels=np.arange(12) % 2, class_names=np.array(["a", "b"]))
    assert check_features_file(path)["n_classes"] == 2
    with pytest.raises(ValueError, match=r"nan.npz.*NaN or inf in 1 rows"):
        load_dataset({"type": "features", "path": str(path)})


def test_embeddings_loader_rejects_empty_and_duplicate_classes(tmp_path):
    path = tmp_path / "e.npz"
    np.savez(path, features=_feats().astype(np.float32), labels=np.arange(12) % 3, class_names=np.array(list("abcd")))
    with pytest.raises(ValueError, match=r"\['d'\].*no samples"):
        load_embeddings(path)
    np.savez(path, features=_feats().astype(np.float32), labels=np.arange(12) % 3, class_names=np.array(list("aba")))
    with pytest.raises(ValueError, match="duplicate class names"):
        load_embeddings(path)


def _schema_errors(**sections):
    """``config_errors`` of a one-dataset config (digits through the pixels encoder) plus ``sections``,
    as {dotted key: message}."""
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    cfg = {"datasets": {"d": {"type": "digits", "encoders": ["p"]}}, "encoders": {"p": {"type": "pixels"}}, **sections}
    return {".".join(str(p) for p in path): msg for path, msg in config_errors(cfg, schema)}


def test_config_errors_name_the_unknown_key_only():
    errors = _schema_errors(caeck={}, flat={"seedz": [1]})
    assert list(errors) == ["caeck", "flat.seedz"]
    assert all(len(msg) < 300 for msg in errors.values())


def test_config_errors_name_repeated_seeds_and_the_key_that_replaced_heads_seed():
    errors = _schema_errors(heads={"seeds": [0, 1, 2, 1, 0], "seed": 3}, flat={"seeds": [4, 4]})
    assert errors["heads.seeds"] == "[0, 1, 2, 1, 0] repeats 1 and 0: give each value once"
    assert errors["flat.seeds"] == "[4, 4] repeats 4: give each value once"
    assert "replaced by heads.seeds" in errors["heads.seed"]


def test_config_errors_name_bad_sweep_values():
    assert not _schema_errors(heads={"knn": [50, 10, 100], "n_clusters": ["1x", "2x", 40]})
    assert not _schema_errors(heads={"knn": 20, "n_clusters": "1.5x"})
    errors = _schema_errors(heads={"knn": [10, 10], "n_clusters": ["2x", "half"]})
    assert errors["heads.knn"] == "[10, 10] repeats 10: give each value once"
    assert set(errors) == {"heads.knn", "heads.n_clusters.1"} and "half" in errors["heads.n_clusters.1"]
    assert set(_schema_errors(heads={"knn": [], "n_clusters": 1})) == {"heads.knn", "heads.n_clusters"}


def test_config_errors_name_repeated_merge_expand_seeds_and_the_old_seed_key():
    errors = _schema_errors(merge_expand={"seeds": [2, 0, 2], "seed": 0})
    assert errors["merge_expand.seeds"] == "[2, 0, 2] repeats 2: give each value once"
    assert "replaced by merge_expand.seeds" in errors["merge_expand.seed"]
    assert not _schema_errors(merge_expand={"seeds": [0]})


def test_config_errors_name_repeated_l2h_seeds_and_the_old_seed_key():
    errors = _schema_errors(l2h={"seeds": [3, 1, 3], "seed": 0})
    assert errors["l2h.seeds"] == "[3, 1, 3] repeats 3: give each value once"
    assert "replaced by l2h.seeds" in errors["l2h.seed"]
    assert not _schema_errors(l2h={"seeds": [0]})
    assert _schema_errors(l2h={"seeds": []})  # at least one


def test_config_errors_name_the_bad_tree_figure_key():
    errors = _schema_errors(report={"tree_figures": {"layout": "polar", "superclass_depth": 0, "collapse_depth": "x",
                                                     "colour": "red"}})
    assert set(errors) == {"report.tree_figures.layout", "report.tree_figures.superclass_depth",
                           "report.tree_figures.collapse_depth", "report.tree_figures.colour"}
    assert "polar" in errors["report.tree_figures.layout"]
    assert not _schema_errors(report={"tree_figures": {"layout": "circular", "superclass_depth": 3, "collapse_depth": 2,
                                                       "superclasses": ["bird.n.01"]}})
    assert not _schema_errors(report={"tree_figures": {"superclass_depth": "auto", "collapse_depth": None}})


# --- the same cases through the workflow: the error comes at DAG build, before any job -------


def _dry_run(tmp_path, dataset, top_extra=None):
    return dry_run(tmp_path, {"datasets": {"f": {"type": "features", "encoder_name": "given", **dataset}},
                              **(top_extra or {})})


# Each dry run costs a Snakemake start (~5 s): two cases in the default suite, the rest slow.
_SLOW = pytest.mark.slow


@pytest.mark.parametrize("case", ["not-a-zip", "logits-no-names", pytest.param("empty-class", marks=_SLOW),
                                  pytest.param("bad-crc", marks=_SLOW), pytest.param("object-array", marks=_SLOW),
                                  pytest.param("duplicate-names", marks=_SLOW)])  # fmt: skip
def test_workflow_stops_at_dag_build_naming_file_and_key(tmp_path, case):
    write, extra, key, fragment = CASES[case]
    path = tmp_path / "f.npz"
    write(path)
    proc, out = _dry_run(tmp_path, {"path": str(path), **extra})
    assert proc.returncode != 0
    assert f"config error at 'datasets.f.{key}'" in out and str(path) in out and fragment in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()


def test_workflow_accepts_config_class_names_and_warns_on_single_sample_classes(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.r_[np.zeros(6, int), np.ones(5, int), 2], logits=_feats())
    proc, out = _dry_run(tmp_path, {"path": str(path), "class_names": ["a", "b", "c"]})
    assert proc.returncode == 0, out[-3000:]
    assert "l2h/classifier" in out  # logits with one column per class: the classifier source runs
    assert "['c']" in out and "exactly 1 sample" in out


def test_repeated_merge_expand_seeds_and_the_old_seed_key_stop_at_dag_build(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"merge_expand": {"seeds": [0, 1, 0], "seed": 1}})
    assert proc.returncode != 0
    assert "at ['merge_expand']['seeds']: [0, 1, 0] repeats 0: give each value once" in out, out[-2000:]
    assert "at ['merge_expand']['seed']: " in out and "replaced by merge_expand.seeds" in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()


def test_repeated_l2h_seeds_stop_at_dag_build_naming_the_key(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"l2h": {"seeds": [0, 1, 0]}})
    assert proc.returncode != 0
    assert "at ['l2h']['seeds']: [0, 1, 0] repeats 0: give each value once" in out, out[-2000:]
    assert "Traceback" not in out and not (tmp_path / "results").exists()


@_SLOW
def test_l2h_seeds_without_a_heads_seed_stop_at_dag_build(tmp_path):
    # temi / scanv2 build the tree of L2H seed s on the heads run of seed s: none in common, no tree.
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"l2h": {"seeds": [5, 6]}, "heads": {"seeds": [0, 1]}})
    assert proc.returncode != 0
    assert "config error at 'l2h.seeds': [5, 6] has no seed in common with heads.seeds [0, 1]" in out, out[-2000:]
    assert "temi / scanv2" in out and "Traceback" not in out and not (tmp_path / "results").exists()


def test_unknown_top_level_key_prints_its_path_not_the_schema(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"bogus_key": 1})
    assert proc.returncode != 0
    assert "at ['bogus_key']: Additional properties are not allowed" in out
    assert "$defs" not in out and "description" not in out and len(out) < 3000


def test_import_job_names_the_file_for_unreadable_npz(tmp_path):
    # Files above check_features_file's CRC budget are read only by the import job: same clarity.
    from embtree.data.datasets import load_dataset

    path = tmp_path / "f.npz"
    _bad_crc(path)
    with pytest.raises(ValueError, match=f"{path}: cannot read .*CRC"):
        load_dataset({"type": "features", "path": str(path)})
    CASES["object-array"][0](path)
    with pytest.raises(ValueError, match=f"{path}: cannot read .*[Oo]bject arrays"):
        load_dataset({"type": "features", "path": str(path)})


# --- issue: a newcomer's mistakes (reference tree, image files, YAML, duplicates, small data) ---

from embtree import preflight  # noqa: E402


def _four_classes(path, n_per=30, d=16, seed=0):
    """A small features file: 4 classes x ``n_per`` samples (the issue's 120-sample case)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), n_per)
    X = (3 * rng.normal(size=(4, d))[labels] + rng.normal(size=(len(labels), d))).astype(np.float32)
    np.savez(path, features=X, labels=labels, logits=rng.normal(size=(len(labels), 4)).astype(np.float32),
             class_names=np.array(["cat", "dog", "car", "truck"]))
    return path


def test_check_reference_tree_names_the_file(tmp_path):
    nwk = tmp_path / "ref.nwk"
    nwk.write_text("((cat,dog)animal,(car,truck)vehicle)root;")
    assert preflight.check_reference_tree(nwk, ["cat", "dog", "car", "truck"]) == []
    assert preflight.check_reference_tree(nwk, ["cat", "dog", "car"]) == []  # a subset is pruned to
    [msg] = preflight.check_reference_tree(nwk, ["cat", "dog", "car", "bus"])
    assert msg.startswith(f"{nwk}: 1 of the data set's 4 classes are not leaves") and "['bus']" in msg
    nwk.write_text("((cat,dog),(car,truck);")  # unbalanced parentheses
    [msg] = preflight.check_reference_tree(nwk)
    assert msg.startswith(f"{nwk}: not a valid Newick tree") and "column 23" in msg and "Unbalanced" in msg
    nwk.write_text("")
    assert preflight.check_reference_tree(nwk) == [f"{nwk}: the Newick file is empty"]


def test_malformed_newick_stops_the_dry_run(tmp_path):
    nwk = tmp_path / "ref.nwk"
    nwk.write_text("((cat,dog),(car,truck);")
    proc, out = _dry_run(tmp_path, {"path": str(_four_classes(tmp_path / "f.npz")), "reference_tree": str(nwk)})
    assert proc.returncode != 0
    assert f"config error at 'datasets.f.reference_tree': {nwk}: not a valid Newick tree" in out, out[-2000:]
    assert "Traceback" not in out and not (tmp_path / "results").exists()


@pytest.mark.slow
def test_newick_missing_classes_stops_the_dry_run(tmp_path):
    nwk = tmp_path / "ref.nwk"
    nwk.write_text("((cat,dog),(car,bus));")
    proc, out = _dry_run(tmp_path, {"path": str(_four_classes(tmp_path / "f.npz")), "reference_tree": str(nwk)})
    assert proc.returncode != 0
    assert (f"config error at 'datasets.f.reference_tree': {nwk}: 1 of the data set's 4 classes are not "
            "leaves of the tree (by name or WNID): ['truck']") in out, out[-2000:]
    # A shipped reference is checked against the classes too, under its own key.
    (tmp_path / "c2").mkdir()
    proc, out = _dry_run(tmp_path / "c2", {"path": str(tmp_path / "f.npz"), "reference": "cifar10"})
    assert proc.returncode != 0 and "config error at 'datasets.f.reference'" in out and "cifar10.nwk" in out


@pytest.mark.slow
def test_zero_byte_image_stops_the_dry_run(tmp_path, make_image_folder):
    root = make_image_folder({"cat": 2, "dog": 2})
    (root / "dog" / "001.png").write_bytes(b"")
    cfg = {"datasets": {"imgs": {"type": "imagefolder", "path": str(root), "encoders": ["enc"]}},
           "encoders": {"enc": {"type": "pixels", "image_size": 8}}}
    proc, out = dry_run(tmp_path, cfg)
    assert proc.returncode != 0
    assert (f"config error at 'datasets.imgs.path': 1 image file(s) in {root} are empty (0 bytes): "
            f"['{Path('dog') / '001.png'}']") in out, out[-2000:]


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    # The embedded default config (config/config.yaml of the working directory, loaded by the
    # Snakefile); a --configfile is parsed by Snakemake's command line before the workflow runs.
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("datasets:\n  f:\n\ttype: features\n")
    proc = subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"YAML syntax error in {tmp_path / 'config' / 'config.yaml'}, line 3, column 1:" in out, out[-2000:]
    assert "never tabs" in out


def test_caec_step_error_says_number_or_auto():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    cfg = {"datasets": {"d": {"type": "digits", "encoders": ["p"]}}, "encoders": {"p": {"type": "pixels"}}}
    for bad in (-1, 0, "fast"):
        errors = config_errors({**cfg, "caec": {"step": bad}}, schema)
        assert errors == [(["caec", "step"], f"{bad!r} is not valid here: give a number > 0 or `auto`")]


def test_duplicate_features_file_and_small_data_warn_at_dag_build(tmp_path):
    path = str(_four_classes(tmp_path / "f.npz"))
    cfg = {"datasets": {name: {"type": "features", "path": path, "encoder_name": "given"} for name in ("a", "b")}}
    proc, out = dry_run(tmp_path, cfg)
    assert proc.returncode == 0, out[-3000:]
    assert f"datasets a, b: the same features file {Path(path).resolve()} under 2 dataset names" in out
    assert ("datasets.a: 120 samples; merge_expand.n_regions=200 is capped at "
            "max(n_samples // merge_expand.min_region_size, 2) = 24 regions") in out


@pytest.mark.slow
def test_small_features_data_runs_the_whole_default_workflow(tmp_path):
    # Issue: 4 classes x 30 samples failed the default run in merge_expand (n_regions=200).
    # Every stage at the schema's defaults, reference tree included (~5 min on 2 cores).
    nwk = tmp_path / "ref.nwk"
    nwk.write_text("((cat,dog)animal,(car,truck)vehicle)root;")
    cfg = {"datasets": {"small": {"type": "features", "path": str(_four_classes(tmp_path / "f.npz")),
                                  "encoder_name": "given", "reference_tree": str(nwk)}}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--cores", "2",
                           "--configfile", str(tmp_path / "c.yaml")], capture_output=True, text=True, timeout=1800,
                          cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    metrics = (tmp_path / "results/small/given/merge_expand/seed0/metrics.tsv").read_text()
    assert "n_regions" in metrics and "capped" in (tmp_path / "logs/small/given/merge_expand/seed0.log").read_text()


# --- a held-out evaluation set (issue 25): checked against the fit set at DAG build --------------


def _write_pair(tmp_path, eval_names=list("abc"), eval_dim=3):
    fit, held = tmp_path / "fit.npz", tmp_path / "eval.npz"
    np.savez(fit, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    np.savez(held, features=_feats(9, eval_dim), labels=np.arange(9) % len(eval_names),
             class_names=np.array(eval_names))
    return fit, held


EVAL_CASES = {
    # name: (eval class names, eval dim, dataset extra beyond path / eval_path, key, message fragment)
    "other-classes": (list("abd"), 3, {}, "eval_path", "has other classes than"),
    "other-dimension": (list("abc"), 4, {}, "eval_path", "has feature dimension 4"),
    "empty-fraction": (list("abc"), 3, {"eval_fraction": 0.01, "eval_path": None}, "eval_fraction",
                       "the evaluation set would be empty"),
    "split-on-features": (list("abc"), 3, {"eval_split": "train", "eval_path": None}, "eval_split",
                          "has no splits"),
    "fraction-and-path": (list("abc"), 3, {"eval_fraction": 0.5}, "eval_fraction", "not both"),
}


@pytest.mark.parametrize("case", ["other-classes", pytest.param("other-dimension", marks=_SLOW),
                                  pytest.param("empty-fraction", marks=_SLOW),
                                  pytest.param("split-on-features", marks=_SLOW),
                                  pytest.param("fraction-and-path", marks=_SLOW)])  # fmt: skip
def test_bad_evaluation_set_stops_at_dag_build_naming_the_key(tmp_path, case):
    names, dim, extra, key, fragment = EVAL_CASES[case]
    fit, held = _write_pair(tmp_path, names, dim)
    entry = {"path": str(fit), "eval_path": str(held), **extra}
    proc, out = _dry_run(tmp_path, {k: v for k, v in entry.items() if v is not None})
    assert proc.returncode != 0
    assert f"config error at 'datasets.f.{key}'" in out and fragment in out, out[-2000:]
    assert "Traceback" not in out and not (tmp_path / "results").exists()


def test_evaluation_set_adds_its_own_import_job_read_by_the_fitted_methods(tmp_path):
    fit, held = _write_pair(tmp_path)
    proc, out = _dry_run(tmp_path, {"path": str(fit), "eval_path": str(held)},
                         {"heads": {"seeds": [0], "num_heads": 1, "epochs": 1, "warmup_epochs": 0, "knn": 2}})
    assert proc.returncode == 0, out[-3000:]
    assert "results/f/given/eval/embeddings.npz" in out
    for rule in ("import_features_eval", "heads_train", "heads_kmeans", "heads_probe", "merge_expand"):
        assert f"rule {rule}:" in out or f"localrule {rule}:" in out, rule


def test_class_frequency_subsets_need_their_bounds():
    ds = {"type": "digits", "encoders": ["p"], "imbalance": "percentile"}
    assert _schema_errors(datasets={"d": ds}) == {"datasets.d": "'imbalance_percentiles' is a required property"}
    ds["imbalance_percentiles"] = [40, 60]
    assert not _schema_errors(datasets={"d": ds})
    ds["imbalance"] = "imbalanced"
    assert _schema_errors(datasets={"d": ds}) == {"datasets.d": "'imbalance_top' is a required property"}


# --- shards (issue 28): checked at DAG build, before any job ---------------------------------

TINY = {"type": "timm", "model": "test_resnet", "pretrained": False, "image_size": 8, "batch_size": 2}
SHARD_CASES = {
    # name: (dataset entry beside `path`, encoders, fragment of the error; None: a valid DAG)
    "valid": ({"type": "imagefolder", "encoders": ["tiny"], "shards": 3}, None),
    # 5 images in batches of 2: 3 batches, so at most 3 shards (a shard is a run of whole batches).
    "above-images": ({"type": "imagefolder", "encoders": ["tiny"], "shards": 4},
                     "4 shards of 5 images in batches of encoders.tiny.batch_size=2: at most 3"),
    "pixels": ({"type": "imagefolder", "encoders": ["pix"], "shards": 2}, "encoder 'pix' (type pixels) standardises"),
    "features": ({"type": "features", "encoder_name": "given", "shards": 2},
                 "a 'features' data set is already embedded"),
}  # fmt: skip


def _shard_dry_runs(tmp_path, make_image_folder, names):
    from conftest import run_parallel

    root = make_image_folder({"cat": 3, "dog": 2})
    features = tmp_path / "f.npz"
    np.savez(features, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    commands = {}
    for name in names:
        entry, _ = SHARD_CASES[name]
        path = features if entry["type"] == "features" else root
        cfg = {"datasets": {"imgs": {**entry, "path": str(path)}},
               "encoders": {"tiny": TINY, "pix": {"type": "pixels", "image_size": 8}}}
        (tmp_path / name).mkdir()
        (tmp_path / name / "c.yaml").write_text(yaml.safe_dump(cfg))
        commands[name] = {"args": [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path / name),
                                   "--cores", "1", "-n", "--configfile", str(tmp_path / name / "c.yaml")],
                          "timeout": 300, "cwd": tmp_path / name}
    return {name: (proc, proc.stdout + proc.stderr) for name, proc in run_parallel(commands).items()}


def _check_shard_case(name, proc, out, tmp_path):
    fragment = SHARD_CASES[name][1]
    if fragment is None:
        assert proc.returncode == 0, out[-3000:]
        # N shard jobs on the GPU rule, one gather, no one-job embed for this data set.
        assert re.search(r"^embed_shard\s+3$", out, re.M) and re.search(r"^gather_shards\s+1$", out, re.M), out[-3000:]
        assert not re.search(r"^embed\s+\d+$", out, re.M)
        for i in (1, 2, 3):
            assert f"results/imgs/tiny/shards/{i}-of-3.npz" in out
    else:
        assert proc.returncode != 0
        assert "config error at 'datasets.imgs.shards'" in out and fragment in out, out[-2000:]
        assert "Traceback" not in out and not (tmp_path / name / "results").exists()


def test_shards_above_the_batches_stop_the_dry_run_and_valid_shards_plan_n_jobs(tmp_path, make_image_folder):
    for name, (proc, out) in _shard_dry_runs(tmp_path, make_image_folder, ["valid", "above-images"]).items():
        _check_shard_case(name, proc, out, tmp_path)


@pytest.mark.slow
def test_shards_on_pixels_or_features_stop_the_dry_run(tmp_path, make_image_folder):
    for name, (proc, out) in _shard_dry_runs(tmp_path, make_image_folder, ["pixels", "features"]).items():
        _check_shard_case(name, proc, out, tmp_path)


def test_config_errors_name_agglomerative_options_outside_the_papers_search():
    # paper 004 E.7: ward only with L2; linkages ward / complete / average / single; thresholds > 0
    errors = _schema_errors(flat={"clusterer_params": {"agglomerative": {"linkage": "ward", "metric": "cosine"}}})
    assert list(errors) == ["flat.clusterer_params.agglomerative.metric"] and "'euclidean'" in errors[
        "flat.clusterer_params.agglomerative.metric"]
    errors = _schema_errors(flat={"clusterer_variants": {
        "ac-x": {"method": "agglomerative", "linkage": "median"},
        "ac-t": {"method": "agglomerative-threshold", "distance_threshold": -2},
        "km": {"method": "kmedoids"}}})
    assert sorted(errors) == ["flat.clusterer_variants.ac-t.distance_threshold", "flat.clusterer_variants.ac-x.linkage",
                              "flat.clusterer_variants.km.method"]
    assert not _schema_errors(flat={"clusterers": ["agglomerative", "ac-s"], "clusterer_variants": {
        "ac-s": {"method": "agglomerative", "linkage": "single", "metric": "chebyshev"}}})
    assert list(_schema_errors(datasets={"d": {"type": "digits", "encoders": ["p"], "group": "far ood"}})) == [
        "datasets.d.group"]
    assert list(_schema_errors(flat={"selection": {"weights": {"d": -1}}})) == ["flat.selection.weights.d"]


def _flat_dry_run(tmp_path, flat):
    path = tmp_path / "f.npz"
    rng = np.random.default_rng(0)
    np.savez(path, features=rng.normal(size=(60, 4)), labels=np.arange(60) % 3, class_names=np.array(list("abc")))
    return dry_run(tmp_path, {"datasets": {n: {"type": "features", "path": str(path), "encoder_name": "enc",
                                               "group": g} for n, g in (("dev", "in-domain"), ("test", "far-ood"))},
                              "flat": flat, "report": {"partial": True}})


def test_flat_variants_and_encoder_reducers_shape_the_grid(tmp_path):
    proc, out = _flat_dry_run(tmp_path, {
        "reducers": ["pca", "pca2"], "reducer_variants": {"pca2": {"method": "pca", "n_components": 2}},
        "clusterers": ["kmeans", "ac-t1"], "clusterer_variants": {"ac-t1": {"method": "agglomerative-threshold",
                                                                            "distance_threshold": 1.0}},
        "selection": {"datasets": ["dev"]}, "encoder_reducers": {"enc": {"kmeans": "pca2"}}})
    assert proc.returncode == 0, out[-3000:]
    # the development data set runs the whole grid, the test set kmeans on the chosen pca2 only
    for path in ("dev/enc/flat/pca/kmeans", "dev/enc/flat/pca2/kmeans", "dev/enc/flat/pca/ac-t1",
                 "dev/enc/flat/pca2/ac-t1", "test/enc/flat/pca2/kmeans", "test/enc/flat/pca/ac-t1",
                 "test/enc/flat/pca2/ac-t1"):
        assert f"results/{path}/metrics.tsv" in out, path
    assert "results/test/enc/flat/pca/kmeans/metrics.tsv" not in out


@pytest.mark.parametrize("flat, key, fragment", [
    ({"reducers": ["pca", "pca200"]}, "flat.reducers", "'pca200' is neither a reducer"),
    ({"encoder_reducers": {"enc": "umap"}, "reducers": ["pca"]}, "flat.encoder_reducers.enc", "'umap' is not one of"),
    pytest.param({"clusterer_variants": {"kmeans": {"method": "kmeans"}}}, "flat.clusterer_variants.kmeans",
                 "is a built-in clusterer", marks=pytest.mark.slow),
    pytest.param({"selection": {"datasets": ["imagenet"]}}, "flat.selection", "'imagenet' is not a data set",
                 marks=pytest.mark.slow),
])
def test_bad_flat_names_stop_at_dag_build_naming_the_key(tmp_path, flat, key, fragment):
    proc, out = _flat_dry_run(tmp_path, flat)
    assert proc.returncode != 0 and f"config error at '{key}'" in out and fragment in out, out[-2000:]
    assert "Traceback" not in out

# --- issue 28: kNN / k-means backends and the heads' device --------------------------------


def test_config_errors_name_an_unknown_backend():
    errors = _schema_errors(heads={"knn_backend": "annoy", "kmeans_backend": "sklearn"})
    assert set(errors) == {"heads.knn_backend", "heads.kmeans_backend"}
    assert "'annoy' is not one of ['exact', 'faiss-flat', 'faiss-ivf']" in errors["heads.knn_backend"]
    assert not _schema_errors(heads={"knn_backend": "faiss-ivf", "knn_nprobe": 64, "kmeans_backend": "faiss"})


def test_faiss_backend_without_faiss_stops_at_dag_build(tmp_path, monkeypatch):
    # A faiss that fails to import (shadowing the installed one) stands for "not installed".
    shadow = tmp_path / "shadow" / "faiss"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no faiss in this test')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")]))
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"heads": {"knn_backend": "faiss-ivf"}})
    assert proc.returncode != 0
    assert "config error at 'heads.knn_backend': 'faiss-ivf': faiss is not installed" in out, out[-2000:]
    assert "pip install faiss-cpu" in out and "Traceback" not in out and not (tmp_path / "results").exists()


@_SLOW
def test_flat_faiss_backend_without_faiss_and_cuda_without_a_gpu_stop_at_dag_build(tmp_path, monkeypatch):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    if not preflight.cuda_available():
        proc, out = _dry_run(tmp_path, {"path": str(path)}, {"heads": {"device": "cuda"}})
        assert proc.returncode != 0
        assert "config error at 'heads.device': 'cuda' but this machine has no CUDA GPU" in out, out[-2000:]
    shadow = tmp_path / "shadow" / "faiss"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no faiss in this test')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")]))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"flat": {"clusterers": ["kmeans-cosine"], "clusterer_params":
                                                                  {"kmeans-cosine": {"backend": "faiss"}}}})
    assert proc.returncode != 0
    assert "config error at 'flat.clusterer_params.kmeans-cosine.backend': 'faiss': faiss is not installed" in out, \
        out[-2000:]


def test_cuda_is_unavailable_without_a_cuda_build_of_torch(monkeypatch):
    monkeypatch.setattr(preflight, "_torch_cuda_build", lambda: None)  # a CPU-only torch
    assert preflight.cuda_available() is False

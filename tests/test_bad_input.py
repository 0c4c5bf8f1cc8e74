"""Bad input stops the run at DAG build with one error naming the file and the config key.

Each case of issue 13: a listed class with 0 samples, a file that is not a zip / has a bad
CRC / holds an object array, logits without class names, duplicate class names, a class
with exactly one sample (a warning, not an error), an unknown top-level config key.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT
from embtree.io import FeaturesFileError, check_features_file, config_errors, load_embeddings

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
    np.savez(path, features=_feats(), labels=np.r_[np.zeros(6, int), np.ones(5, int), 2],
             class_names=np.array(list("abc")))
    assert check_features_file(path)["single_sample_classes"] == ["c"]


def test_nan_features_pass_the_cheap_check_and_fail_the_import_job(tmp_path):
    # The SLURM test's failing job relies on this: the DAG-time check never reads the
    # features, the import job does and names the file.
    from embtree.datasets import load_dataset

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


def test_config_errors_name_the_unknown_key_only():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    cfg = {"datasets": {"d": {"type": "digits", "encoders": ["p"]}}, "encoders": {"p": {"type": "pixels"}},
           "caeck": {}, "flat": {"seedz": [1]}}
    errors = config_errors(cfg, schema)
    assert [path for path, _ in errors] == [["caeck"], ["flat", "seedz"]]
    assert all(len(msg) < 300 for _, msg in errors)


# --- the same cases through the workflow: the error comes at DAG build, before any job -------


def _dry_run(tmp_path, dataset, top_extra=None):
    cfg = {"datasets": {"f": {"type": "features", "encoder_name": "given", **dataset}}, **(top_extra or {})}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "--cores", "1", "-n",
           "--configfile", str(tmp_path / "c.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    return proc, proc.stdout + proc.stderr


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


def test_unknown_top_level_key_prints_its_path_not_the_schema(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, features=_feats(), labels=np.arange(12) % 3, class_names=np.array(list("abc")))
    proc, out = _dry_run(tmp_path, {"path": str(path)}, {"bogus_key": 1})
    assert proc.returncode != 0
    assert "at ['bogus_key']: Additional properties are not allowed" in out
    assert "$defs" not in out and "description" not in out and len(out) < 3000


def test_import_job_names_the_file_for_unreadable_npz(tmp_path):
    # Files above check_features_file's CRC budget are read only by the import job: same clarity.
    from embtree.datasets import load_dataset

    path = tmp_path / "f.npz"
    _bad_crc(path)
    with pytest.raises(ValueError, match=f"{path}: cannot read .*CRC"):
        load_dataset({"type": "features", "path": str(path)})
    CASES["object-array"][0](path)
    with pytest.raises(ValueError, match=f"{path}: cannot read .*[Oo]bject arrays"):
        load_dataset({"type": "features", "path": str(path)})

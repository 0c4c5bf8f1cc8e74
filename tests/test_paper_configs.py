"""The papers' configurations (config/papers/) and the report's paper pages (embtree.report.papers).

Each paper has its own setup (config/papers/<paper>.yaml: its data sets and encoders, which need
weights and data) and an offline counterpart with the same analysis settings on the data shipped
with embtree (config/papers/offline/<paper>.yaml). The offline DAGs are planned here with
`snakemake --summary` (seconds, no job runs) and matched against the paper catalogue.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from conftest import ROOT
from embtree.report.papers import PAPERS, outputs_matching, paper_status, report_stem

SCHEMA = str(ROOT / "workflow/schemas/config.schema.yaml")
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# Sections that are not analysis settings: the offline counterpart replaces them.
DATA_SECTIONS = {"datasets", "encoders", "cache_dir"}
# Settings an offline counterpart may change, with the reason (its header comment says so too).
OFFLINE_DIFFERS = {
    ("heads", "heads", "coarse_depths"): "the CIFAR-10 tree is shallower than ImageNet's",
    ("heads", "heads", "knn"): "sweeps: config/papers/offline/heads_sweeps.yaml runs them, shortened",
    ("heads", "heads", "n_clusters"): "sweeps: config/papers/offline/heads_sweeps.yaml runs them, shortened",
    ("heads", "heads", "overrides"): "ImageNet's scale: faiss k-means / faiss-ivf neighbours per data set",
    ("zs_ssl", "flat", "selection"): "names the development data sets",
    ("zs_ssl", "flat", "encoder_reducers"): "names the encoders",
}
OFFLINE_TYPES = {"features", "digits", "planted-tree"}


def _load(path):
    return yaml.safe_load((ROOT / path).read_text())


def _offline(key):
    return f"config/papers/offline/{key}.yaml"


@pytest.mark.parametrize("key", sorted(PAPERS))
def test_paper_configs_exist_and_validate(key):
    for path in (PAPERS[key].config, _offline(key)):
        validate(_load(path), SCHEMA)


@pytest.mark.parametrize("key", sorted(PAPERS))
def test_offline_config_keeps_the_papers_settings(key):
    paper, offline = _load(PAPERS[key].config), _load(_offline(key))
    for section in (set(paper) | set(offline)) - DATA_SECTIONS:
        mine, theirs = dict(offline.get(section) or {}), dict(paper.get(section) or {})
        for (k, s, name), _why in OFFLINE_DIFFERS.items():
            if k == key and s == section:
                mine.pop(name, None), theirs.pop(name, None)
        assert mine == theirs, f"{_offline(key)}: section {section!r} differs from {PAPERS[key].config}"


@pytest.mark.parametrize("key", sorted(PAPERS))
def test_offline_config_needs_no_download(key):
    cfg = _load(_offline(key))
    for name, spec in cfg["datasets"].items():
        assert spec["type"] in OFFLINE_TYPES, name
    for name, spec in (cfg.get("encoders") or {}).items():
        assert spec["type"] == "pixels" or not spec.get("pretrained"), name


def test_caec_config_covers_the_papers_setup():
    cfg = _load("config/papers/caec.yaml")
    assert {spec["type"] for spec in cfg["datasets"].values()} == {"cifar10", "cifar100", "cifar100-coarse",
                                                                   "imagenet"}
    models = {spec.get("model") for spec in cfg["encoders"].values()}
    assert {"vit_base_patch16_224", "tf_efficientnetv2_s", "convnext_base"} <= models
    assert all(spec["pretrained"] for spec in cfg["encoders"].values())
    assert cfg["caec"]["metrics"] == ["euclidean", "manhattan", "canberra"]


def _planned_report_stems(config):
    """Report outputs (embtree.report.papers.report_stem form) the DAG of ``config`` plans."""
    proc = subprocess.run([SNAKEMAKE, "--summary", "--nolock", "--configfile", config], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    paths = [line.split("\t", 1)[0] for line in proc.stdout.splitlines()]
    return {report_stem(p) for p in paths if p.startswith("results/report/")}


@pytest.fixture(scope="module")
def planned():
    """{offline config stem: its planned report outputs}, the papers' and any extra (heads_sweeps)."""
    return {path.stem: _planned_report_stems(str(path.relative_to(ROOT)))
            for path in sorted((ROOT / "config/papers/offline").glob("*.yaml"))}


def test_each_offline_run_plans_its_paper_page_and_most_of_its_items(planned):
    for key in sorted(PAPERS):
        stems = planned[key]
        assert f"papers/{key}" in stems
        status = paper_status(PAPERS[key], stems)
        buildable = status[status["status"] != "not built"]
        produced = buildable[buildable["status"] == "produced"]
        # Offline data cannot stand in for everything (e.g. image examples of a features-only set),
        # but the paper's own run produces most of what embtree builds.
        assert len(produced) >= 0.6 * len(buildable), (key, status.to_string())


def test_every_catalogued_output_is_planned_by_some_offline_run(planned):
    every = sorted(set().union(*planned.values()))
    for key, paper in PAPERS.items():
        for item in paper.items:
            for pattern in item.outputs:
                assert outputs_matching([pattern], every), f"{key} {item.label}: no planned output matches {pattern}"

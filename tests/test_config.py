"""The config schema: shipped configs validate; bad ones stop with the offending key named."""

import copy

import pytest
import yaml
from snakemake.utils import validate

from conftest import ROOT

SCHEMA = str(ROOT / "workflow/schemas/config.schema.yaml")


def _load(name):
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "papers/caec.yaml"])
def test_shipped_configs_validate_and_get_defaults(name):
    cfg = _load(name)
    validate(cfg, SCHEMA)
    for spec in cfg["encoders"].values():
        assert spec["batch_size"] >= 1 and spec["embedding"] in ("pre_logits", "final_block")
    for spec in cfg["datasets"].values():
        assert "max_per_class" in spec and "split" in spec


def _mutate(path, value):
    cfg = _load("config.yaml")
    *parents, last = path
    node = cfg
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return cfg


@pytest.mark.parametrize(
    "path, value, named",
    [
        (("datasets", "digits", "type"), "svhn", "['datasets']['digits']['type']"),
        (("encoders", "pixels", "type"), "vgg", "['encoders']['pixels']['type']"),
        (("caec",), {"metrics": ["euclidean", "chebyshev"]}, "['caec']['metrics'][1]"),
        (("encoders", "resnet18-random", "batch_size"), "big", "['encoders']['resnet18-random']['batch_size']"),
        (("datasets", "planted-tree", "depth"), 0, "['datasets']['planted-tree']['depth']"),
        (("datasets", "digits", "max_per_clas"), 5, "'max_per_clas' was unexpected"),
        (("datasets", "cifar10-resnet20", "path"), KeyError, "'path' is a required property"),
        (("encoders", "resnet18-random", "model"), KeyError, "'model' is a required property"),
        (("datasets",), KeyError, "'datasets' is a required property"),
        (("trees",), {"bootstrap": 0}, "['trees']['bootstrap']"),
    ],
)
def test_schema_rejects_bad_config_naming_the_key(path, value, named):
    cfg = _mutate(path, value)
    with pytest.raises(Exception, match="Error validating config") as info:
        validate(copy.deepcopy(cfg), SCHEMA)
    assert named in str(info.value)


@pytest.mark.parametrize("path", ["config/examples/imagefolder.yaml", "config/examples/features.yaml",
                                  ".test/config/config.yaml"])  # fmt: skip
def test_example_and_ci_configs_validate(path):
    cfg = yaml.safe_load((ROOT / path).read_text())
    validate(cfg, SCHEMA)
    for spec in cfg["datasets"].values():
        assert spec.get("reference") or spec["type"] == "planted-tree" or spec["type"] == "digits"


def _schema_defaults(schema, node, prefix=""):
    """(dotted key, default) for every property with a default below ``node``, recursively."""
    for key, sub in node.get("properties", {}).items():
        if "$ref" in sub:
            continue
        path = f"{prefix}{key}"
        if "default" in sub:
            yield path, sub["default"]
        if sub.get("type") == "object":
            yield from _schema_defaults(schema, sub, path + ".")


def _lookup(cfg, dotted):
    node = cfg
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return KeyError
        node = node[key]
    return node


# config/config.yaml is a tour: it shortens these settings on purpose, each with a "Tour:"
# comment, and the report captions name every one that changes numbers (embtree.settings).
# Anything else it restates must equal the schema's default (one source of truth).
TOUR_SETTINGS = {"heads.datasets", "heads.coarse_depths", "heads.seeds", "flat.seeds", "flat.clusterers",
                 "merge_expand.max_seeds", "merge_expand.seeds", "l2h.seeds"}


def test_default_config_restates_no_schema_default_differently():
    schema = yaml.safe_load(open(SCHEMA))
    cfg = _load("config.yaml")
    text = (ROOT / "config" / "config.yaml").read_text()
    differing = set()
    for key, default in _schema_defaults(schema, schema):
        value = _lookup(cfg, key)
        if value is not KeyError and not isinstance(default, dict) and value != default:
            differing.add(key)
            assert key in TOUR_SETTINGS, f"config.yaml sets {key}={value!r}, the schema default is {default!r}"
    assert differing == TOUR_SETTINGS
    assert text.count("Tour:") >= 3


def test_tour_settings_reach_the_report_captions():
    from embtree.settings import NOT_SETTINGS, changed_settings

    schema = yaml.safe_load(open(SCHEMA))
    cfg = _load("config.yaml")
    validate(cfg, SCHEMA)  # fills the defaults, as the workflow does
    named = changed_settings(cfg, schema)
    for key in TOUR_SETTINGS:
        section, name = key.split(".")
        if name not in NOT_SETTINGS.get(section, ()):  # choices of what runs, not of how
            assert any(line.startswith(f"{key} = ") for line in named[section]), key
    assert any(line.startswith("heads.overrides.cifar10-resnet20: ") for line in named["heads"])


def test_schema_defaults_are_the_good_ones():
    cfg = {"datasets": {"d": {"type": "digits", "encoders": ["p"]}}, "encoders": {"p": {"type": "pixels"}}}
    validate(cfg, SCHEMA)
    assert cfg["caec"]["step"] == "auto" and cfg["caec"]["min_cluster_size"] == 5
    assert cfg["flat"]["seeds"] == [0, 1] and cfg["flat"]["max_quadratic_samples"] == 4000


@pytest.mark.parametrize("name", ["papers/offline/heads.yaml", "heldout.yaml"])
def test_other_shipped_configs_validate(name):
    cfg = _load(name)
    validate(cfg, SCHEMA)
    assert cfg["heads"]["seeds"] == [0, 1, 2] and cfg["heads"]["num_heads"] == 16  # the reference settings
    if name == "heldout.yaml":
        assert cfg["datasets"]["cifar10-resnet20"]["eval_fraction"] == 0.5


def test_the_sweeps_config_validates_and_starts_each_sweep_at_the_main_setting():
    cfg = _load("papers/offline/heads_sweeps.yaml")
    validate(cfg, SCHEMA)
    # The first value of each sweep is the main run: the papers' k and one cluster per class.
    assert cfg["heads"]["knn"][0] == 50 and cfg["heads"]["n_clusters"][0] == "1x"

"""embtree.settings: the settings a run changed from the schema's defaults (named in the report captions)."""

from pathlib import Path

import yaml

from embtree.settings import NOT_SETTINGS, REPORT_SECTIONS, SECTIONS, changed_settings, settings_note

ROOT = Path(__file__).resolve().parents[1]


def _schema():
    return yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def _defaults(schema):
    props = schema["properties"]
    return {s: {k: v.get("default") for k, v in props[s]["properties"].items()} for s in SECTIONS}


def test_schema_defaults_change_nothing():
    schema = _schema()
    assert changed_settings(_defaults(schema), schema) == {s: [] for s in SECTIONS}


def test_changed_keys_and_overrides_are_named():
    schema = _schema()
    config = _defaults(schema)
    config["flat"]["seeds"] = [0]
    config["flat"]["reducers"] = ["none"]  # chooses what runs: not a setting
    config["heads"]["overrides"] = {"b": {"epochs": 10, "lr": 1.0e-4}, "a": {"num_heads": 2}}
    got = changed_settings(config, schema)
    assert got["flat"] == ["flat.seeds = [0] (papers: [0, 1])"]
    # lr equals the default: not listed; data sets in sorted order
    assert got["heads"] == ["heads.overrides.a: num_heads = 2 (papers: 16)",
                            "heads.overrides.b: epochs = 10 (papers: 100)"]
    assert all(got[s] == [] for s in SECTIONS if s not in ("flat", "heads"))


def test_embedded_default_config_is_a_stated_tour():
    """config/config.yaml shortens settings; the report captions must be able to say which."""
    schema = _schema()
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    merged = _defaults(schema)
    for s in SECTIONS:
        merged[s].update(config.get(s) or {})
    got = changed_settings(merged, schema)
    assert any(line.startswith("heads.overrides.cifar10-resnet20: num_heads = 2") for line in got["heads"])
    for section in SECTIONS:
        for key in (config.get(section) or {}):
            if key not in NOT_SETTINGS.get(section, ()):
                assert any(line.startswith(f"{section}.{key} = ") for line in got[section]), (section, key)


def test_settings_note_names_what_each_table_family_depends_on():
    changed = {s: [] for s in SECTIONS}
    assert all(settings_note(changed, family) is None for family in REPORT_SECTIONS)
    changed["heads"] = ["heads.overrides.a: epochs = 10 (papers: 100)"]
    assert settings_note(changed, "flat") is None and settings_note(changed, "caec") is None
    for family in ("heads", "l2h", "cross"):  # L2H trees from the heads' logits, and the cross table
        note = settings_note(changed, family)
        assert note.startswith("Shortened run, not the papers' setup: heads.overrides.a: epochs = 10")


def test_a_sweep_counts_as_changed_only_when_its_main_value_is():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    config = {"heads": {"knn": [50, 10, 100], "n_clusters": ["1x", "2x"], "overrides": {"a": {"knn": [20, 50]}}}}
    got = changed_settings(config, schema)["heads"]
    # knn's main run is the papers' 50 and n_clusters' "1x" the classes, as null: only the override differs
    assert got == ["heads.overrides.a: knn = [20, 50] (papers: 50)"]
    config["heads"]["n_clusters"] = ["2x", "1x"]
    assert changed_settings(config, schema)["heads"][0] == "heads.n_clusters = ['2x', '1x'] (papers: None)"

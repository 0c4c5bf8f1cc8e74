"""Tests of embtree.merge_expand.params: defaults (the config schema's), checks, the region count."""

import pytest
import yaml

from conftest import ROOT
from embtree import merge_expand as me


def test_defaults_are_the_schema_defaults():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["merge_expand"]["properties"]
    from_schema = {k: v["default"] for k, v in props.items() if k != "seeds"}  # seeds: one job each
    assert from_schema == me.DEFAULTS
    assert all(v.get("description") for v in props.values())


@pytest.mark.parametrize(
    "params, key",
    [({"n_regions": 1}, "n_regions"), ({"input": "pixels"}, "input"), ({"alpha": 2.0}, "alpha"),
     ({"lr": 0}, "lr"), ({"nonsense": 1}, "nonsense")],
)
def test_check_params_names_the_key(params, key):
    with pytest.raises(ValueError, match=key):
        me.check_params(params)


def test_small_data_caps_the_region_count():
    # Issue: 120 samples failed the default run (n_regions=200); now 120 // 5 = 24 regions.
    assert me.region_count(120, 200, 5) == 24
    assert me.region_count(10_000, 200, 5) == 200
    assert me.region_count(7, 200, 5) == 2 and me.region_count(3, 200, 1) == 3

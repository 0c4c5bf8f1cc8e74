"""embtree.heads.params: bad parameters name the key, the defaults are the schema's, kNN capped
on small data."""

import ast
import re

import numpy as np
import pytest
import yaml

from conftest import ROOT
from embtree.heads import knn, params


def test_bad_input_names_the_key():
    with pytest.raises(ValueError, match="beta"):
        params.check_params("temi", {"beta": 0})


def test_library_defaults_are_the_schema_defaults():
    # The workflow passes the schema's values (config.schema.yaml is the source of truth);
    # heads.PARAMS is the library's own default for callers outside the workflow: the two
    # must not drift apart.
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["heads"]["properties"]
    smk = (ROOT / "workflow/rules/heads_common.smk").read_text()
    workflow_only = ast.literal_eval(re.search(r"^HEADS_WORKFLOW_KEYS = (\{.*\})$", smk, re.M).group(1))
    # `seed` is no config key: each job's seed is one of heads.seeds (a workflow key), the first the default.
    assert set(props) - workflow_only == set(params.PARAMS) - {"seed"}
    assert {k: props[k]["default"] for k in params.PARAMS if k != "seed"} == {
        k: v for k, v in params.PARAMS.items() if k != "seed"}
    assert props["seeds"]["default"][0] == params.PARAMS["seed"] and "seeds" in workflow_only


def test_knn_is_capped_on_small_data(caplog):
    assert params.knn_for(1000, 50) == 50
    with caplog.at_level("WARNING"):
        assert params.knn_for(24, 50) == 23
    assert "capped at n_samples - 1 = 23" in caplog.text
    assert params.knn_for(24, 23) == 23  # k = n - 1: every other sample, no warning needed
    X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    nbr = knn.mine_knn(X, params.knn_for(len(X), 50))
    assert nbr.shape == (12, 11) and not (nbr == np.arange(12)[:, None]).any()


def test_n_clusters_as_a_multiple_of_the_classes():
    assert params.parse_n_clusters(None) is None
    assert params.parse_n_clusters(12) == ("count", 12)
    assert params.parse_n_clusters("2x") == ("factor", 2.0) and params.parse_n_clusters("1.5x") == ("factor", 1.5)
    assert [params.resolve_n_clusters(s, 10) for s in (None, "1x", "2x", "1.5x", "0.25x", 7)] == [10, 10, 20, 15, 2, 7]
    assert params.resolve_n_clusters("1.5x", 5) == 8  # rounded (7.5 -> 8)
    for bad in ("2", "x", "-1x", "0x", "2.x", 1, True, 2.0):
        with pytest.raises(ValueError, match="n_clusters"):
            params.parse_n_clusters(bad)
    assert params.check_params("temi", {"n_clusters": "4x"})["n_clusters"] == "4x"
    with pytest.raises(ValueError, match="n_clusters='many'"):
        params.check_params("temi", {"n_clusters": "many"})

"""The conda env files stay in step with pyproject.toml (users of ``--sdm conda`` get the same stack)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name where they differ
CONDA_NAME = {"torch": "pytorch", "open_clip_torch": "open-clip-torch", "matplotlib": "matplotlib-base"}


def _name(req):
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0]


def _env(name):
    env = yaml.safe_load((ROOT / "envs" / f"{name}.yaml").read_text())
    return env, {_name(d).replace(" ", ""): d for d in env["dependencies"] if isinstance(d, str)}


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_env_files_cover_pyproject_dependencies():
    project = _project()
    core, encoders = project["dependencies"], project["optional-dependencies"]["encoders"]
    (_, analysis), (_, embedding) = _env("analysis"), _env("embedding")
    for req in core + encoders:
        conda_name = CONDA_NAME.get(_name(req), _name(req))
        assert conda_name in embedding, f"envs/embedding.yaml lacks {conda_name} ({req} in pyproject.toml)"
        if req in core:
            assert conda_name in analysis, f"envs/analysis.yaml lacks {conda_name} ({req} in pyproject.toml)"


def test_env_files_install_the_checkouts_own_embtree():
    # `pip install -e ..` runs in envs/ (conda runs pip beside the env file): the checkout root,
    # so jobs under --sdm conda import this checkout's embtree, and pip pulls in nothing the
    # env lacks (the core dependencies above are all conda packages of the env).
    for name in ("analysis", "embedding"):
        env, _ = _env(name)
        pips = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
        assert pips == [["-e .."]], f"envs/{name}.yaml: pip entry {pips}"
        assert (ROOT / "envs" / ".." / "pyproject.toml").is_file()


def test_rules_only_reference_existing_env_files():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for rel in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / rel).resolve().is_file(), f"{smk.name}: conda env {rel} not found"

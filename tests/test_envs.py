"""The conda env files stay in step with pyproject.toml (users of ``--sdm conda`` get the same stack)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name where they differ
CONDA_NAME = {"torch": "pytorch", "open_clip_torch": "open-clip-torch", "matplotlib": "matplotlib-base"}
# Orchestration only: installed beside snakemake, not inside the job environments.
NOT_IN_JOB_ENVS = {"snakemake", "snakemake-executor-plugin-slurm"}
# Only the embedding rule needs the deep-learning stack.
EMBEDDING_ONLY = {"torch", "torchvision", "timm", "open_clip_torch"}


def _name(req):
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0]


def _env(name):
    env = yaml.safe_load((ROOT / "envs" / f"{name}.yaml").read_text())
    return {_name(d).replace(" ", ""): d for d in env["dependencies"] if isinstance(d, str)}


def test_env_files_cover_pyproject_dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    analysis, embedding = _env("analysis"), _env("embedding")
    for req in deps:
        pip_name = _name(req)
        if pip_name in NOT_IN_JOB_ENVS:
            continue
        conda_name = CONDA_NAME.get(pip_name, pip_name)
        assert conda_name in embedding, f"envs/embedding.yaml lacks {conda_name} ({req} in pyproject.toml)"
        if pip_name not in EMBEDDING_ONLY:
            assert conda_name in analysis, f"envs/analysis.yaml lacks {conda_name} ({req} in pyproject.toml)"


def test_rules_only_reference_existing_env_files():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for rel in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / rel).resolve().is_file(), f"{smk.name}: conda env {rel} not found"

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


# --- pinned versions: requirements-lock.txt, setup.sh's TORCH_SPEC and envs/*.yaml agree -----


def _lock():
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements-lock.txt: '{line}' is not an exact pin (name==version)"
            pins[_norm(name)] = version
    return pins


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _torch_spec():
    """setup.sh's default TORCH_SPEC on x86_64 (the platform CI runs): {name: version}."""
    text = (ROOT / "setup.sh").read_text()
    spec = re.search(r'\*\) TORCH_SPEC="([^"]+)"', text).group(1)
    return {_norm(n): v for n, v in (r.split("==") for r in spec.split())}


def test_lock_file_pins_every_dependency_within_pyproject_bounds():
    from packaging.requirements import Requirement

    pins = {**_lock(), **_torch_spec()}
    project = _project()
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    for text in reqs:
        req = Requirement(text)
        name = _norm(req.name)
        assert name in pins, f"{req.name} ({text} in pyproject.toml) is not pinned in requirements-lock.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements-lock.txt pins {req.name}=={pins[name]}, outside pyproject.toml's {text}"
        )
    assert not set(_torch_spec()) & set(_lock()), "torch/torchvision belong in setup.sh's TORCH_SPEC only"


def test_env_files_pin_the_lock_files_versions():
    pins = {**_lock(), **_torch_spec()}
    pip_name = {conda: pip for pip, conda in CONDA_NAME.items()}
    for name in ("analysis", "embedding"):
        _, deps = _env(name)
        for conda_name, dep in deps.items():
            if conda_name in ("python", "pip"):
                continue
            m = re.fullmatch(r"\S+\s*==\s*(\S+)", dep)
            assert m, f"envs/{name}.yaml: '{dep}' is not pinned (name ==version)"
            want = pins[_norm(pip_name.get(conda_name, conda_name))]
            assert m.group(1) == want, f"envs/{name}.yaml pins {dep}, requirements-lock.txt has {want}"


def test_setup_installs_from_the_lock_file():
    text = (ROOT / "setup.sh").read_text()
    assert "pip install --quiet -r requirements-lock.txt" in text
    assert "--no-deps -e" in text

#!/usr/bin/env bash
# Build .venv with embtree and everything the workflow and tests need. Idempotent.
#
#   bash setup.sh            # then: .venv/bin/snakemake --cores all
#
# TORCH_SPEC overrides the PyTorch pin (e.g. a CUDA-specific index or version for your GPU);
# every other package comes at the version in requirements-lock.txt (LOCK=0: newest allowed).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if [ -z "${TORCH_SPEC:-}" ]; then
    case "$(uname -m)" in
        aarch64 | arm64) TORCH_SPEC="torch==2.9.1 torchvision==0.24.1" ;;
        *) TORCH_SPEC="torch==2.14.1 torchvision==0.29.1" ;;
    esac
fi

if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi

if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
    echo "[setup] installing $TORCH_SPEC"
    # shellcheck disable=SC2086  # TORCH_SPEC is a list of requirement specifiers
    .venv/bin/pip install --quiet $TORCH_SPEC
fi

# Every other package at the exact version CI tested (requirements-lock.txt), then embtree
# itself without resolving again (--no-deps), then a consistency check. LOCK=0 skips the lock
# and lets pip pick the newest versions pyproject.toml allows.
if [ "${LOCK:-1}" = 1 ]; then
    echo "[setup] installing the pinned dependencies (requirements-lock.txt)"
    .venv/bin/pip install --quiet -r requirements-lock.txt
    echo "[setup] installing embtree"
    .venv/bin/pip install --quiet --no-deps -e ".[encoders,workflow,dev]"
    .venv/bin/pip check >/dev/null || { .venv/bin/pip check; exit 1; }
else
    echo "[setup] installing embtree and its dependencies (unpinned: LOCK=0)"
    .venv/bin/pip install --quiet -e ".[encoders,workflow,dev]"
fi

# WordNet 3.0: embtree ships its nouns (src/embtree/data/wordnet-3.0-nouns.zip), enough for every
# reference tree; where Debian's wordnet-base is installed, its full WordNet is copied into an NLTK
# data dir and preferred (same trees; `python -m embtree.hierarchy.wordnet check` says which is used).
if [ -d /usr/share/wordnet ] && [ ! -e resources/nltk_data/corpora/wordnet/lexnames ]; then
    echo "[setup] preparing WordNet from /usr/share/wordnet into resources/nltk_data"
    .venv/bin/python -m embtree.hierarchy.wordnet prepare resources/nltk_data
fi

echo "[setup] done: $(.venv/bin/python -c 'import embtree, torch; print("embtree", embtree.__version__, "torch", torch.__version__)')"

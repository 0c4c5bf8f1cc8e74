"""Image encoders: timm models, open_clip image towers and a raw-pixel baseline.

Public names
------------
:func:`build_encoder` (a config entry -> :class:`Encoder`), :data:`ENCODERS` (encoder
``type`` -> builder), :class:`Encoder`, :class:`MissingWeightsError`,
:func:`prefetch_encoder`, :func:`configure_cache`, :func:`library_versions`,
:func:`standardise`, :data:`PIXELS_DEFAULT_SIZE`.

``ENCODERS`` is an explicit registry, no name matching. A builder returns an
:class:`Encoder`: the image transform (taken from the model's own pretrained config unless
``image_size`` overrides the size), a forward function returning ``(features, logits or
None)`` and the metadata that changes the result (weights, preprocessing, versions), which
:func:`embtree.data.extract.encode` writes into the embeddings' sidecar JSON.

Embeddings are the penultimate layer ("pre-logits": the pooled, normalised
representation fed to the classifier, timm's ``forward_head(pre_logits=True)``);
``embedding: final_block`` instead flattens the last block's output
(``forward_features``), e.g. all ViT tokens as in the CAEC paper (sec. 3.1.1).
Logits are the classifier head's output when the model has one (timm models
with ``num_classes > 0``); open_clip and pixels have none.

Weights are read from ``<cache_dir>/hf/hub`` (Hugging Face Hub layout, also used
for URL downloads): :func:`prefetch_encoder` fills it on a machine with internet;
encoding runs offline by default and fails fast with instructions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

__all__ = [
    "ENCODERS",
    "Encoder",
    "MissingWeightsError",
    "PIXELS_DEFAULT_SIZE",
    "build_encoder",
    "configure_cache",
    "library_versions",
    "prefetch_encoder",
    "standardise",
]

log = logging.getLogger(__name__)

# Schema defaults of an encoder entry's model options, so direct Python callers behave like
# the workflow (the run options, batch size and so on, are embtree.data.extract's).
_DEFAULTS = {
    "pretrained": True,
    "checkpoint": None,
    "image_size": None,
    "seed": 0,
    "embedding": "pre_logits",
}
PIXELS_DEFAULT_SIZE = 32


class MissingWeightsError(RuntimeError):
    """Pretrained weights are neither cached nor downloadable."""


@dataclass
class Encoder:
    """A ready-to-run encoder.

    Attributes
    ----------
    transform : callable
        ``PIL.Image -> torch.Tensor`` of shape (3, H, W) (or (D,) for pixels).
    forward : callable
        ``torch.Tensor (B, ...) -> (features (B, d), logits (B, K) or None)``.
    module : torch.nn.Module or None
        moved to the device by :func:`embtree.data.extract.extract`.
    postprocess : callable or None
        ``ndarray (N, d) -> ndarray (N, d)`` applied to the whole feature matrix.
    metadata : dict
    """

    transform: Callable
    forward: Callable
    module: object = None
    postprocess: Callable | None = None
    metadata: dict = field(default_factory=dict)


def _opt(spec, key):
    return spec.get(key, _DEFAULTS[key])


# --------------------------------------------------------------------------- cache


def configure_cache(cache_dir, offline=None):
    """Point Hugging Face / torch hub caches into ``cache_dir``; optionally go offline.

    Sets ``HF_HOME=<cache_dir>/hf`` and ``TORCH_HOME=<cache_dir>/torch`` (for libraries
    imported later) and returns the hub directory ``<cache_dir>/hf/hub`` that is also
    passed explicitly to timm / open_clip (they may have been imported already).
    ``offline=True`` makes the hub raise at once instead of retrying for a minute.
    """
    cache_dir = Path(cache_dir).absolute()
    os.environ["HF_HOME"] = str(cache_dir / "hf")
    os.environ["TORCH_HOME"] = str(cache_dir / "torch")
    if offline is not None:
        os.environ["HF_HUB_OFFLINE"] = "1" if offline else "0"
        with contextlib.suppress(ImportError):  # deferred: optional, comes with timm / open_clip
            import huggingface_hub.constants as hf_constants

            hf_constants.HF_HUB_OFFLINE = bool(offline)  # read at call time by the hub client
    hub = cache_dir / "hf" / "hub"
    hub.mkdir(parents=True, exist_ok=True)
    return hub


def _missing_weights(kind, model, hub, exc):
    return MissingWeightsError(
        f"pretrained weights for {kind} model '{model}' are not in the cache {hub} and cannot be "
        f"downloaded here ({type(exc).__name__}: {str(exc)[:300]}). Run `snakemake prefetch` on a "
        "machine with internet (it fills cache_dir) and copy cache_dir here, or set "
        "`checkpoint: /path/to/weights` in the encoder's config entry."
    )


def _sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _checkpoint(spec):
    ckpt = _opt(spec, "checkpoint")
    if ckpt is None:
        return None
    ckpt = Path(ckpt)
    if not ckpt.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {ckpt}")
    return ckpt


def library_versions():
    """Versions of the libraries that can change embeddings (those installed here).

    Read from the installed distributions' metadata, not by importing them: importing
    torch/timm/open_clip costs seconds, paid by every job that records versions.
    """
    out = {"python": platform.python_version(), "numpy": np.__version__}
    dists = {"torch": "torch", "torchvision": "torchvision", "timm": "timm",
             "open_clip": "open_clip_torch", "PIL": "pillow", "sklearn": "scikit-learn"}
    for name, dist in dists.items():
        with contextlib.suppress(metadata.PackageNotFoundError):  # analysis env: no torch
            out[name] = metadata.version(dist)
    return out


# --------------------------------------------------------------------------- builders


def _build_timm(spec, hub):
    # Deferred here and below: torch / timm / open_clip cost seconds to import and are the
    # `encoders` extra, absent from the analysis environments that import this module.
    import timm
    import torch
    from timm.data import create_transform, resolve_data_config

    name = spec["model"]
    if not timm.is_model(name):
        raise ValueError(f"model={name!r} is not a timm model (see timm.list_models())")
    pretrained = _opt(spec, "pretrained")
    if not isinstance(pretrained, bool):
        raise ValueError(f"pretrained={pretrained!r}: a timm encoder takes true or false")
    ckpt = _checkpoint(spec)
    image_size = _opt(spec, "image_size")
    kwargs = {}
    if image_size and timm.get_pretrained_cfg_value(name, "fixed_input_size"):
        kwargs["img_size"] = image_size  # ViT-style models: rebuild patch grid, resample pos-embed
    torch.manual_seed(_opt(spec, "seed"))  # only matters for random-init weights
    try:
        if ckpt is not None:
            model = timm.create_model(
                name, pretrained=True, pretrained_cfg_overlay={"file": str(ckpt)}, cache_dir=hub, **kwargs
            )
        else:
            model = timm.create_model(name, pretrained=pretrained, cache_dir=hub, **kwargs)
    except Exception as exc:
        if ckpt is not None:
            raise ValueError(f"cannot load checkpoint {ckpt} into timm model '{name}': {exc}") from exc
        if pretrained:
            raise _missing_weights("timm", name, hub, exc) from exc
        raise
    model.eval()
    args = {"input_size": (3, image_size, image_size)} if image_size else {}
    cfg = resolve_data_config(args, model=model)
    transform = create_transform(**cfg, is_training=False)
    mode = _opt(spec, "embedding")
    has_head = getattr(model, "num_classes", 0) > 0

    def forward(x):
        h = model.forward_features(x)
        feats = h.flatten(1) if mode == "final_block" else model.forward_head(h, pre_logits=True)
        logits = model.forward_head(h) if has_head else None
        return feats, logits

    pcfg = dict(getattr(model, "pretrained_cfg", {}) or {})
    meta = {
        "weights": {
            "pretrained": bool(pretrained or ckpt),
            "tag": pcfg.get("tag") if (pretrained and not ckpt) else None,
            "hf_hub_id": pcfg.get("hf_hub_id") if (pretrained and not ckpt) else None,
            "random_init_seed": None if (pretrained or ckpt) else _opt(spec, "seed"),
        },
        "preprocessing": {
            "image_size": int(cfg["input_size"][-1]),
            "mean": list(cfg["mean"]),
            "std": list(cfg["std"]),
            "interpolation": cfg["interpolation"],
            "crop_pct": cfg["crop_pct"],
            "crop_mode": cfg.get("crop_mode"),
            "transform": repr(transform),
        },
        "n_parameters": sum(p.numel() for p in model.parameters()),
    }
    return Encoder(transform=transform, forward=forward, module=model, metadata=meta)


def _build_open_clip(spec, hub):
    import open_clip
    import torch

    name = spec["model"]
    if name not in open_clip.list_models():
        raise ValueError(f"model={name!r} is not an open_clip architecture (see open_clip.list_models())")
    if _opt(spec, "embedding") != "pre_logits":
        raise ValueError("embedding='final_block' is only supported for timm encoders")
    tag = _opt(spec, "pretrained")
    if tag is True:
        raise ValueError("pretrained=true: an open_clip encoder needs the pretrained tag (e.g. laion2b_s34b_b79k) or false")
    ckpt = _checkpoint(spec)
    weights = str(ckpt) if ckpt is not None else (tag or None)
    image_size = _opt(spec, "image_size")
    torch.manual_seed(_opt(spec, "seed"))
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=weights, cache_dir=str(hub), force_image_size=image_size
        )
    except Exception as exc:
        if ckpt is not None:
            raise ValueError(f"cannot load checkpoint {ckpt} into open_clip model '{name}': {exc}") from exc
        if tag:
            raise _missing_weights("open_clip", f"{name}/{tag}", hub, exc) from exc
        raise
    model.eval()
    pcfg = open_clip.get_model_preprocess_cfg(model)

    def forward(x):
        return model.encode_image(x), None

    size = pcfg.get("size", image_size)
    meta = {
        "weights": {
            "pretrained": bool(weights),
            "tag": tag or None,
            "random_init_seed": None if weights else _opt(spec, "seed"),
        },
        "preprocessing": {
            "image_size": int(size[-1] if isinstance(size, (tuple, list)) else size),
            "mean": list(pcfg.get("mean", ())),
            "std": list(pcfg.get("std", ())),
            "interpolation": pcfg.get("interpolation"),
            "resize_mode": pcfg.get("resize_mode"),
            "transform": repr(preprocess),
        },
        "n_parameters": sum(p.numel() for p in model.visual.parameters()),
    }
    return Encoder(transform=preprocess, forward=forward, module=model, metadata=meta)


class _PixelTransform:
    """PIL image -> resized RGB pixels in [0, 1], flattened to (3 * size * size,)."""

    def __init__(self, size):
        self.size = int(size)

    def __call__(self, img):
        import torch  # deferred: torch costs seconds to import (the `encoders` extra)

        img = img.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
        return torch.from_numpy(np.asarray(img, dtype=np.float32).reshape(-1) / 255.0)

    def __repr__(self):
        return f"_PixelTransform(size={self.size}, resample=bilinear)"


def standardise(X):
    """Per-feature z-scores of ``X`` (N, d), float32; constant features become 0."""
    from sklearn.preprocessing import StandardScaler  # deferred: sklearn takes seconds to import

    return StandardScaler().fit_transform(np.asarray(X, dtype=np.float64)).astype(np.float32)


def _build_pixels(spec, hub):
    size = _opt(spec, "image_size") or PIXELS_DEFAULT_SIZE
    meta = {
        "weights": None,
        "preprocessing": {
            "image_size": int(size),
            "interpolation": "bilinear",
            "standardisation": "per-pixel z-score over the data set",
        },
    }
    return Encoder(
        transform=_PixelTransform(size), forward=lambda x: (x, None), postprocess=standardise, metadata=meta
    )


# Encoder type of the config -> builder(spec, hub_dir) -> Encoder.
ENCODERS = {
    "timm": _build_timm,
    "open_clip": _build_open_clip,
    "pixels": _build_pixels,
}


def build_encoder(spec, *, cache_dir="resources/cache", offline=True) -> Encoder:
    """Build the encoder of a config entry (``config['encoders'][name]``).

    Parameters
    ----------
    spec : dict
        ``type`` (a key of :data:`ENCODERS`) and its options (see the config schema).
    cache_dir : str or Path
        weights cache (``<cache_dir>/hf/hub``).
    offline : bool
        never touch the network (compute nodes); missing weights raise
        :class:`MissingWeightsError` at once.
    """
    if not isinstance(spec, dict) or spec.get("type") not in ENCODERS:
        raise ValueError(f"spec['type']={spec.get('type') if isinstance(spec, dict) else spec!r} "
                         f"is not one of {sorted(ENCODERS)}")  # fmt: skip
    hub = configure_cache(cache_dir, offline=offline)
    enc = ENCODERS[spec["type"]](spec, hub)
    ckpt = _checkpoint(spec)
    enc.metadata.update(
        type=spec["type"],
        model=spec.get("model"),
        embedding=_opt(spec, "embedding"),
        checkpoint=None if ckpt is None else {"path": str(ckpt), "sha256": _sha256(ckpt)},
    )
    return enc


def prefetch_encoder(spec, cache_dir="resources/cache"):
    """Download the pretrained weights of an encoder into ``cache_dir`` (needs internet).

    A no-op for ``pixels``, random-init models and encoders with a ``checkpoint``.
    Returns True when weights were fetched (or already cached).
    """
    if spec.get("type") == "pixels" or _opt(spec, "checkpoint") or not _opt(spec, "pretrained"):
        log.info("encoder %s: nothing to download", spec.get("model", spec.get("type")))
        return False
    build_encoder(spec, cache_dir=cache_dir, offline=False)
    return True

"""Image encoders: timm models, open_clip image towers and a raw-pixel baseline.

``ENCODERS`` maps an encoder ``type`` of the config to its builder (an explicit
registry, no name matching). A builder returns an :class:`Encoder`: the image
transform (taken from the model's own pretrained config unless ``image_size``
overrides the size), a forward function returning ``(features, logits or None)``
and the metadata that changes the result (weights, preprocessing, versions),
which :func:`encode` writes into the embeddings' sidecar JSON.

Embeddings are the penultimate layer ("pre-logits": the pooled, normalised
representation fed to the classifier, timm's ``forward_head(pre_logits=True)``);
``embedding: final_block`` instead flattens the last block's output
(``forward_features``), e.g. all ViT tokens as in the CAEC paper (sec. 3.1.1).
Logits are the classifier head's output when the model has one (timm models
with ``num_classes > 0``); open_clip and pixels have none.

Weights are read from ``<cache_dir>/hf/hub`` (Hugging Face Hub layout, also used
for URL downloads): :func:`prefetch_encoder` fills it on a machine with internet;
:func:`encode` runs offline by default and fails fast with instructions.

Over 600 lines on purpose: the three encoder families share the streaming, chunked and
resumable embedding loop and its provenance record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from embtree.io import Embeddings

__all__ = [
    "ENCODERS",
    "Encoder",
    "MissingWeightsError",
    "ChunkStore",
    "build_encoder",
    "embedding_fingerprint",
    "encode",
    "extract",
    "prefetch_encoder",
    "configure_cache",
    "select_device",
    "library_versions",
    "image_list_sha256",
    "run_provenance",
    "standardise",
]

log = logging.getLogger(__name__)

# Schema defaults, so direct Python callers behave like the workflow.
_DEFAULTS = {
    "pretrained": True,
    "checkpoint": None,
    "image_size": None,
    "batch_size": 64,
    "num_workers": 2,
    "amp": "auto",
    "chunk_images": 8192,
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
        moved to the device by :func:`extract`.
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


# --------------------------------------------------------------------------- cache / device


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
        with contextlib.suppress(ImportError):
            import huggingface_hub.constants as hf_constants

            hf_constants.HF_HUB_OFFLINE = bool(offline)  # read at call time by the hub client
    hub = cache_dir / "hf" / "hub"
    hub.mkdir(parents=True, exist_ok=True)
    return hub


def select_device(device=None):
    """``torch.device``: the given one, else CUDA when available, else CPU."""
    import torch

    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
    from importlib import metadata

    out = {"python": platform.python_version(), "numpy": np.__version__}
    dists = {"torch": "torch", "torchvision": "torchvision", "timm": "timm",
             "open_clip": "open_clip_torch", "PIL": "pillow", "sklearn": "scikit-learn"}
    for name, dist in dists.items():
        with contextlib.suppress(metadata.PackageNotFoundError):  # analysis env: no torch
            out[name] = metadata.version(dist)
    return out


# --------------------------------------------------------------------------- builders


def _build_timm(spec, hub):
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
        import torch
        from PIL import Image

        img = img.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
        return torch.from_numpy(np.asarray(img, dtype=np.float32).reshape(-1) / 255.0)

    def __repr__(self):
        return f"_PixelTransform(size={self.size}, resample=bilinear)"


def standardise(X):
    """Per-feature z-scores of ``X`` (N, d), float32; constant features become 0."""
    from sklearn.preprocessing import StandardScaler

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


class _TransformedImages:
    """torch-style dataset: sample ``offset + i`` of a LabelledSet through ``transform``."""

    def __init__(self, data, transform, offset=0):
        self.data = data
        self.transform = transform
        self.offset = int(offset)

    def __len__(self):
        return len(self.data) - self.offset

    def __getitem__(self, i):
        return self.transform(self.data.image(self.offset + i))


class ChunkStore:
    """Finished chunks of an embedding job, so a killed job restarts from its last chunk.

    ``directory/manifest.json`` holds the job's fingerprint (everything that changes the
    features, see :func:`embedding_fingerprint`); ``chunk_<start>.npz`` holds
    ``features`` (n, d) and optionally ``logits`` (n, K) of images ``start .. start+n-1``,
    each written atomically. A store whose fingerprint differs is emptied: stale chunks
    of another model, data set or batch size are never mixed in.
    """

    def __init__(self, directory, fingerprint):
        from embtree.io import write_json

        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        manifest = self.dir / "manifest.json"
        try:
            old = json.loads(manifest.read_text()).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old != fingerprint:
            self.clear(keep_dir=True)
            write_json(manifest, {"fingerprint": fingerprint})

    def _chunks(self):
        return sorted(self.dir.glob("chunk_*.npz"))

    def load(self):
        """(n_done, [features], [logits]) of the contiguous prefix of readable chunks."""
        done, feats, logits = 0, [], []
        for path in self._chunks():
            try:
                start = int(path.stem.split("_")[1])
                with np.load(path, allow_pickle=False) as z:
                    f = z["features"]
                    lg = z["logits"] if "logits" in z.files else None
            except (OSError, ValueError, KeyError, IndexError) as exc:
                log.warning("ignoring unreadable chunk %s (%s)", path, exc)
                start = -1
            if start != done:  # a gap or a broken chunk: recompute from here on
                for p in self._chunks():
                    if int(p.stem.split("_")[1]) >= done:
                        p.unlink(missing_ok=True)
                break
            feats.append(f)
            if lg is not None:
                logits.append(lg)
            done += len(f)
        return done, feats, logits

    def write(self, start, features, logits):
        from embtree.io import save_npz

        arrays = {"features": features} if logits is None else {"features": features, "logits": logits}
        save_npz(self.dir / f"chunk_{start:012d}.npz", **arrays)

    @staticmethod
    def discard(directory):
        """Remove a store (after its job wrote the final outputs)."""
        import shutil

        shutil.rmtree(directory, ignore_errors=True)

    def clear(self, keep_dir=False):
        import shutil

        if keep_dir:
            for p in self.dir.iterdir():
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def embedding_fingerprint(spec, data, batch_size):
    """SHA-256 of what determines an embedding job's features (encoder spec, images, batch).

    The batch size is part of it: BLAS kernels round differently for other batch shapes,
    and a resumed job must give the same bytes as an uninterrupted one.
    """
    from embtree import __version__

    payload = {"spec": dict(spec), "images": image_list_sha256(data), "info": dict(data.info),
               "batch_size": int(batch_size), "embtree": __version__, "versions": library_versions()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def image_list_sha256(data):
    """SHA-256 over the data set's ``sample_id <TAB> label`` lines, in order."""
    h = hashlib.sha256()
    for sid, y in zip(data.sample_ids, data.labels):
        h.update(f"{sid}\t{int(y)}\n".encode())
    return h.hexdigest()


class _Progress:
    """``images done / total, images/s, forward share`` every ``interval`` s to the log and ``stream``."""

    def __init__(self, total, start_at, label, stream, interval=10.0):
        self.total, self.done, self.label, self.stream = total, start_at, label, stream
        self.interval, self.t0, self.last, self.n0 = interval, time.perf_counter(), 0.0, start_at

    def update(self, n, forward_s, force=False):
        self.done += n
        now = time.perf_counter()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.t0
        rate = (self.done - self.n0) / elapsed if elapsed > 0 else 0.0
        msg = (f"{self.label}{self.done}/{self.total} images ({100 * self.done / max(self.total, 1):.0f} %), "
               f"{rate:.1f} images/s, {100 * forward_s / elapsed if elapsed > 0 else 0:.0f} % of the time in the forward pass")
        log.info(msg)
        if self.stream is not None:
            print(msg, file=self.stream, flush=True)


def extract(encoder: Encoder, data, *, batch_size=64, num_workers=0, device=None, amp=False, progress=True,
            resume_dir=None, fingerprint=None, chunk_images=None, progress_label="embedding: "):  # fmt: skip
    """Stream the images of ``data`` through ``encoder``.

    A DataLoader (``num_workers`` processes decoding and transforming ahead) feeds the
    model; features go to the host after every batch. With ``resume_dir`` every
    ``chunk_images`` images (a multiple of ``batch_size``) are written to a
    :class:`ChunkStore` there, and a rerun starts after the last finished chunk.

    Parameters
    ----------
    encoder : Encoder
    data : embtree.datasets.LabelledSet
        an image data set (``data.image(i)`` -> PIL image).
    batch_size, num_workers : int
        DataLoader settings; outputs do not depend on them beyond float rounding
        (eval mode, no shuffling).
    device : str or torch.device or None
        default CUDA when available, else CPU.
    amp : bool or "auto"
        autocast (bf16 where supported, else fp16) on CUDA; ``"auto"``: on CUDA only;
        always float32 on CPU.
    progress : bool or file
        progress lines (images done / total, images/s, forward share) every 10 s to the
        log and to ``sys.__stderr__`` (``True``) or the given stream.
    resume_dir : str or Path, optional
        chunk store directory; ``fingerprint`` (str) identifies the job (stale chunks of
        another fingerprint are discarded).
    chunk_images : int, optional
        images per chunk (default 64 batches), rounded down to a multiple of ``batch_size``.

    Returns
    -------
    features : ndarray of shape (n_samples, d), float32
    logits : ndarray of shape (n_samples, K), float32, or None
    stats : dict
        device, amp, seconds, images_per_second, forward_seconds, forward_share,
        resumed_from (images taken from finished chunks). Timings: for logs only.
    """
    import sys

    import torch
    from torch.utils.data import DataLoader

    if batch_size < 1 or num_workers < 0:
        raise ValueError(f"batch_size={batch_size} should be >= 1 and num_workers={num_workers} >= 0")
    device = select_device(device)
    if encoder.module is not None:
        encoder.module.to(device).eval()
    use_amp = (amp is True or amp == "auto") and device.type == "cuda"
    if amp is True and not use_amp:
        log.info("amp requested but running on %s: using float32", device)
    if use_amp:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        autocast = torch.autocast(device_type="cuda", dtype=dtype)
    else:
        autocast = contextlib.nullcontext()
    n = len(data)
    chunk = max(batch_size, (int(chunk_images or 64 * batch_size) // batch_size) * batch_size)
    store = ChunkStore(resume_dir, fingerprint or "") if resume_dir is not None else None
    done, feats, logits = store.load() if store is not None else (0, [], [])
    if done > n:
        raise ValueError(f"chunk store {resume_dir} holds {done} images, the data set {n}")
    if done:
        log.info("resuming from %d of %d images (finished chunks in %s)", done, n, resume_dir)
    stream = (sys.__stderr__ if progress is True else progress) if progress else None
    bar = _Progress(n, done, progress_label, stream)
    forward_s, start = 0.0, time.perf_counter()
    if done < n:
        loader = DataLoader(
            _TransformedImages(data, encoder.transform, offset=done),
            batch_size=batch_size,
            shuffle=False,
            num_workers=num_workers,
            pin_memory=device.type == "cuda",
            prefetch_factor=4 if num_workers else None,
        )
        pending_f, pending_l, chunk_start = [], [], done
        with torch.inference_mode(), autocast:
            for x in loader:
                t0 = time.perf_counter()
                f, lg = encoder.forward(x.to(device, non_blocking=True))
                f = f.float().cpu().numpy()  # the copy to the host also waits for the GPU
                lg = None if lg is None else lg.float().cpu().numpy()
                forward_s += time.perf_counter() - t0
                pending_f.append(f)
                if lg is not None:
                    pending_l.append(lg)
                bar.update(len(f), forward_s)
                if bar.done - chunk_start >= chunk or bar.done == n:
                    cf = np.concatenate(pending_f)
                    cl = np.concatenate(pending_l) if pending_l else None
                    if store is not None:
                        store.write(chunk_start, cf, cl)
                    feats.append(cf)
                    if cl is not None:
                        logits.append(cl)
                    pending_f, pending_l, chunk_start = [], [], bar.done
        bar.update(0, forward_s, force=True)
    seconds = time.perf_counter() - start
    features = np.concatenate(feats).astype(np.float32, copy=False)
    if encoder.postprocess is not None:
        features = encoder.postprocess(features)
    computed = n - done
    rate = computed / seconds if seconds > 0 else float("inf")
    share = forward_s / seconds if seconds > 0 else float("nan")
    log.info("embedded %d images (%d from finished chunks) in %.1f s on %s: %.1f images/s, %.0f %% forward",
             n, done, seconds, device, rate, 100 * share)  # fmt: skip
    stats = {"device": str(device), "amp": use_amp, "seconds": round(seconds, 3),
             "images_per_second": round(rate, 2), "forward_seconds": round(forward_s, 3),
             "forward_share": round(share, 4), "resumed_from": int(done)}  # fmt: skip
    return features, (np.concatenate(logits) if logits else None), stats


# Keys of a run's `stats` that describe the machine and the clock, not the result: they go
# to the provenance sidecar (logs), never into embeddings.json (byte-identical reruns).
RUN_STATS = ("device", "seconds", "images_per_second", "forward_seconds", "forward_share", "resumed_from")


def run_provenance(stats):
    """When / where an embedding ran: timestamp, host, GPU, device, throughput (for the log side)."""
    import datetime
    import socket

    from embtree import __version__

    gpu = None
    with contextlib.suppress(Exception):
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    return {
        "embtree": __version__,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "gpu": gpu,
        **{k: stats[k] for k in RUN_STATS if k in stats},
    }


def encode(data, spec, *, cache_dir="resources/cache", device=None, num_workers=None, batch_size=None,
           offline=True, progress=True, resume_dir=None, chunk_images=None, progress_label="embedding: "):  # fmt: skip
    """Embed an image data set with the encoder of a config entry.

    ``resume_dir`` / ``chunk_images``: see :func:`extract` (the fingerprint is
    :func:`embedding_fingerprint` of ``spec``, ``data`` and the batch size).

    Returns
    -------
    embeddings : embtree.io.Embeddings
        features [N, d] (+ logits [N, K] for models with a classifier head), the data set's
        labels, class names, sample ids, WNIDs and coarse labels.
    metadata : dict
        everything that changes the result, for the sidecar JSON (no clock or host).
    stats : dict
        the run's timings and device (:func:`extract`), for logs / :func:`run_provenance`.
    """
    if not getattr(data, "is_image", False):
        raise ValueError("data must be an image data set (embtree.datasets.LabelledSet with images)")
    from embtree import __version__

    enc = build_encoder(spec, cache_dir=cache_dir, offline=offline)
    batch_size = batch_size or _opt(spec, "batch_size")
    num_workers = _opt(spec, "num_workers") if num_workers is None else num_workers
    features, logits, stats = extract(
        enc, data, batch_size=batch_size, num_workers=num_workers, device=device,
        amp=_opt(spec, "amp"), progress=progress, resume_dir=resume_dir,
        chunk_images=chunk_images or _opt(spec, "chunk_images"),
        fingerprint=embedding_fingerprint(spec, data, batch_size) if resume_dir is not None else None,
        progress_label=progress_label,
    )  # fmt: skip
    weights = enc.metadata.get("weights")
    meta = {
        "embtree": __version__,
        "pretrained": bool(weights and weights.get("pretrained")),
        "encoder": {**enc.metadata, "amp": stats["amp"], "batch_size": batch_size, "num_workers": num_workers},
        "encoder_spec": dict(spec),
        "dataset": dict(data.info),
        "n_images": len(data),
        "image_list_sha256": image_list_sha256(data),
        "feature_dim": int(features.shape[1]),
        "n_logits": None if logits is None else int(logits.shape[1]),
        "versions": library_versions(),
    }
    return data.to_embeddings(features=features, logits=logits), meta, stats


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

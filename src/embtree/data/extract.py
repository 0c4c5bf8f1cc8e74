"""Embedding a data set: the streaming, chunked and resumable loop and its provenance.

Public names
------------
:func:`encode` (an image data set + an encoder entry -> embeddings, metadata, run stats),
:func:`extract` (the loop itself), :class:`ChunkStore` (finished chunks of a job, so a
killed job resumes), :func:`embedding_fingerprint`, :func:`image_list_sha256`,
:func:`run_provenance`, :data:`RUN_STATS`, :func:`select_device`.

The encoders themselves are built by :mod:`embtree.data.encoders`.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import shutil
import socket
import sys
import time
from pathlib import Path

import numpy as np

from embtree import __version__
from embtree.data.encoders import Encoder, build_encoder, library_versions
from embtree.io import save_npz, write_json

__all__ = [
    "ChunkStore",
    "RUN_STATS",
    "embedding_fingerprint",
    "encode",
    "extract",
    "image_list_sha256",
    "run_provenance",
    "select_device",
]

log = logging.getLogger(__name__)

# Schema defaults of an encoder entry's run options, so direct Python callers behave like
# the workflow (the model options are embtree.data.encoders').
_DEFAULTS = {
    "batch_size": 64,
    "num_workers": 2,
    "amp": "auto",
    "chunk_images": 8192,
}


def _opt(spec, key):
    return spec.get(key, _DEFAULTS[key])


def select_device(device=None):
    """``torch.device``: the given one, else CUDA when available, else CPU."""
    import torch  # deferred here and below: torch costs seconds to import (the `encoders` extra)

    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
        arrays = {"features": features} if logits is None else {"features": features, "logits": logits}
        save_npz(self.dir / f"chunk_{start:012d}.npz", **arrays)

    @staticmethod
    def discard(directory):
        """Remove a store (after its job wrote the final outputs)."""
        shutil.rmtree(directory, ignore_errors=True)

    def clear(self, keep_dir=False):
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
    data : embtree.data.datasets.LabelledSet
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
    embeddings : embtree.data.store.Embeddings
        features [N, d] (+ logits [N, K] for models with a classifier head), the data set's
        labels, class names, sample ids, WNIDs and coarse labels.
    metadata : dict
        everything that changes the result, for the sidecar JSON (no clock or host).
    stats : dict
        the run's timings and device (:func:`extract`), for logs / :func:`run_provenance`.
    """
    if not getattr(data, "is_image", False):
        raise ValueError("data must be an image data set (embtree.data.datasets.LabelledSet with images)")
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

"""Cheap checks of a configuration before any job runs (called while Snakemake builds the DAG).

Public names
------------
:func:`check_encoder`, :func:`weights_cache_status`, :func:`timm_registry`,
:func:`open_clip_registry` (encoders); :func:`check_image_folder`, :func:`scan_images`,
:func:`image_manifest` (image folders); :func:`image_count`, :func:`check_shards` (sharded
embedding); :func:`check_reference_tree` (Newick files); :func:`check_faiss`, :func:`cuda_available`
(backends and devices).

Every check here must keep ``snakemake -n`` fast, so none imports torch, timm or open_clip
(each costs seconds, paid on every DAG build): model names are looked up in the libraries'
*source* registries -- timm's ``@register_model`` functions and ``default_cfgs`` keys,
open_clip's ``model_configs/*.json`` and the ``_PRETRAINED`` table of ``pretrained.py``
(read with :mod:`ast`, never executed) -- and folders are listed, not decoded. A check
returns messages (empty when fine); the workflow raises them with the config key.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import importlib.util
import json
import os
import re
import stat
from pathlib import Path

from embtree.data.images import IMAGE_EXTENSIONS, is_image_file
from embtree.hierarchy.newick import parse_newick
from embtree.hierarchy.reference import restrict_tree

__all__ = [
    "timm_registry",
    "open_clip_registry",
    "check_encoder",
    "weights_cache_status",
    "check_image_folder",
    "scan_images",
    "image_manifest",
    "image_count",
    "check_shards",
    "check_reference_tree",
    "check_faiss",
    "cuda_available",
]


def _package_dir(name):
    spec = importlib.util.find_spec(name)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


_REGISTER = re.compile(r"@register_model\s*(?:\(\s*\))?\s*\n\s*def\s+(\w+)\s*\(")
_CFG_KEY = re.compile(r"""['"]([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)['"]\s*:""")
_DEPRECATIONS = re.compile(r"register_model_deprecations\(\s*__name__\s*,\s*\{(.*?)\}", re.S)
_DICT_KEY = re.compile(r"""['"]([A-Za-z0-9_]+)['"]\s*:""")


@functools.lru_cache(maxsize=None)
def timm_registry():
    """``architecture -> [pretrained tags, default first]`` of the installed timm, or None.

    Read from timm/models/*.py (``@register_model`` functions; ``'arch.tag':`` keys of the
    ``default_cfgs``); deprecated names map to ``[]``. None when timm is not installed.
    """
    root = _package_dir("timm")
    if root is None:
        return None
    arch: dict[str, list[str]] = {}
    for f in sorted((root / "models").glob("*.py")):
        text = f.read_text(encoding="utf-8", errors="replace")
        names = _REGISTER.findall(text)
        for name in names:
            arch.setdefault(name, [])
        for a, tag in _CFG_KEY.findall(text):
            if a in arch and tag not in arch[a]:
                arch[a].append(tag)
        for block in _DEPRECATIONS.findall(text):
            for old in _DICT_KEY.findall(block):
                arch.setdefault(old, [])
    return arch


def _kw(call, name):
    for k in getattr(call, "keywords", []):
        if k.arg == name and isinstance(k.value, ast.Constant):
            return k.value.value
    return None


def _tags_of(node, named):
    """``tag -> {'hf_hub': str, 'url': str, 'quick_gelu': bool}`` of a ``dict(tag=_pcfg(...))`` node."""
    if isinstance(node, ast.Name):
        return named.get(node.id, {})
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
        return {
            k.arg: {
                "hf_hub": _kw(k.value, "hf_hub") or "",
                "url": _kw(k.value, "url") or "",
                "quick_gelu": bool(_kw(k.value, "quick_gelu")),
            }
            for k in node.keywords
            if k.arg
        }
    return {}


@functools.lru_cache(maxsize=None)
def open_clip_registry():
    """``architecture -> {tag: {'hf_hub', 'url'}}`` of the installed open_clip, or None.

    Architectures are ``open_clip/model_configs/*.json``; tags come from ``_PRETRAINED`` in
    ``open_clip/pretrained.py``, parsed with :mod:`ast` (never imported), including the
    ``-quickgelu`` variants open_clip derives from it.
    """
    root = _package_dir("open_clip")
    if root is None:
        return None
    registry = {p.stem: {} for p in (root / "model_configs").glob("*.json")}
    src = root / "pretrained.py"
    if not src.is_file():
        return registry
    named, table = {}, {}
    for stmt in ast.parse(src.read_text(encoding="utf-8")).body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        target, value = stmt.targets[0].id, stmt.value
        if target == "_PRETRAINED" and isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values):
                if isinstance(k, ast.Constant):
                    table[k.value] = _tags_of(v, named)
        elif isinstance(value, ast.Call):
            named[target] = _tags_of(value, named)
    for model, tags in list(table.items()):
        quick = {t: c for t, c in tags.items() if c["quick_gelu"]}
        if quick:
            table.setdefault(model + "-quickgelu", quick)
    for model, tags in table.items():
        registry.setdefault(model, {}).update(tags)
    return registry


def _close(name, choices, n=3):
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=0.6)


def check_encoder(spec):
    """Problems with an encoder entry that need no model: ``[(key, message), ...]``.

    ``key`` is relative to the entry (``model``, ``pretrained``). A registry that cannot be
    read (library not installed here) is not an error: the embedding job's environment decides.
    """
    kind = spec.get("type")
    model = spec.get("model")
    out = []
    ckpt = spec.get("checkpoint")
    if ckpt and not Path(ckpt).is_file():
        out.append(("checkpoint", f"file not found: {ckpt} (relative paths are from the working directory {Path.cwd()})"))
    if kind == "timm":
        reg = timm_registry()
        if reg is None:
            return out
        arch, _, tag = model.partition(".")
        if arch not in reg:
            hint = _close(arch, reg)
            out.append(("model", f"'{model}' is not a timm model" + (f"; did you mean {hint}?" if hint else "")
                        + " (timm.list_models() lists them)"))  # fmt: skip
        elif tag and reg[arch] and tag not in reg[arch]:
            out.append(("model", f"'{model}': timm has no pretrained tag '{tag}' for {arch} (tags: {reg[arch][:8]})"))
        if not isinstance(spec.get("pretrained", True), bool):
            out.append(("pretrained", f"{spec['pretrained']!r}: a timm encoder takes true or false"))
    elif kind == "open_clip":
        reg = open_clip_registry()
        if reg is None:
            return out
        if model.startswith(("hf-hub:", "local-dir:")):
            return out
        if model not in reg:
            hint = _close(model, reg)
            out.append(("model", f"'{model}' is not an open_clip architecture" + (f"; did you mean {hint}?" if hint else "")
                        + " (open_clip.list_models() lists them)"))  # fmt: skip
            return out
        tag = spec.get("pretrained", True)
        if tag is True and not spec.get("checkpoint"):
            tags = sorted(reg[model])
            out.append(("pretrained", f"an open_clip encoder needs the pretrained tag of its weights "
                        f"(for {model}: {tags[:8]}), or false for random weights, or a checkpoint"))  # fmt: skip
        elif isinstance(tag, str) and reg[model] and tag.lower().replace("-", "_") not in reg[model]:
            out.append(("pretrained", f"'{tag}' is not an open_clip pretrained tag of {model} (tags: {sorted(reg[model])[:8]})"))
    return out


def _hub_has(hub, repo_id):
    d = Path(hub) / ("models--" + repo_id.strip("/").replace("/", "--"))
    snaps = d / "snapshots"
    return snaps.is_dir() and any(p.is_file() for p in snaps.rglob("*"))


def weights_cache_status(spec, cache_dir):
    """Whether an encoder's pretrained weights are in ``cache_dir``: True, False or None.

    None means "no weights needed" (pixels, random init, a ``checkpoint``) or "cannot tell".
    False is returned only when the cache is *known* to lack them: no Hugging Face hub entry
    for the model (``<cache_dir>/hf/hub/models--<org>--<repo>``) and no torch-hub file.
    """
    kind = spec.get("type")
    if kind == "pixels" or spec.get("checkpoint") or spec.get("pretrained", True) is False:
        return None
    hub = Path(cache_dir) / "hf" / "hub"
    torch_files = Path(cache_dir) / "torch" / "hub" / "checkpoints"
    model = spec["model"]
    if kind == "timm":
        reg = timm_registry()
        if reg is None:
            return None
        arch, _, tag = model.partition(".")
        tag = tag or (reg.get(arch) or [None])[0]
        if hub.is_dir() and any(p.name.startswith("models--") and arch in p.name for p in hub.iterdir()):
            return True
        if torch_files.is_dir() and any(torch_files.iterdir()):
            return None  # torch-hub files do not name their model: cannot tell
        return False if tag else None
    if kind == "open_clip":
        reg = open_clip_registry()
        cfg = (reg or {}).get(model, {}).get(str(spec.get("pretrained")).lower().replace("-", "_"))
        if not cfg:
            return None
        if cfg["hf_hub"] and _hub_has(hub, cfg["hf_hub"]):
            return True
        if cfg["url"] and (hub / os.path.basename(cfg["url"])).is_file():
            return True
        return False
    return None


def check_image_folder(path, kind="imagefolder", labels_path=None, entries=None):
    """Problems with an image folder, from a listing (no image is opened): list of messages.

    Besides the layout (one sub-folder per class, none empty), every image file must be
    non-empty and readable: a 0-byte or unreadable file would otherwise fail the embedding
    job in a DataLoader worker. ``entries`` is :func:`scan_images` of the folder, when the
    caller already has it (the workflow reuses it for :func:`image_manifest`).
    """
    root = Path(path)
    if not root.exists():
        return [f"image folder not found: {root} (relative paths are from the working directory {Path.cwd()})"]
    if not root.is_dir():
        return [f"{root} is not a folder"]
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if kind == "imagenet" and not subdirs:
        if not any(_is_image(p) for p in root.iterdir()):
            return [f"{root} holds no images ({', '.join(IMAGE_EXTENSIONS)})"]
        if not labels_path:
            return [f"{root} is a flat folder of images: set labels_path to LOC_val_solution.csv"]
        return _bad_image_files(root, entries)
    if len(subdirs) < 2:
        return [f"{root} needs one sub-folder of images per class (at least 2), found {len(subdirs)}"]
    empty = [p.name for p in subdirs if not any(_is_image(f) for f in p.iterdir())]
    if empty:
        return [f"class folder(s) {empty[:10]} in {root} hold no images ({', '.join(IMAGE_EXTENSIONS)})"]
    return _bad_image_files(root, entries)


def _bad_image_files(root, entries=None):
    entries = scan_images(root) if entries is None else entries
    out = []
    empty = [rel for rel, size, _, ok in entries if ok and size == 0]
    unreadable = [rel for rel, _, _, ok in entries if not ok]
    if empty:
        out.append(f"{len(empty)} image file(s) in {root} are empty (0 bytes): {empty[:10]}; "
                   "re-copy them or delete them")
    if unreadable:
        out.append(f"{len(unreadable)} image file(s) in {root} cannot be read (permissions or broken links): "
                   f"{unreadable[:10]}")
    return out


def _readable(st):
    """Read permission of a ``stat`` result for this process (the mode bits; no extra syscall)."""
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is None or euid == 0:
        return True
    if st.st_uid == euid:
        return bool(st.st_mode & stat.S_IRUSR)
    if st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


def _is_image(p):
    """An image file (:func:`embtree.data.images.is_image_file`), not a folder named like one."""
    return p.is_file() and is_image_file(p)


def scan_images(path):
    """Every image file under ``path`` (hidden ones skipped), from a listing: nothing is opened.

    Returns a sorted list of ``(relative path, size in bytes, mtime_ns, readable)``;
    ``readable`` is False for a file this process may not read or a broken link (size 0).
    """
    root = Path(path)
    entries = []
    stack = [root]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                if e.is_dir():
                    stack.append(Path(e.path))
                elif os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS:
                    rel = os.path.relpath(e.path, root)
                    try:
                        st = e.stat()
                    except OSError:  # a broken symbolic link
                        entries.append((rel, 0, 0, False))
                        continue
                    entries.append((rel, st.st_size, st.st_mtime_ns, _readable(st)))
    entries.sort()
    return entries


def image_manifest(path, entries=None):
    """A digest of an image folder's file list: relative path, size and mtime of every image.

    Used as a Snakemake ``params`` value of the embedding job, so adding, removing or
    changing an image re-embeds the folder. Returns ``"<n> images, sha256 <hex>"``; listing
    only (:func:`scan_images`, or its result ``entries``), nothing is read.
    """
    entries = scan_images(path) if entries is None else entries
    listing = [(rel, size, mtime) for rel, size, mtime, _ in entries]
    digest = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    return f"{len(listing)} images, sha256 {digest}"


# Images per class of the built-in data sets' splits, so that the shard check counts them
# without loading them: sklearn's digits (no split; np.bincount(load_digits().target)),
# CIFAR-10 / CIFAR-100 (balanced; cifar100-coarse's classes are its 20 superclasses).
BUILTIN_CLASS_COUNTS = {
    "digits": {None: (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)},
    "cifar10": {"train": (5000,) * 10, "test": (1000,) * 10},
    "cifar100": {"train": (500,) * 100, "test": (100,) * 100},
    "cifar100-coarse": {"train": (2500,) * 20, "test": (500,) * 20},
    "mnist": {"train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
              "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)},
}


def image_count(spec, entries=None):
    """Images of an image data set's fit set, from constants or a folder listing (nothing read).

    Parameters
    ----------
    spec : dict, a dataset entry of the config (schema defaults filled in)
    entries : list, :func:`scan_images` of an imagefolder / imagenet ``path``

    Returns
    -------
    (n, exact) : (int or None, bool)
        ``n`` the number of images after ``max_per_class``; ``exact`` False when ``imbalance``
        or ``eval_fraction`` leave fewer (then ``n`` is an upper bound). ``(None, False)`` when
        unknown (a folder not listed).
    """
    kind = spec["type"]
    if kind in BUILTIN_CLASS_COUNTS:
        table = BUILTIN_CLASS_COUNTS[kind]
        counts = list(table.get(None if kind == "digits" else spec.get("split"), ()))
        if not counts:
            return None, False
    elif entries is not None:
        per_class = {}
        for rel, *_ in entries:
            top = rel.split(os.sep, 1)[0] if os.sep in rel else ""
            per_class[top] = per_class.get(top, 0) + 1
        # A flat folder (imagenet with labels_path): the classes come from the CSV, so
        # max_per_class cannot be applied without reading it: the total is the bound.
        counts = [sum(per_class.values())] if "" in per_class else list(per_class.values())
        if "" in per_class and spec.get("max_per_class") is not None:
            return counts[0], False
    else:
        return None, False
    m = spec.get("max_per_class")
    n = sum(min(c, m) for c in counts) if m is not None else sum(counts)
    return n, spec.get("imbalance") is None and spec.get("eval_fraction") is None


def check_shards(spec, encoders, n_images):
    """Problems with a dataset entry's ``shards``: list of messages (the key is ``shards``).

    ``shards`` applies to image data sets embedded by timm / open_clip encoders (the pixels
    encoder standardises every feature over the whole data set, which no shard sees), and
    each shard is a run of whole batches (:func:`embtree.data.shards.shard_bounds`): at most
    ``ceil(n_images / batch_size)`` shards for every encoder of the entry.

    Parameters
    ----------
    spec : dict, the dataset entry
    encoders : dict, encoder id -> encoder entry (the config's ``encoders``, schema defaults filled in)
    n_images : int or None, :func:`image_count`'s (upper bound; None: not checked here, the
        shard job counts them)
    """
    shards = spec.get("shards")
    if shards is None or shards == 1:
        return []
    if "encoders" not in spec:
        return [f"a '{spec['type']}' data set is already embedded (one import_features job reads it): "
                "there are no images to shard; drop shards"]
    out = []
    for enc in spec["encoders"]:
        entry = encoders[enc]
        if entry.get("type") == "pixels":
            out.append(f"encoder '{enc}' (type pixels) standardises every pixel over the whole data set, which "
                       "no shard sees: shard a data set embedded by timm / open_clip encoders only")
            continue
        batch = entry["batch_size"]
        if n_images is not None and shards > -(-n_images // batch):
            out.append(f"{shards} shards of {n_images} images in batches of encoders.{enc}.batch_size={batch}: at "
                       f"most {-(-n_images // batch)} (a shard is a run of whole batches, so that every image is "
                       "embedded with the same batch mates as by one job and the gathered file is byte-identical)")
    return out


def check_reference_tree(path, class_names=None, wnids=None):
    """Problems with a Newick reference tree, before the job that prunes it: list of messages.

    The file must be readable text and parse as Newick
    (:func:`embtree.hierarchy.newick.parse_newick`: labelled, unique leaves); when the data
    set's ``class_names`` (and their ``wnids``, or None) are known, every class must be a
    leaf by name or WNID and at least 3 must be
    (:func:`embtree.hierarchy.reference.restrict_tree`, the job's own pruning). Each message
    names the file. Parsing costs about 1 s per 1,000 leaves (dendropy).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}: cannot read the Newick file ({type(exc).__name__}: {exc})"]
    if not text:
        return [f"{path}: the Newick file is empty"]
    try:
        if class_names is None:
            parse_newick(text)
        else:
            restrict_tree(text, [str(c) for c in class_names], wnids, source=str(path))
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith(str(path)):
            return [msg]
        return [f"{path}: not a valid Newick tree: {msg.removeprefix('newick could not be parsed: ')}"]
    return []


def check_faiss():
    """Problems with faiss for the ``faiss`` backends: ``[]`` when it imports, else one message.

    Importing faiss takes ~0.05 s (it is imported only when a faiss backend is configured).
    """
    try:
        import faiss  # noqa: F401
    except ImportError as exc:
        return [f"faiss is not installed ({exc}); `pip install faiss-cpu` (conda-forge: faiss-cpu, "
                "faiss-gpu for CUDA), or choose an embtree backend"]
    return []


def _torch_cuda_build():
    """The CUDA version torch was built for (``torch/version.py``, read, not imported), None for a
    CPU-only build, False when torch is not installed."""
    root = _package_dir("torch")
    if root is None or not (root / "version.py").is_file():
        return False
    match = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", (root / "version.py").read_text(), re.M)
    return match.group(1) if match else None


def cuda_available():
    """Whether torch can use a CUDA GPU here, without importing torch (seconds on every DAG build):
    a CUDA build of torch (``torch/version.py``) and at least one device the driver reports
    (``cuInit`` / ``cuDeviceGetCount`` of libcuda, which honours ``CUDA_VISIBLE_DEVICES``)."""
    if not _torch_cuda_build():
        return False
    import ctypes

    for name in ("libcuda.so.1", "libcuda.so", "libcuda.dylib", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return False
    count = ctypes.c_int(0)
    if lib.cuInit(0) != 0 or lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return False
    return count.value > 0

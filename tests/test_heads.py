"""embtree.heads: TEMI / SCANv2 losses against per-sample references, kNN, batched heads,
training on separated blobs, selection, determinism and bad input."""

import warnings

import numpy as np
import pytest
import torch

from embtree import heads

SMALL = dict(num_heads=3, hidden_dim=32, bottleneck_dim=16, epochs=30, warmup_epochs=2, knn=5, batch_size=32,
             momentum_teacher=0.9, max_momentum_teacher=0.9,
             lr=1e-3, min_lr=1e-3)


def blobs(n_per=40, k=4, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 10
    X = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres]).astype(np.float32)
    y = np.repeat(np.arange(k), n_per)
    return X, y


def _probs(logits, temp):
    return torch.softmax(logits / temp, dim=-1)


def temi_reference(s, t, prior, beta, st, tt):
    """Eq. 1 written per sample and per head with explicit sums (float64)."""
    H, _, B, C = s.shape
    ps, pt = _probs(s, st), _probs(t, tt)
    out = []
    for i in range(H):
        total = 0.0
        for v, w in ((0, 1), (1, 0)):
            for b in range(B):
                weight = sum(sum(pt[j, 0, b, c] * pt[j, 1, b, c] for c in range(C)) for j in range(H)) / H
                inner = sum((ps[i, v, b, c] * pt[i, w, b, c]) ** beta / prior[i, c] for c in range(C))
                total = total - weight.detach() * torch.log(inner) / B
        out.append(total / 2)
    return torch.stack(out)


def scan_reference(s, t, alpha, st, tt):
    H, _, B, C = s.shape
    ps, pt = _probs(s, st), _probs(t, tt)
    out = []
    for i in range(H):
        total = 0.0
        for v, w in ((0, 1), (1, 0)):
            for b in range(B):
                total = total - torch.log(sum(pt[i, w, b, c] * ps[i, v, b, c] for c in range(C))) / B
        ent = 0.0
        for v in (0, 1):
            q = ps[i, v].mean(0)
            ent = ent + sum(q[c] * torch.log(q[c]) for c in range(C))
        out.append(total / 2 + alpha * ent / 2)
    return torch.stack(out)


@pytest.mark.parametrize("beta", [0.6, 1.0])
def test_temi_loss_matches_reference_values_and_gradients(beta):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 2, 4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(2, 2, 4, 3, dtype=torch.float64, generator=g)
    prior = torch.rand(2, 3, dtype=torch.float64, generator=g) + 0.1
    prior = prior / prior.sum(1, keepdim=True)
    got = heads.temi_loss(s, t, prior, beta=beta, student_temp=0.5, teacher_temp=0.3)
    s2 = s.detach().clone().requires_grad_(True)
    ref = temi_reference(s2, t, prior, beta, 0.5, 0.3)
    torch.testing.assert_close(got, ref)
    (g1,) = torch.autograd.grad(got.sum(), s)
    (g2,) = torch.autograd.grad(ref.sum(), s2)
    torch.testing.assert_close(g1, g2)


def test_scan_loss_matches_reference_values_and_gradients():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(2, 2, 5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(2, 2, 5, 3, dtype=torch.float64, generator=g)
    got = heads.scan_loss(s, t, alpha=5.0, student_temp=0.4, teacher_temp=0.2)
    s2 = s.detach().clone().requires_grad_(True)
    ref = scan_reference(s2, t, 5.0, 0.4, 0.2)
    torch.testing.assert_close(got, ref)
    (g1,) = torch.autograd.grad(got.sum(), s)
    (g2,) = torch.autograd.grad(ref.sum(), s2)
    torch.testing.assert_close(g1, g2)


def test_teacher_gets_no_gradient():
    s = torch.randn(1, 2, 3, 4, requires_grad=True)
    t = torch.randn(1, 2, 3, 4, requires_grad=True)
    heads.scan_loss(s, t).sum().backward()
    assert t.grad is None and s.grad is not None


def test_prior_and_ema_updates():
    prior = torch.tensor([[0.5, 0.5]])
    probs = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]])  # mean (0.75, 0.25)
    torch.testing.assert_close(heads.update_prior(prior, probs, 0.9), torch.tensor([[0.525, 0.475]]))
    teacher = [torch.tensor([1.0, 2.0]), torch.tensor([[0.0]])]
    student = [torch.tensor([3.0, 4.0]), torch.tensor([[10.0]])]
    heads.ema_update(teacher, student, 0.75)
    torch.testing.assert_close(teacher[0], torch.tensor([1.5, 2.5]))
    torch.testing.assert_close(teacher[1], torch.tensor([[2.5]]))


def test_cosine_schedule_warmup_and_constant():
    s = heads.cosine_schedule(4e-4, 4e-4, epochs=5, iters_per_epoch=2, warmup_epochs=2)
    assert len(s) == 10
    np.testing.assert_allclose(s[:4], [0, 1e-4, 2e-4, 3e-4])
    np.testing.assert_allclose(s[4:], 4e-4)
    c = heads.cosine_schedule(1.0, 0.0, epochs=2, iters_per_epoch=2)
    np.testing.assert_allclose(c, [1.0, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.5 * (1 + np.cos(3 * np.pi / 4))])


@pytest.mark.parametrize("tile_rows, cells", [
    (32, 2000),     # 32 x 62 tiles: row blocks and column chunks, the last ones partial
    (400, 2000),    # all 300 rows x 6 columns: a chunk narrower than k
    (1024, 10**6),  # one tile
])
def test_mine_knn_matches_brute_force_with_tiles(monkeypatch, tile_rows, cells):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    ref = np.argsort(-S, axis=1, kind="stable")[:, :7]
    monkeypatch.setattr(heads, "KNN_TILE_ROWS", tile_rows)
    got = heads.mine_knn(X, 7, chunk_mb=cells * 4 / 2**20)
    np.testing.assert_array_equal(got, ref)  # neighbours in order of decreasing similarity
    assert not (got == np.arange(300)[:, None]).any()


def test_mine_knn_tiles_equal_one_tile(monkeypatch):
    X, _ = blobs(30, 3)
    whole = heads.mine_knn(X, 4, chunk_mb=64)
    monkeypatch.setattr(heads, "KNN_TILE_ROWS", 4)
    # 40 similarities per tile: 4 rows x 10 columns, self inside some tiles and not others.
    np.testing.assert_array_equal(heads.mine_knn(X, 4, chunk_mb=40 * 4 / 2**20), whole)


def test_mine_knn_reads_a_read_only_memory_map_in_place(tmp_path, monkeypatch):
    # ImageNet-train features come memory-mapped: used as they are (no normalised copy, no
    # write, no warning), with the same neighbours as the array in memory.
    X, _ = blobs(40, 4)
    X = X.astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    seen = []
    monkeypatch.setattr(heads, "KNN_TILE_ROWS", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = heads.mine_knn(mm, 5, chunk_mb=3 * 4 * len(X) / 2**20, progress=lambda d, n: seen.append((d, n)))
    np.testing.assert_array_equal(got, heads.mine_knn(X, 5))
    np.testing.assert_array_equal(mm, X)
    assert seen == [(d, len(X)) for d in list(range(3, len(X), 3)) + [len(X)]]


def test_batched_heads_equal_a_loop_over_heads():
    torch.manual_seed(0)
    m = heads.BatchedHeads(5, 3, num_heads=4, nlayers=3, hidden_dim=7, bottleneck_dim=6)
    x = torch.randn(9, 5)
    out = m(x)
    assert out.shape == (4, 9, 3)
    for h in range(4):
        z = x @ m.weights[0][h] + m.biases[0][h]
        for w, b in zip(m.weights[1:], m.biases[1:]):
            z = torch.nn.functional.gelu(z) @ w[h] + b[h]
        z = torch.nn.functional.normalize(z, dim=-1)
        v = m.last_v[h]
        W = m.last_g[h] * v / v.norm(dim=1, keepdim=True)
        torch.testing.assert_close(out[h], z @ W.T)


def test_normalized_logits_backward_is_the_autograd_one():
    # The hand-written backward of normalise-then-last-layer against autograd through
    # F.normalize (float64 gradcheck, and float32 values and gradients).
    h = torch.randn(2, 5, 7, dtype=torch.float64, requires_grad=True)
    last = torch.randn(2, 3, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(heads._NormalizedLogits.apply, (h, last))
    h32 = torch.randn(3, 11, 6, requires_grad=True)
    h32.data[0, 0] = 0.0  # a zero row: F.normalize's eps, no NaN
    w32 = torch.randn(3, 4, 6, requires_grad=True)
    G = torch.randn(3, 11, 4)
    ours = heads._NormalizedLogits.apply(h32, w32)
    ref = torch.bmm(torch.nn.functional.normalize(h32, dim=-1), w32.transpose(1, 2))
    torch.testing.assert_close(ours, ref)
    g_ours = torch.autograd.grad((ours * G).sum(), (h32, w32))
    g_ref = torch.autograd.grad((ref * G).sum(), (h32, w32))
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b)
    assert torch.equal(h32[0, 0], torch.zeros(6))  # the input is never written


def test_bfloat16_heads_stay_close_to_float32():
    torch.manual_seed(0)
    m = heads.BatchedHeads(16, 5, num_heads=3, hidden_dim=32, bottleneck_dim=8)
    x = torch.randn(40, 16)
    out32, out16 = m(x), m(x, torch.bfloat16)
    assert out16.dtype == torch.float32 and out16.shape == out32.shape
    torch.testing.assert_close(out16, out32, atol=2e-2, rtol=0)  # bfloat16: 8 mantissa bits
    assert not torch.equal(out16, out32)  # the bfloat16 path really ran
    g = torch.autograd.grad(out16.sum(), list(m.parameters()))
    assert all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in g)


@pytest.mark.parametrize("head", heads.HEADS)
def test_separated_blobs_are_recovered(head):
    from embtree import metrics

    torch.set_num_threads(1)
    X, y = blobs()
    r = heads.train_heads(X, head, n_clusters=4, **SMALL)
    pred = heads.predict(r["model"], X, selected=r["selected"], params=r["params"])
    assert metrics.cluster_accuracy(y, pred["labels"]) >= 0.99
    assert pred["all_labels"].shape == (3, len(y)) and pred["soft"].shape == (len(y), 4)
    np.testing.assert_allclose(pred["soft"].sum(1), 1, rtol=1e-5)
    # The paper's rule: the kept head has the lowest last-epoch training loss.
    assert r["selected"] == int(np.argmin(r["epoch_loss"][-1]))
    assert r["epoch_loss"].shape == (SMALL["epochs"], 3)


def test_training_is_deterministic():
    torch.set_num_threads(1)
    X, _ = blobs(20, 3)
    params = {**SMALL, "epochs": 3}
    a = heads.train_heads(X, "temi", n_clusters=3, **params)
    b = heads.train_heads(X, "temi", n_clusters=3, **params)
    pa = heads.predict(a["model"], X, selected=a["selected"])
    pb = heads.predict(b["model"], X, selected=b["selected"])
    assert pa["soft"].tobytes() == pb["soft"].tobytes()
    assert a["epoch_loss"].tobytes() == b["epoch_loss"].tobytes()


def test_bad_input_names_the_key():
    X, _ = blobs(5, 2)  # 10 samples
    with pytest.raises(ValueError, match="knn"):
        heads.train_heads(X, "temi", n_clusters=2, knn=10)
    with pytest.raises(ValueError, match="n_clusters"):
        heads.train_heads(X, "temi", n_clusters=1, knn=3)
    with pytest.raises(ValueError, match="n_clusters"):
        heads.train_heads(X, "temi", n_clusters=11, knn=3)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="features contains NaN"):
        heads.train_heads(bad, "temi", n_clusters=2, knn=3)
    with pytest.raises(ValueError, match="unknown head"):
        heads.train_heads(X, "dino", n_clusters=2, knn=3)
    with pytest.raises(ValueError, match="gamma"):
        heads.train_heads(X, "temi", n_clusters=2, knn=3, gamma=2)
    with pytest.raises(ValueError, match="beta"):
        heads.check_params("temi", {"beta": 0})
    with pytest.raises(ValueError, match="knn=12 must be < n_samples"):
        heads.mine_knn(np.ones((12, 2)) + np.arange(24).reshape(12, 2), 12)


def test_divergence_names_epoch_and_setting(monkeypatch):
    X, _ = blobs(10, 2)
    monkeypatch.setattr(heads, "scan_loss", lambda s, t, **kw: s.sum((1, 2, 3)) * float("nan"))
    with pytest.raises(FloatingPointError, match=r"epoch 0 .*heads\.lr"):
        heads.train_heads(X, "scanv2", n_clusters=2, **{**SMALL, "epochs": 1})


def test_evaluate_and_metrics_row():
    y = np.array([0, 0, 1, 1, 2, 2])
    soft = np.eye(3)[[1, 1, 2, 2, 0, 0]] * 0.8 + 0.2 / 3
    row = heads.metrics_row({"method": "x"}, y, soft, 3)
    assert row["acc"] == 1.0 and row["n_nonempty"] == 3 and not row["degenerate"]
    assert row["msp_mean"] == pytest.approx(0.8 + 0.2 / 3)
    assert np.isnan(row["top5_acc"])  # fewer than 5 clusters
    one = heads.metrics_row({}, y, np.tile([[0.9, 0.05, 0.05]], (6, 1)), 3)
    assert one["degenerate"]


def test_library_defaults_are_the_schema_defaults():
    # The workflow passes the schema's values (config.schema.yaml is the source of truth);
    # heads.PARAMS is the library's own default for callers outside the workflow: the two
    # must not drift apart.
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["heads"]["properties"]
    import ast
    import re

    smk = (Path(__file__).parents[1] / "workflow/rules/heads_common.smk").read_text()
    workflow_only = ast.literal_eval(re.search(r"^HEADS_WORKFLOW_KEYS = (\{.*\})$", smk, re.M).group(1))
    assert set(props) - workflow_only == set(heads.PARAMS)
    assert {k: props[k]["default"] for k in heads.PARAMS} == heads.PARAMS


def test_knn_is_capped_on_small_data(caplog):
    assert heads.knn_for(1000, 50) == 50
    with caplog.at_level("WARNING"):
        assert heads.knn_for(24, 50) == 23
    assert "capped at n_samples - 1 = 23" in caplog.text
    assert heads.knn_for(24, 23) == 23  # k = n - 1: every other sample, no warning needed
    X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    nbr = heads.mine_knn(X, heads.knn_for(len(X), 50))
    assert nbr.shape == (12, 11) and not (nbr == np.arange(12)[:, None]).any()

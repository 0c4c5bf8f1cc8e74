"""embtree.heads.model: the batched heads against a loop over heads, the hand-written
backward of the normalised last layer, bfloat16."""

import torch

from embtree.heads import model


def test_batched_heads_equal_a_loop_over_heads():
    torch.manual_seed(0)
    m = model.BatchedHeads(5, 3, num_heads=4, nlayers=3, hidden_dim=7, bottleneck_dim=6)
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
    assert torch.autograd.gradcheck(model._NormalizedLogits.apply, (h, last))
    h32 = torch.randn(3, 11, 6, requires_grad=True)
    h32.data[0, 0] = 0.0  # a zero row: F.normalize's eps, no NaN
    w32 = torch.randn(3, 4, 6, requires_grad=True)
    G = torch.randn(3, 11, 4)
    ours = model._NormalizedLogits.apply(h32, w32)
    auto = torch.bmm(torch.nn.functional.normalize(h32, dim=-1), w32.transpose(1, 2))
    torch.testing.assert_close(ours, auto)
    g_ours = torch.autograd.grad((ours * G).sum(), (h32, w32))
    g_auto = torch.autograd.grad((auto * G).sum(), (h32, w32))
    for a, b in zip(g_ours, g_auto):
        torch.testing.assert_close(a, b)
    assert torch.equal(h32[0, 0], torch.zeros(6))  # the input is never written


def test_bfloat16_heads_stay_close_to_float32():
    torch.manual_seed(0)
    m = model.BatchedHeads(16, 5, num_heads=3, hidden_dim=32, bottleneck_dim=8)
    x = torch.randn(40, 16)
    out32, out16 = m(x), m(x, torch.bfloat16)
    assert out16.dtype == torch.float32 and out16.shape == out32.shape
    torch.testing.assert_close(out16, out32, atol=2e-2, rtol=0)  # bfloat16: 8 mantissa bits
    assert not torch.equal(out16, out32)  # the bfloat16 path really ran
    g = torch.autograd.grad(out16.sum(), list(m.parameters()))
    assert all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in g)

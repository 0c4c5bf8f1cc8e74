"""embtree.heads.losses: TEMI (eq. 1) and SCANv2 (eq. 2) against naive per-sample sums,
gradients, the teacher without gradient, the prior update."""

import pytest
import torch

from embtree.heads import losses


def _probs(logits, temp):
    return torch.softmax(logits / temp, dim=-1)


def temi_naive(s, t, prior, beta, st, tt):
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


def scan_naive(s, t, alpha, st, tt):
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
def test_temi_loss_matches_naive_values_and_gradients(beta):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 2, 4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(2, 2, 4, 3, dtype=torch.float64, generator=g)
    prior = torch.rand(2, 3, dtype=torch.float64, generator=g) + 0.1
    prior = prior / prior.sum(1, keepdim=True)
    got = losses.temi_loss(s, t, prior, beta=beta, student_temp=0.5, teacher_temp=0.3)
    s2 = s.detach().clone().requires_grad_(True)
    naive = temi_naive(s2, t, prior, beta, 0.5, 0.3)
    torch.testing.assert_close(got, naive)
    (g1,) = torch.autograd.grad(got.sum(), s)
    (g2,) = torch.autograd.grad(naive.sum(), s2)
    torch.testing.assert_close(g1, g2)


def test_scan_loss_matches_naive_values_and_gradients():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(2, 2, 5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(2, 2, 5, 3, dtype=torch.float64, generator=g)
    got = losses.scan_loss(s, t, alpha=5.0, student_temp=0.4, teacher_temp=0.2)
    s2 = s.detach().clone().requires_grad_(True)
    naive = scan_naive(s2, t, 5.0, 0.4, 0.2)
    torch.testing.assert_close(got, naive)
    (g1,) = torch.autograd.grad(got.sum(), s)
    (g2,) = torch.autograd.grad(naive.sum(), s2)
    torch.testing.assert_close(g1, g2)


def test_teacher_gets_no_gradient():
    s = torch.randn(1, 2, 3, 4, requires_grad=True)
    t = torch.randn(1, 2, 3, 4, requires_grad=True)
    losses.scan_loss(s, t).sum().backward()
    assert t.grad is None and s.grad is not None


def test_prior_update():
    prior = torch.tensor([[0.5, 0.5]])
    probs = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]])  # mean (0.75, 0.25)
    torch.testing.assert_close(losses.update_prior(prior, probs, 0.9), torch.tensor([[0.525, 0.475]]))

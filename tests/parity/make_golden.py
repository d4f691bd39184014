#!/usr/bin/python3
"""Writes the PyTorch parity golden files that tests/test_parity.cpp reads.

  /usr/bin/python3 tests/parity/make_golden.py        (needs Debian's python3-torch and python3-numpy)

For every public op, loss (each reduction), layer (train and eval mode), optimizer (each option) and
autoencoder objective, the same inputs, weights, noise and upstream gradient go through PyTorch, and the
inputs, outputs and gradients are stored by name in golden.npz:

  <case>/in0, in1, ...     inputs                 <case>/out        output
  <case>/gout              upstream gradient      <case>/grad0 ...  d(out·gout)/d(input i)
  <case>/v0 ..., gg0 ...   double backward: gg_i = d/d(input i) of Σ_j <grad_j, v_j>
  <case>/param/<name>, grad/<name>, buffer/<name>   a layer's or model's parameters (our names), their gradients,
                                                    its buffers after the forward pass

Ops, losses, layers and optimizers run in float64 (the C++ side compares to ~1e-9 relative); the autoencoder
objectives run in float32, as the library's models do (compared to ~1e-5). Every case here must have its
counterpart in tests/test_parity.cpp and the other way round: the test checks that the two lists are equal.

The conventions where the library and PyTorch differ on purpose are written beside their cases (search for
"DIFFERS"). The file also writes the state_dicts of ../shared/reference/torch_reference.py's models, saved with
numpy as a PyTorch user would, for the checkpoint interoperability test.
"""
import importlib.util
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261202)
G = {}
ORDER = []  # case names, in order


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo


def away(*shape):
    """|x| in [0.2, 1.2), random sign: away from kinks."""
    a = rnd(*shape, lo=0.2, hi=1.2)
    return a * torch.where(torch.rand(shape) < 0.5, -1.0, 1.0).to(torch.float64)


def distinct(*shape):
    n = int(np.prod(shape))
    v = torch.linspace(-1, 1, n, dtype=torch.float64) + 0.013
    return v[torch.randperm(n)].reshape(*shape)


def put(case, key, t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    G[f"{case}/{key}"] = np.array(t, copy=True, order="C")  # a copy: optimizers and BatchNorm update in place


def new_case(name):
    assert name not in ORDER, name
    ORDER.append(name)


def op(name, fn, inputs, diff=None, double=False):
    """One op case: out = fn(*inputs); gradients of Σ out·gout w.r.t. the differentiable inputs."""
    new_case(name)
    diff = diff if diff is not None else [True] * len(inputs)
    xs = [x.clone().detach().requires_grad_(d) for x, d in zip(inputs, diff)]
    out = fn(*xs)
    gout = torch.randn_like(out)
    for i, x in enumerate(xs):
        put(name, f"in{i}", x)
    put(name, "out", out)
    put(name, "gout", gout)
    wrt = [x for x, d in zip(xs, diff) if d]
    grads = torch.autograd.grad(out, wrt, gout, create_graph=double, allow_unused=True)
    grads = [torch.zeros_like(x) if g is None else g for g, x in zip(grads, wrt)]
    k = 0
    for i, d in enumerate(diff):
        if d:
            put(name, f"grad{i}", grads[k])
            k += 1
    if double:
        vs = [torch.randn_like(g) for g in grads]
        s = sum((g * v).sum() for g, v in zip(grads, vs))
        gg = torch.autograd.grad(s, wrt, allow_unused=True) if s.requires_grad else [None] * len(wrt)
        k = 0
        for i, d in enumerate(diff):
            if d:
                put(name, f"v{i}", vs[k])
                put(name, f"gg{i}", torch.zeros_like(wrt[k]) if gg[k] is None else gg[k])
                k += 1


# ---------------------------------------------------------------------------------------------------------
# Ops (float64)
# ---------------------------------------------------------------------------------------------------------
def ops():
    for nm, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)]:
        op(f"{nm}_3x1_1x4", f, [rnd(3, 1), rnd(1, 4)], double=True)
        op(f"{nm}_2x3x4_3x1", f, [rnd(2, 3, 4), rnd(3, 1)], double=True)
        op(f"{nm}_scalar_2x3", f, [rnd(), rnd(2, 3)], double=True)
    op("div_3x1_1x4", torch.div, [rnd(3, 1), away(1, 4)], double=True)
    op("div_5x4_4", torch.div, [rnd(5, 4), away(4)], double=True)
    op("add_scalar", lambda a: a + 0.7, [rnd(3, 4)])
    op("mul_scalar", lambda a: a * -1.3, [rnd(3, 4)])
    op("rsub_scalar", lambda a: 2.0 - a, [rnd(3, 4)])
    op("neg", torch.neg, [rnd(3, 4)])
    op("pow_3", lambda a: a.pow(3.0), [rnd(3, 4)], double=True)
    op("pow_half", lambda a: a.pow(0.5), [rnd(3, 4, lo=0.1, hi=2)], double=True)
    op("pow_minus_1_5", lambda a: a.pow(-1.5), [rnd(3, 4, lo=0.1, hi=2)], double=True)
    op("exp", torch.exp, [torch.cat([rnd(10), t64([-50.0, 50.0])])], double=True)
    op("log", torch.log, [rnd(3, 4, lo=1e-3, hi=3)], double=True)
    op("sqrt", torch.sqrt, [rnd(3, 4, lo=1e-2, hi=3)], double=True)
    # |x| and relu at their kinks: PyTorch's gradient there is 0 (sign(0) = 0, relu'(0) = 0)
    kinks = torch.cat([rnd(9), t64([0.0, 0.0, -0.0])])
    op("abs_with_zeros", torch.abs, [kinks])
    op("square", torch.square, [rnd(3, 4)], double=True)
    # clamp passes the gradient on the closed interval [lo, hi], as PyTorch does: x exactly at a bound gets it
    op("clamp_with_bounds", lambda a: a.clamp(-0.5, 0.5), [torch.cat([rnd(9), t64([-0.5, 0.5, 0.75])])])
    extreme = t64([-50.0, -20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 20.0, 50.0])
    op("sigmoid_extremes", torch.sigmoid, [torch.cat([extreme, rnd(6)])], double=True)
    op("tanh_extremes", torch.tanh, [torch.cat([extreme, rnd(6)])], double=True)
    # DIFFERS: PyTorch's softplus returns x itself above its threshold 20 (gradient exactly 1, second derivative 0
    # from x = 20 on); ours is log(1 + e^x) everywhere (gradient σ(x)). They differ by < e^−20 ≈ 2e-9 relative on
    # [20, 37); the case avoids that interval (at ±50 both are exact to double precision).
    op("softplus_extremes", F.softplus, [torch.cat([t64([-50.0, -20.0, -1.0, 0.0, 1.0, 19.5, 50.0]), rnd(6)])],
       double=True)
    op("relu_with_zeros", torch.relu, [kinks], double=True)
    # leaky_relu at 0 takes the negative slope, as PyTorch's (x > 0 ? 1 : slope)
    op("leaky_relu_0_2_with_zeros", lambda a: F.leaky_relu(a, 0.2), [kinks], double=True)
    mask = (torch.rand(3, 4) < 0.5).to(torch.float64)
    op("masked_mul", lambda a, m: a * m, [rnd(3, 4), mask], diff=[True, False], double=True)
    op("masked_mul_broadcast", lambda a, m: a * m, [rnd(3, 4), (torch.rand(1, 4) < 0.5).double()], diff=[True, False])
    op("where", lambda m, a, b: torch.where(m > 0.5, a, b), [mask, rnd(3, 4), rnd(1, 4)], diff=[False, True, True])
    # products
    a, b = rnd(3, 5), rnd(5, 4)
    op("matmul", torch.matmul, [a, b], double=True)
    op("matmul_ta", lambda x, y: x.t() @ y, [rnd(5, 3), rnd(5, 4)], double=True)
    op("matmul_tb", lambda x, y: x @ y.t(), [rnd(3, 5), rnd(4, 5)], double=True)
    op("matmul_ta_tb", lambda x, y: x.t() @ y.t(), [rnd(5, 3), rnd(4, 5)], double=True)
    op("linear", F.linear, [rnd(6, 5), rnd(4, 5), rnd(4)], double=True)
    # shapes
    op("transpose", lambda x: x.t(), [rnd(3, 5)])
    op("permute_2_0_1", lambda x: x.permute(2, 0, 1), [rnd(2, 3, 4)])
    op("reshape_6x4", lambda x: x.reshape(6, 4), [rnd(2, 3, 4)])
    op("flatten_1", lambda x: torch.flatten(x, 1), [rnd(2, 3, 4)])
    op("broadcast_to_2x3x4", lambda x: x.expand(2, 3, 4), [rnd(3, 1)])
    op("sum_to_3x1", lambda x: x.sum(0).sum(1, keepdim=True), [rnd(2, 3, 4)])
    op("index_select_2_0_2_1", lambda x: x[torch.tensor([2, 0, 2, 1])], [rnd(3, 4)])
    op("index_add_5x4", lambda s: torch.zeros(5, 4, dtype=torch.float64).index_add(0, torch.tensor([4, 0, 4]), s),
       [rnd(3, 4)])
    op("slice_axis1_1_3", lambda x: x[:, 1:3], [rnd(3, 5)])
    op("unslice_axis1_2", lambda s: F.pad(s, (2, 1)), [rnd(3, 2)])
    op("concat_axis1", lambda x, y: torch.cat([x, y], 1), [rnd(3, 2), rnd(3, 4)])
    # reductions
    op("sum_all", torch.sum, [rnd(3, 4)])
    op("sum_axes_0_2", lambda x: x.sum((0, 2)), [rnd(2, 3, 4)])
    op("sum_axes_0_2_keepdim", lambda x: x.sum((0, 2), keepdim=True), [rnd(2, 3, 4)])
    op("mean_all", torch.mean, [rnd(3, 4)])
    op("mean_axis_1_keepdim", lambda x: x.mean(1, keepdim=True), [rnd(2, 3, 4)])
    ties = t64([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, -4.0, 2.0, 0.0]])
    # the gradient of max is shared equally between tied maxima: torch.amax (torch.max(dim) picks one index)
    op("max_all_ties", torch.amax, [ties])
    op("max_axis_1_ties", lambda x: torch.amax(x, 1), [ties])
    op("max_axis_0_keepdim", lambda x: torch.amax(x, 0, keepdim=True), [distinct(3, 4)])
    big = torch.cat([rnd(3, 4) * 3, t64([[50.0, -50.0, 0.0, 1.0]])])
    op("log_softmax_axis1", lambda x: F.log_softmax(x, 1), [big], double=True)
    op("softmax_axis0", lambda x: F.softmax(x, 0), [big], double=True)
    # activation gradients as ops
    op("relu_grad", lambda g, x: g * (x > 0).double(), [rnd(3, 4), kinks.reshape(3, 4)], double=True)
    op("leaky_relu_grad_0_2", lambda g, x: g * torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.2)),
       [rnd(3, 4), kinks.reshape(3, 4)],
       double=True)
    op("sigmoid_grad", lambda g, s: g * s * (1 - s), [rnd(3, 4), rnd(3, 4, lo=0, hi=1)], double=True)
    op("tanh_grad", lambda g, t: g * (1 - t * t), [rnd(3, 4), rnd(3, 4)], double=True)
    # fused losses
    op("sum_squared_error", lambda a, b: ((a - b) ** 2).sum(), [rnd(4, 5), rnd(4, 5)], double=True)
    z = torch.cat([rnd(12) * 4, t64([-50.0, 50.0, -20.0, 20.0])]).reshape(4, 4)
    op("sum_bce_with_logits", lambda z, x: F.binary_cross_entropy_with_logits(z, x, reduction="sum"),
       [z, rnd(4, 4, lo=0, hi=1)], double=True)
    op("sum_binary_cross_entropy", lambda p, x: F.binary_cross_entropy(p, x, reduction="sum"),
       [rnd(4, 4, lo=0.01, hi=0.99), rnd(4, 4, lo=0, hi=1)], double=True)
    # batch norm (training statistics, biased variance)
    op("batch_norm_2d", lambda x, g, b: F.batch_norm(x, None, None, g, b, True, 0.0, 1e-5),
       [rnd(6, 4), rnd(4, lo=0.5, hi=1.5), rnd(4)], double=True)
    op("batch_norm_4d", lambda x, g, b: F.batch_norm(x, None, None, g, b, True, 0.0, 1e-3),
       [rnd(2, 3, 3, 4), rnd(3, lo=0.5, hi=1.5), rnd(3)], double=True)

    def topk(a, k):
        idx = a.abs().topk(k, dim=1).indices
        return a * torch.zeros_like(a).scatter(1, idx, 1.0)
    op("topk_mask_3", lambda a: topk(a, 3), [distinct(4, 7)])
    # convolutions, non-square images and kernels so that rows and columns cannot be swapped unnoticed
    op("conv2d_s2_p1_bias", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
       [rnd(2, 3, 7, 6), rnd(4, 3, 3, 3), rnd(4)], double=True)
    op("conv2d_s1_p0_2x3", lambda x, w: F.conv2d(x, w), [rnd(2, 2, 5, 6), rnd(3, 2, 2, 3)], double=True)
    op("conv_transpose2d_s2_p1_op1_bias", lambda y, w, b: F.conv_transpose2d(y, w, b, stride=2, padding=1, output_padding=1),
       [rnd(2, 4, 3, 4), rnd(4, 3, 3, 3), rnd(3)], double=True)
    op("conv_transpose2d_s2_op_1_0", lambda y, w: F.conv_transpose2d(y, w, stride=2, output_padding=(1, 0)),
       [rnd(1, 2, 3, 2), rnd(2, 3, 3, 2)], double=True)
    op("conv2d_weight_grad_s2_p1", lambda x, gy: torch.nn.grad.conv2d_weight(x, (4, 3, 3, 3), gy, stride=2, padding=1),
       [rnd(2, 3, 7, 6), rnd(2, 4, 4, 3)], double=True)


# ---------------------------------------------------------------------------------------------------------
# Losses (float64), each reduction
# ---------------------------------------------------------------------------------------------------------
def losses():
    p, x = rnd(4, 5), rnd(4, 5)
    op("mse_loss_mean", lambda a, b: F.mse_loss(a, b), [p, x])
    op("mse_loss_sum", lambda a, b: F.mse_loss(a, b, reduction="sum"), [p, x])
    # probabilities at 0 and 1 exactly and saturated: PyTorch clamps each log term at −100 and divides the
    # gradient by max(p(1 − p), 1e-12)
    prob = torch.cat([t64([0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-16]), rnd(10, lo=0.01, hi=0.99)]).reshape(4, 4)
    tgt = torch.cat([t64([1.0, 0.0, 0.0, 1.0, 1.0, 0.0]), rnd(10, lo=0, hi=1)]).reshape(4, 4)
    # DIFFERS: PyTorch's gradient for the target is −logit(p), unclamped (±inf at p = 0 or 1); ours is the
    # derivative of the clamped loss it computes, max(log(1 − p), −100) − max(log p, −100). The saturated cases
    # compare the probabilities' gradient only; bce_loss_mean compares the target's inside (0, 1).
    op("bce_loss_mean_saturated", lambda a, b: F.binary_cross_entropy(a, b), [prob, tgt], diff=[True, False])
    op("bce_loss_sum_saturated", lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), [prob, tgt],
       diff=[True, False])
    op("bce_loss_mean", lambda a, b: F.binary_cross_entropy(a, b), [rnd(3, 4, lo=0.05, hi=0.95), rnd(3, 4, lo=0, hi=1)],
       double=True)
    z = torch.cat([rnd(12) * 4, t64([-50.0, 50.0, -20.0, 20.0])]).reshape(4, 4)
    op("bce_with_logits_loss_mean", lambda a, b: F.binary_cross_entropy_with_logits(a, b), [z, rnd(4, 4, lo=0, hi=1)])
    op("bce_with_logits_loss_sum", lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="sum"),
       [z, rnd(4, 4, lo=0, hi=1)])
    op("cross_entropy_loss", lambda a: F.cross_entropy(a, torch.tensor([2, 0, 3, 3, 1])), [rnd(5, 4) * 3])
    mu, logvar = rnd(4, 3), rnd(4, 3)
    kl = lambda m, lv: -0.5 * torch.sum(1 + lv - m.pow(2) - lv.exp())
    op("kl_normal_sum", kl, [mu, logvar])
    op("kl_normal_mean", lambda m, lv: kl(m, lv) / m.shape[0], [mu, logvar])  # per sample: the sum over N

    def kl_sparsity(h, rho):
        rh = h.mean(0)
        return torch.sum(rho * torch.log(rho / rh) + (1 - rho) * torch.log((1 - rho) / (1 - rh)))
    op("kl_sparsity_0_05", lambda h: kl_sparsity(h, 0.05), [rnd(6, 4, lo=0.01, hi=0.3)], double=True)
    op("l1_activity", lambda h: h.abs().sum() / h.shape[0], [away(5, 4)])


# ---------------------------------------------------------------------------------------------------------
# Layers (float64): parameters given by name, forward, backward, buffers after
# ---------------------------------------------------------------------------------------------------------
def layer(name, module, x, forwards=1, train=True, before=None):
    new_case(name)
    module = module.double()
    module.train(train)
    if before:
        before(module)
    for n, p in module.named_parameters():
        put(name, f"param/{n}", p)
    for n, b in module.named_buffers():
        put(name, f"buffer_before/{n}", b)
    xs = [x + 0.1 * k for k in range(forwards)]  # several batches (BatchNorm's running statistics)
    for k, xk in enumerate(xs):
        put(name, f"in{k}", xk)
    xk = None
    for xk in xs[:-1]:
        with torch.no_grad():
            module(xk)
    xin = xs[-1].clone().requires_grad_(True)
    out = module(xin)
    gout = torch.randn_like(out)
    params = [p for _, p in module.named_parameters()]
    grads = torch.autograd.grad(out, [xin] + params, gout)
    put(name, "out", out)
    put(name, "gout", gout)
    put(name, "grad_input", grads[0])
    for (n, _), g in zip(module.named_parameters(), grads[1:]):
        put(name, f"grad/{n}", g)
    for n, b in module.named_buffers():
        put(name, f"buffer/{n}", b)


def layers():
    nn = torch.nn
    layer("Linear", nn.Linear(5, 3), rnd(4, 5))
    layer("Linear_no_bias", nn.Linear(5, 3, bias=False), rnd(4, 5))
    layer("Conv2d_s2_p1", nn.Conv2d(2, 3, 3, stride=2, padding=1), rnd(2, 2, 5, 6))
    layer("ConvTranspose2d_s2_p1_op1", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), rnd(2, 3, 3, 4))

    def randomise_bn(m):
        with torch.no_grad():
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
    layer("BatchNorm1d_train_3_batches", nn.BatchNorm1d(4), rnd(6, 4) * 2 + 0.3, forwards=3, before=randomise_bn)
    layer("BatchNorm2d_train_2_batches", nn.BatchNorm2d(3, momentum=0.3), rnd(2, 3, 3, 4), forwards=2, before=randomise_bn)

    def bn_eval_stats(m):
        # running statistics far from the batch's own, so that centring with the batch mean is caught
        randomise_bn(m)
        with torch.no_grad():
            m.running_mean.uniform_(-2, 2)
            m.running_var.uniform_(0.3, 3)
    layer("BatchNorm1d_eval", nn.BatchNorm1d(4), rnd(6, 4), train=False, before=bn_eval_stats)
    layer("BatchNorm2d_eval", nn.BatchNorm2d(3), rnd(2, 3, 3, 4), train=False, before=bn_eval_stats)
    kinks = torch.cat([rnd(9), t64([0.0, 0.0, -0.0])]).reshape(3, 4)
    layer("ReLU", nn.ReLU(), kinks)
    layer("LeakyReLU_0_2", nn.LeakyReLU(0.2), kinks)
    layer("Sigmoid", nn.Sigmoid(), rnd(3, 4) * 5)
    layer("Tanh", nn.Tanh(), rnd(3, 4) * 3)
    layer("Softplus", nn.Softplus(), rnd(3, 4) * 5)
    layer("Flatten", nn.Flatten(), rnd(2, 3, 4))
    layer("Unflatten_3x4", nn.Unflatten(1, (3, 4)), rnd(2, 12))
    layer("Dropout_eval", nn.Dropout(0.5), rnd(3, 4), train=False)


# ---------------------------------------------------------------------------------------------------------
# Optimizers (float64): four steps with given gradients
# ---------------------------------------------------------------------------------------------------------
def optimizer(name, make, steps=4):
    new_case(name)
    params = [rnd(3, 4).requires_grad_(True), rnd(5).requires_grad_(True)]
    opt = make(params)
    for i, p in enumerate(params):
        put(name, f"p{i}/0", p)
    for s in range(1, steps + 1):
        for i, p in enumerate(params):
            g = torch.randn_like(p)
            p.grad = g
            put(name, f"g{i}/{s}", g)
        opt.step()
        for i, p in enumerate(params):
            put(name, f"p{i}/{s}", p)


def optimizers():
    o = torch.optim
    optimizer("SGD_lr", lambda p: o.SGD(p, lr=0.1))
    optimizer("SGD_momentum", lambda p: o.SGD(p, lr=0.1, momentum=0.9))
    optimizer("SGD_weight_decay", lambda p: o.SGD(p, lr=0.1, weight_decay=0.05))
    optimizer("SGD_momentum_weight_decay", lambda p: o.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.1))
    optimizer("Adam_default", lambda p: o.Adam(p))
    optimizer("Adam_lr_betas_eps", lambda p: o.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-3))
    optimizer("Adam_weight_decay", lambda p: o.Adam(p, lr=0.01, weight_decay=0.1))
    # StepLR: the learning rate over 8 epochs
    new_case("StepLR_3_0_5")
    opt = o.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    sched = o.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(8):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    put("StepLR_3_0_5", "lr", t64(lrs))


# ---------------------------------------------------------------------------------------------------------
# Autoencoder objectives (float32), written from the slides in PyTorch with our parameter names
# ---------------------------------------------------------------------------------------------------------
def f32(*shape, lo=-1.0, hi=1.0):
    return rnd(*shape, lo=lo, hi=hi).float()


def linear_params(prefix, n_in, n_out, bias=True, scale=None):
    s = scale if scale is not None else 1 / math.sqrt(n_in)
    p = {f"{prefix}.weight": f32(n_out, n_in) * s}
    if bias:
        p[f"{prefix}.bias"] = f32(n_out) * s
    return p


def objective(name, params, loss_fn, inputs, extra=None):
    """loss_fn(P, *inputs) -> scalar; gradients of every parameter."""
    new_case(name)
    P = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    for k, v in P.items():
        put(name, f"param/{k}", v)
    for i, x in enumerate(inputs):
        put(name, f"in{i}", x)
    for k, v in (extra or {}).items():
        put(name, k, v)
    out = loss_fn(P, *inputs)
    if isinstance(out, tuple):
        out, more = out
        for k, v in more.items():
            put(name, k, v)
    grads = torch.autograd.grad(out, list(P.values()), allow_unused=True)
    put(name, "out", out)
    for (k, v), g in zip(P.items(), grads):
        put(name, f"grad/{k}", torch.zeros_like(v) if g is None else g)


ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda x: x, "tanh": torch.tanh}


def ae_params(sizes, tied=False):
    p = {}
    for i in range(len(sizes) - 1):
        p.update(linear_params(f"encoder.{2 * i}", sizes[i], sizes[i + 1]))
    for j, i in enumerate(range(len(sizes) - 1, 0, -1)):
        if tied:
            p[f"decoder.{2 * j}.bias"] = f32(sizes[i - 1]) * 0.1
        else:
            p.update(linear_params(f"decoder.{2 * j}", sizes[i], sizes[i - 1]))
    return p


def ae_forward(P, x, sizes, hidden, code, output, tied=False, logits=False):
    """Autoencoder: h = f(W1 x), x' = g(W2 h); returns (code, reconstruction or its logits)."""
    L = len(sizes) - 1
    h = x
    for i in range(L):
        h = F.linear(h, P[f"encoder.{2 * i}.weight"], P[f"encoder.{2 * i}.bias"])
        h = ACT[code if i == L - 1 else hidden](h)
    code_h = h
    for j, i in enumerate(range(L, 0, -1)):
        if tied:
            h = h @ P[f"encoder.{2 * (i - 1)}.weight"] + P[f"decoder.{2 * j}.bias"]
        else:
            h = F.linear(h, P[f"decoder.{2 * j}.weight"], P[f"decoder.{2 * j}.bias"])
        if not (logits and i == 1):
            h = ACT[output if i == 1 else hidden](h)
    return code_h, h


def objectives():
    N, D = 6, 12
    x = f32(N, D, lo=0, hi=1)
    # plain autoencoder, MSE per pixel (mean), deep and tied
    sizes = [D, 8, 4]
    objective("ae_mse_deep", ae_params(sizes),
              lambda P, x: F.mse_loss(ae_forward(P, x, sizes, "relu", "identity", "sigmoid")[1], x), [x])
    objective("ae_mse_tied", ae_params([D, 5], tied=True),
              lambda P, x: F.mse_loss(ae_forward(P, x, [D, 5], "relu", "sigmoid", "sigmoid", tied=True)[1], x), [x])
    # BCE with a sigmoid output: from the logits (PyTorch's binary_cross_entropy_with_logits); the weights
    # saturate some outputs (logits beyond ±17) where the target is the opposite pixel value
    Pb = ae_params([D, 5])
    Pb["decoder.0.weight"] = Pb["decoder.0.weight"] * 40
    xb = (x > 0.5).float()
    objective("ae_bce_saturated", Pb,
              lambda P, x: F.binary_cross_entropy_with_logits(
                  ae_forward(P, x, [D, 5], "relu", "sigmoid", "sigmoid", logits=True)[1], x), [xb])
    # sparse: KL to ρ on sigmoid codes (β = 3, ρ = 0.05), and L1 on the codes (λ = 1e-2)
    Ps = ae_params([D, 7])

    def sparse_kl(P, x):
        h, r = ae_forward(P, x, [D, 7], "relu", "sigmoid", "sigmoid")
        rh = h.mean(0)
        rho = 0.05
        kl = torch.sum(rho * torch.log(rho / rh) + (1 - rho) * torch.log((1 - rho) / (1 - rh)))
        return F.mse_loss(r, x) + 3.0 * kl
    objective("sparse_kl", Ps, sparse_kl, [x])

    def sparse_l1(P, x):
        h, r = ae_forward(P, x, [D, 7], "relu", "relu", "sigmoid")
        return F.mse_loss(r, x) + 1e-2 * h.abs().sum() / x.shape[0]
    objective("sparse_l1", Ps, sparse_l1, [x])
    # k-sparse (tied, linear decoder): k = 3 largest |z| in training; α·k = 6 when encoding
    Pk = linear_params("encoder", D, 10)
    Pk["decoder.bias"] = f32(D) * 0.1

    def topk(a, k):
        idx = a.abs().topk(k, dim=1).indices
        return a * torch.zeros_like(a).scatter(1, idx, 1.0)

    def k_sparse(P, x):
        z = F.linear(x, P["encoder.weight"], P["encoder.bias"])
        r = topk(z, 3) @ P["encoder.weight"] + P["decoder.bias"]
        return F.mse_loss(r, x), {"encode_eval": topk(z, 6).detach(), "reconstruct": r.detach()}
    objective("k_sparse_k3_alpha2", Pk, k_sparse, [x])
    # denoising: the loss of the reconstruction of the corrupted input against the clean one
    Pd = ae_params([D, 6])
    xc = x * (torch.rand(N, D) > 0.3).float()
    objective("denoising_masked", Pd,
              lambda P, xc, x: F.mse_loss(ae_forward(P, xc, [D, 6], "relu", "sigmoid", "sigmoid")[1], x), [xc, x])
    # contractive: λ‖J_f(x)‖²_F averaged over the batch, closed form = exact (double backward)
    Pc = ae_params([D, 5])

    def contractive(P, x):
        h, r = ae_forward(P, x, [D, 5], "relu", "sigmoid", "sigmoid")
        W = P["encoder.0.weight"]
        jf = ((h * (1 - h)) ** 2 * (W ** 2).sum(1)).sum() / x.shape[0]
        return F.mse_loss(r, x) + 0.1 * jf, {"jacobian_norm_sq": jf.detach()}
    objective("contractive_closed_form", Pc, contractive, [x])
    # stacked: greedy layer 1 on the frozen codes of layer 0; the unrolled deep autoencoder
    Pst = {}
    ss = [D, 8, 4]
    for i in range(2):
        Pst.update(linear_params(f"encoder{i}", ss[i], ss[i + 1]))
        Pst.update(linear_params(f"decoder{i}", ss[i + 1], ss[i]))

    def stacked_layer1(P, x):
        with torch.no_grad():
            h0 = torch.sigmoid(F.linear(x, P["encoder0.weight"], P["encoder0.bias"]))
        h1 = F.linear(h0, P["encoder1.weight"], P["encoder1.bias"])  # top code: linear
        r0 = torch.sigmoid(F.linear(h1, P["decoder1.weight"], P["decoder1.bias"]))  # hidden activation
        return F.mse_loss(r0, h0)
    objective("stacked_layer1", Pst, stacked_layer1, [x])

    def stacked_deep(P, x):
        h = torch.sigmoid(F.linear(x, P["encoder0.weight"], P["encoder0.bias"]))
        h = F.linear(h, P["encoder1.weight"], P["encoder1.bias"])
        h = torch.sigmoid(F.linear(h, P["decoder1.weight"], P["decoder1.bias"]))
        r = torch.sigmoid(F.linear(h, P["decoder0.weight"], P["decoder0.bias"]))
        return F.mse_loss(r, x)
    objective("stacked_deep", Pst, stacked_deep, [x])
    # VAE: z = μ + σ ⊙ ε with the stored ε; (Σ BCE(logits) + β KL) / N, and the Gaussian decoder (Σ squared error)
    Pv = {}
    Pv.update(linear_params("encoder.0", D, 7))
    Pv.update(linear_params("mu", 7, 3))
    Pv.update(linear_params("logvar", 7, 3))
    Pv.update(linear_params("decoder.0", 3, 7))
    Pv.update(linear_params("decoder.2", 7, D))
    eps = torch.randn(N, 3)

    def vae(P, x, eps, beta, bernoulli):
        h = torch.relu(F.linear(x, P["encoder.0.weight"], P["encoder.0.bias"]))
        mu = F.linear(h, P["mu.weight"], P["mu.bias"])
        logvar = F.linear(h, P["logvar.weight"], P["logvar.bias"])
        z = mu + torch.exp(0.5 * logvar) * eps
        out = F.linear(torch.relu(F.linear(z, P["decoder.0.weight"], P["decoder.0.bias"])), P["decoder.2.weight"],
                       P["decoder.2.bias"])
        rec = (F.binary_cross_entropy_with_logits(out, x, reduction="sum") if bernoulli
               else F.mse_loss(out, x, reduction="sum"))
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        n = x.shape[0]
        return (rec + beta * kl) / n, {"reconstruction": rec.detach() / n, "kl": kl.detach() / n}
    objective("vae_bernoulli", Pv, lambda P, x, e: vae(P, x, e, 1.0, True), [x, eps])
    objective("vae_gaussian_beta_4", Pv, lambda P, x, e: vae(P, x, e, 4.0, False), [x, eps])
    # convolutional AE on 8×8 images, channels {2, 3}, code 3: training mode (batch statistics)
    img = 8
    xi = f32(N, img * img, lo=0, hi=1)
    conv = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, 2, 1), torch.nn.BatchNorm2d(2), torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(2, 3, 3, 2, 1), torch.nn.BatchNorm2d(3), torch.nn.LeakyReLU(0.2),
        torch.nn.Flatten(), torch.nn.Linear(3 * 2 * 2, 3))
    dec = torch.nn.Sequential(
        torch.nn.Linear(3, 3 * 2 * 2), torch.nn.LeakyReLU(0.2), torch.nn.Unflatten(1, (3, 2, 2)),
        torch.nn.ConvTranspose2d(3, 2, 3, 2, 1, output_padding=1), torch.nn.BatchNorm2d(2), torch.nn.LeakyReLU(0.2),
        torch.nn.ConvTranspose2d(2, 1, 3, 2, 1, output_padding=1), torch.nn.Sigmoid())
    Pcv = {}
    for n, p in conv.named_parameters():
        Pcv[f"encoder.{n}"] = p.detach().clone()
    for n, p in dec.named_parameters():
        Pcv[f"decoder.{n}"] = p.detach().clone()
    for n, p in Pcv.items():  # non-trivial BatchNorm scales and shifts
        if n.endswith("1.weight") or n.endswith("4.weight"):
            p.uniform_(0.5, 1.5)
        if n.endswith("1.bias") or n.endswith("4.bias"):
            p.uniform_(-0.3, 0.3)

    def conv_ae(P, x):
        enc_sd = {k[len("encoder."):]: v for k, v in P.items() if k.startswith("encoder.")}
        dec_sd = {k[len("decoder."):]: v for k, v in P.items() if k.startswith("decoder.")}
        conv.train()
        dec.train()
        h = torch.nn.utils.stateless.functional_call(conv, enc_sd, (x.view(-1, 1, img, img),))
        r = torch.nn.utils.stateless.functional_call(dec, dec_sd, (h,)).view(-1, img * img)
        return F.mse_loss(r, x)
    objective("conv_ae_train", Pcv, conv_ae, [xi])


# ---------------------------------------------------------------------------------------------------------
# The reference models' state_dicts, saved with numpy (a PyTorch user's weights coming in)
# ---------------------------------------------------------------------------------------------------------
def state_dicts():
    spec = importlib.util.spec_from_file_location(
        "torch_reference", os.path.join(HERE, "..", "..", "..", "shared", "reference", "torch_reference.py"))
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    torch.manual_seed(7)
    conv = ref.ConvAE()
    # one training step so the BatchNorm buffers are not their initial values (and num_batches_tracked = 1)
    conv.train()
    conv(torch.rand(8, 784))
    conv.eval()
    x = torch.rand(3, 784)
    with torch.no_grad():
        y = conv(x)
    sd = {k: v.numpy() for k, v in conv.state_dict().items()}
    np.savez(os.path.join(HERE, "torch_conv_ae.npz"), **sd)
    put("state_dict_conv_ae", "in0", x)
    put("state_dict_conv_ae", "out", y)
    new_case("state_dict_conv_ae")
    # The reference VAE's layers (fc1, fc21, fc22, fc3, fc4), narrowed to keep the committed file small:
    # 784-16-(4, 4)-16-784; the reconstruction from the mean code (eval).
    vae = ref.VAE()
    vae.fc1, vae.fc21, vae.fc22 = torch.nn.Linear(784, 16), torch.nn.Linear(16, 4), torch.nn.Linear(16, 4)
    vae.fc3, vae.fc4 = torch.nn.Linear(4, 16), torch.nn.Linear(16, 784)
    with torch.no_grad():
        mu = vae.fc21(F.relu(vae.fc1(x)))
        y = torch.sigmoid(vae.fc4(F.relu(vae.fc3(mu))))
    np.savez(os.path.join(HERE, "torch_vae_small.npz"), **{k: v.numpy() for k, v in vae.state_dict().items()})
    put("state_dict_vae_small", "in0", x)
    put("state_dict_vae_small", "out", y)
    new_case("state_dict_vae_small")


def numpy_layouts():
    """Arrays with distinct values in every layout numpy writes: the reader is checked against them byte for byte."""
    np.savez(os.path.join(HERE, "numpy_layouts.npz"),
             c_f8=np.arange(6, dtype="<f8").reshape(2, 3) + 0.5,
             fortran_f4=np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)),
             transposed_f8=(np.arange(6, dtype="<f8").reshape(2, 3) * 1.5).T,  # what np.savez writes for a.T
             big_f8=(np.arange(5) * -1.25).astype(">f8"),
             big_i4=np.array([[1, -2], [300000, -7]], dtype=">i4"),
             i8=np.array([-3, 5, 2 ** 40], dtype="<i8"),
             i2=np.array([-32768, 32767], dtype="<i2"),
             u1=np.array([0, 7, 255], dtype="u1"),
             big_u2=np.array([1, 65535], dtype=">u2"),
             b1=np.array([True, False, True]),
             scalar_i8=np.array(12, dtype="<i8"))


def main():
    ops()
    losses()
    layers()
    optimizers()
    objectives()
    state_dicts()
    numpy_layouts()
    assert sorted(ORDER) == sorted({k.split("/")[0] for k in G}), "every case stores arrays under its name"
    np.savez(os.path.join(HERE, "golden.npz"), **G)
    size = os.path.getsize(os.path.join(HERE, "golden.npz"))
    print(f"golden.npz: {len(ORDER)} cases, {len(G)} arrays, {size / 1024:.0f} KiB; torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(main())

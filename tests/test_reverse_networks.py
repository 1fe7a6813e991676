"""Ω, Ψ and the DAE: output validity, the Fig. 2 data flow, initialisation, input formats."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from smplr.dae import DenoisingAutoencoder
from smplr.input_formats import dae_input, input_shape
from smplr.reverse.networks import PoseNet, ShapeNet

TINY = {"widths": (32, 32, 16), "head_width": 8}


def _directions(batch: int, seed: int = 0) -> torch.Tensor:
    raw = torch.randn(batch, 41, 3, generator=torch.Generator().manual_seed(seed))
    return nn.functional.normalize(raw, dim=-1)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_pose_net_outputs_rotations(mode: str) -> None:
    omega = PoseNet(**TINY)
    omega.train(mode == "train")
    rot = omega(_directions(16)).double()
    assert rot.shape == (16, 24, 3, 3)
    eye = torch.eye(3, dtype=torch.float64).expand(16, 24, 3, 3)
    torch.testing.assert_close(rot.transpose(-1, -2) @ rot, eye, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        torch.linalg.det(rot), torch.ones(16, 24, dtype=torch.float64), atol=1e-5, rtol=0
    )


def test_pose_net_outputs_rotations_even_for_large_outputs() -> None:
    omega = PoseNet(**TINY).eval()
    with torch.no_grad():
        omega.mlp.merge.weight.mul_(1e3)
    rot = omega(_directions(8)).double()
    torch.testing.assert_close(
        torch.linalg.det(rot), torch.ones(8, 24, dtype=torch.float64), atol=1e-4, rtol=0
    )


def test_shape_net_outputs_betas_and_gender() -> None:
    psi = ShapeNet(**TINY).eval()
    betas, gender = psi(torch.randn(5, 41))
    assert betas.shape == (5, 10) and gender.shape == (5,)


def test_linear_layers_are_xavier_initialised() -> None:
    for net in (PoseNet(**TINY), ShapeNet(**TINY), DenoisingAutoencoder((32, 32, 16))):
        for name, layer in net.named_modules():
            if not isinstance(layer, nn.Linear):
                continue
            if isinstance(net, DenoisingAutoencoder) and name == "out":
                # the correction layer starts at zero: the untrained DAE is the identity
                assert bool((layer.weight == 0).all()) and bool((layer.bias == 0).all())
                continue
            bound = math.sqrt(6.0 / (layer.in_features + layer.out_features))
            assert layer.weight.abs().max() <= bound
            assert layer.weight.std() > 0.4 * bound  # filled, not zero
            if not (isinstance(net, PoseNet) and name.endswith("merge")):
                assert bool((layer.bias == 0).all()), name


def test_untrained_dae_is_the_identity() -> None:
    x = torch.randn(4, 42, 3)
    torch.testing.assert_close(DenoisingAutoencoder((32, 32, 16)).eval()(x), x)


def test_dae_output_is_input_plus_correction() -> None:
    dae = DenoisingAutoencoder((32, 32, 16)).eval()
    x = torch.randn(4, 42, 3)
    correction = torch.randn(126)
    with torch.no_grad():
        dae.out.bias.copy_(correction)
    torch.testing.assert_close(dae(x), x + correction.view(42, 3))


def test_dae_has_skips_and_dropout_where_the_paper_puts_them() -> None:
    dae = DenoisingAutoencoder((32, 24, 16))  # the paper's dropouts by default
    assert dae.input_dropout.p == pytest.approx(0.2) and dae.code_dropout.p == pytest.approx(0.2)
    seen = {}
    for name in ("enc1", "enc2", "dec1", "dec2"):
        getattr(dae, name).register_forward_hook(
            lambda m, i, o, name=name: seen.__setitem__(name, o)
        )
    captured = {}
    dae.dec2.register_forward_pre_hook(lambda m, args: captured.__setitem__("dec2_in", args[0]))
    dae.out.register_forward_pre_hook(lambda m, args: captured.__setitem__("out_in", args[0]))
    dae.eval()
    dae(torch.randn(3, 42, 3))
    torch.testing.assert_close(captured["dec2_in"], seen["dec1"] + seen["enc2"])
    torch.testing.assert_close(captured["out_in"], seen["dec2"] + seen["enc1"])


def test_dae_dropout_is_active_in_training_only() -> None:
    dae = DenoisingAutoencoder((32, 32, 16))
    nn.init.normal_(dae.out.weight, std=0.1)  # a trained DAE's correction is not zero
    x = torch.randn(64, 42, 3)
    dae.train()
    assert not torch.equal(dae(x), dae(x))
    dae.eval()
    torch.testing.assert_close(dae(x), dae(x))


def test_dae_input_formats() -> None:
    joints = torch.randn(2, 24, 3)
    full = dae_input(joints, "joints24")
    torch.testing.assert_close(full[:, :24], joints)
    assert bool((full[:, 24:] == 0).all())
    flat = torch.randn(2, 42, 2)
    lifted = dae_input(flat, "2d")
    torch.testing.assert_close(lifted[..., :2], flat)
    assert bool((lifted[..., 2] == 0).all())
    assert input_shape("jl42") == (42, 3)
    with pytest.raises(ValueError, match="unknown input format 'xyz'"):
        dae_input(flat, "xyz")
    with pytest.raises(ValueError, match=r"2d input has shape \(2, 42, 3\)"):
        dae_input(torch.randn(2, 42, 3), "2d")


def test_folding_batchnorm_keeps_eval_outputs() -> None:
    import copy

    from smplr.nn_blocks import fold_batchnorm

    for net in (PoseNet(**TINY), ShapeNet(**TINY), DenoisingAutoencoder((32, 32, 16))):
        with torch.no_grad():  # non-trivial running statistics
            for module in net.modules():
                if isinstance(module, nn.BatchNorm1d):
                    module.running_mean.uniform_(-1, 1)
                    module.running_var.uniform_(0.5, 2)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.5, 0.5)
        net.eval()
        folded = fold_batchnorm(copy.deepcopy(net))
        assert not any(isinstance(m, nn.BatchNorm1d) for m in folded.modules())
        x = (
            torch.randn(5, 41, 3)
            if isinstance(net, PoseNet)
            else (torch.randn(5, 41) if isinstance(net, ShapeNet) else torch.randn(5, 42, 3))
        )
        with torch.no_grad():
            a, b = net(x), folded(x)
        for u, v in zip(
            a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True
        ):
            torch.testing.assert_close(u, v, atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------- behaviour
def _inputs(net: nn.Module, batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if isinstance(net, PoseNet):
        return _directions(batch, seed)
    if isinstance(net, ShapeNet):
        return torch.randn(batch, 41, generator=g)
    return torch.randn(batch, 42, 3, generator=g)


def _outputs(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = net(x)
    return torch.cat([out[0], out[1][:, None]], dim=1) if isinstance(out, tuple) else out


def _networks() -> list[nn.Module]:
    torch.manual_seed(0)
    dae = DenoisingAutoencoder((32, 32, 16))
    nn.init.normal_(dae.out.weight, std=0.05)  # trained DAEs correct; untrained is identity
    return [PoseNet(**TINY), ShapeNet(**TINY), dae]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 100.0), batch=st.integers(1, 6))
def test_pose_net_output_is_always_a_rotation(seed: int, scale: float, batch: int) -> None:
    torch.manual_seed(seed)
    omega = PoseNet(**TINY).eval()
    rot = omega(scale * _directions(batch, seed)).double()
    eye = torch.eye(3, dtype=torch.float64).expand(batch, 24, 3, 3)
    torch.testing.assert_close(rot.transpose(-1, -2) @ rot, eye, atol=1e-5, rtol=0)
    det = torch.linalg.det(rot)
    torch.testing.assert_close(det, torch.ones_like(det), atol=1e-5, rtol=0)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["pose", "shape", "dae"])
def test_gradients_reach_every_parameter(index: int) -> None:
    net = _networks()[index].train()
    x = _inputs(net, 8, 1)
    target = torch.randn_like(_outputs(net.eval(), x))
    net.train()
    torch.manual_seed(2)
    ((_outputs(net, x) - target) ** 2).mean().backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert bool(torch.isfinite(param.grad).all()), name
        assert float(param.grad.abs().max()) > 0, name


@pytest.mark.parametrize("index", [0, 1, 2], ids=["pose", "shape", "dae"])
def test_a_few_steps_fit_a_tiny_fixed_batch(index: int) -> None:
    net = _networks()[index]
    x = _inputs(net, 16, 3)
    with torch.no_grad():  # targets of the same kind: another network's outputs
        target = _outputs(_networks()[index].eval(), _inputs(net, 16, 4))
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)

    def loss() -> torch.Tensor:
        return ((_outputs(net, x) - target) ** 2).mean()

    net.eval()
    with torch.no_grad():
        before = float(loss())
    for _ in range(40):
        net.train()
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        after = float(loss())
    assert after < 0.7 * before, (before, after)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["pose", "shape", "dae"])
def test_eval_mode_is_deterministic_and_samples_independent(index: int) -> None:
    net = _networks()[index].eval()
    x = _inputs(net, 6, 5)
    with torch.no_grad():
        whole = _outputs(net, x)
        torch.testing.assert_close(_outputs(net, x), whole, atol=0, rtol=0)
        alone = torch.cat([_outputs(net, x[i : i + 1]) for i in range(6)])
        changed = x.clone()
        changed[3:] = _inputs(net, 3, 6)
        mixed = _outputs(net, changed)
    torch.testing.assert_close(alone, whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(mixed[:3], whole[:3], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(mixed[3:], whole[3:])

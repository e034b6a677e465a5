"""FlatAdam gives torch.optim.Adam's numbers bit for bit (so swapping it in changes no stored trajectory)."""

import pytest
import torch
from torch import nn

from tnasbench.flat_adam import FlatAdam, make_adam


def _model(seed: int = 0) -> nn.Module:
    """Float32 layers and float64 scalars, like TNAS's head and GP."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(7, 13), nn.ReLU(), nn.Linear(13, 3))
    model.register_parameter("scale", nn.Parameter(torch.tensor(0.3, dtype=torch.float64)))
    model.register_parameter("shift", nn.Parameter(torch.zeros(1, 1, dtype=torch.float64)))
    return model


def _loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x).double()
    return ((out * model.scale + model.shift) ** 2).mean() + model.scale.abs() * 1e-3


def _train(make, steps: int = 60, nudge: bool = False) -> list[torch.Tensor]:
    model = _model()
    optimizer = make(list(model.parameters()))
    generator = torch.Generator().manual_seed(1)
    for step in range(steps):
        optimizer.zero_grad()
        x = torch.randn(32, 7, generator=generator) * 10 ** (step % 5 - 2)  # gradients over several scales
        _loss(model, x).backward()
        optimizer.step()
        if nudge and step % 7 == 0:  # weights set from outside between steps (as Reptile's outer step does)
            with torch.no_grad():
                model[0].weight.mul_(0.9)
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("foreach", [True, False])
@pytest.mark.parametrize("nudge", [False, True])
def test_the_same_weights_as_torch_adam_bit_for_bit(foreach, nudge):
    expected = _train(lambda params: torch.optim.Adam(params, lr=3e-3, foreach=foreach), nudge=nudge)
    got = _train(lambda params: FlatAdam(params, lr=3e-3), nudge=nudge)
    assert all(torch.equal(a, b) for a, b in zip(expected, got, strict=True))
    assert not torch.equal(got[0], _model()[0].weight)  # it trained


def test_weights_keep_their_own_storage():
    model = _model()
    before = [p.data_ptr() for p in model.parameters()]
    optimizer = FlatAdam(model.parameters(), lr=1e-2)
    _loss(model, torch.ones(4, 7)).backward()
    optimizer.step()
    assert [p.data_ptr() for p in model.parameters()] == before


def test_zero_grad_clears_and_a_step_without_gradients_changes_nothing():
    model = _model()
    optimizer = FlatAdam(model.parameters(), lr=1e-2)
    _loss(model, torch.ones(4, 7)).backward()
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_a_gradient_missing_for_some_weights_of_a_dtype_is_refused():
    model = _model()
    optimizer = FlatAdam(model.parameters(), lr=1e-2)
    model(torch.ones(4, 7)).sum().backward()  # the float64 weights get none: that group is skipped
    model[2].bias.grad = None  # one float32 weight without a gradient
    with pytest.raises(ValueError, match="got no gradient"):
        optimizer.step()


def test_make_adam_flattens_cpu_weights():
    assert isinstance(make_adam(_model().parameters(), lr=1e-3), FlatAdam)

import numpy as np
import torch

from tnasbench.benchmarks.live import image_sample
from tnasbench.benchmarks.tables import load_table
from tnasbench.space import nb201_space
from tnasbench.tnas.arch_encoder import cell_graphs
from tnasbench.tnas.config import TnasConfig
from tnasbench.tnas.dataset_encoder import image_features
from tnasbench.tnas.meta import MetaTask, inner_loop, reptile_update, task_loss
from tnasbench.tnas.model import DeepKernelSurrogate

SMALL = TnasConfig(arch_hidden=16, head=(16, 8), batch=64, inner_steps=20, meta_lr=1e-2)


def _graphs():
    return cell_graphs(nb201_space())


def _task(dataset="cifar100", features=None):
    return MetaTask.from_accuracies(dataset, load_table(dataset).column("val@200"), features)


def test_gp_posterior_interpolates_its_training_points():
    torch.manual_seed(0)
    model = DeepKernelSurrogate(SMALL, use_data=False)
    model.likelihood.noise = 1e-4
    x = torch.randn(30, 8, dtype=torch.float64)
    y = torch.sin(x.sum(1))
    mean, variance = model.predict(x, y, x)
    torch.testing.assert_close(mean, y, atol=2e-2, rtol=0)
    assert variance.max() < 1e-2
    far_mean, far_variance = model.predict(x, y, x + 50)
    assert far_variance.min() > 0.5  # away from the data the prior's variance comes back


def test_reptile_update_moves_weights_toward_the_task_solution():
    torch.manual_seed(0)
    model = DeepKernelSurrogate(SMALL, use_data=False)
    start = {name: w.detach().clone() for name, w in model.named_parameters()}
    inner_loop(model, _graphs(), _task(), SMALL, np.random.default_rng(0))
    solution = {name: w.detach().clone() for name, w in model.named_parameters()}
    reptile_update(model, start, step_size=0.25)

    def distance(a, b):
        return torch.sqrt(sum(((a[k] - b[k]) ** 2).sum() for k in a))

    now = {name: w.detach() for name, w in model.named_parameters()}
    assert distance(start, solution) > 0
    torch.testing.assert_close(distance(now, solution), 0.75 * distance(start, solution))
    torch.testing.assert_close(distance(now, start), 0.25 * distance(start, solution))


def test_inner_loop_lowers_the_task_loss():
    torch.manual_seed(0)
    model, graphs, task = DeepKernelSurrogate(SMALL, use_data=False), _graphs(), _task()
    cells = torch.arange(0, 15625, 61)
    before = float(task_loss(model, graphs, task, cells).detach())
    inner_loop(model, graphs, task, SMALL, np.random.default_rng(0))
    assert float(task_loss(model, graphs, task, cells).detach()) < before - 0.1


def test_meta_training_reaches_the_dataset_encoder():
    torch.manual_seed(0)
    model = DeepKernelSurrogate(SMALL, use_data=True)
    features = image_features(image_sample("digits", seed=0, per_class=5))
    before = [w.detach().clone() for w in model.data_encoder.parameters()]
    inner_loop(model, _graphs(), _task(features=features), SMALL, np.random.default_rng(0))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.data_encoder.parameters(), strict=True))


def test_plain_nll_equals_gpytorchs_marginal_likelihood_and_its_gradient():
    import gpytorch

    from tnasbench.gp import exact_nll

    torch.manual_seed(0)
    model = DeepKernelSurrogate(SMALL, use_data=False)
    with torch.no_grad():
        model.gp.kernel.base_kernel.lengthscale = 1.7
        model.gp.kernel.outputscale = 0.6
        model.likelihood.noise = 0.03
        model.gp.mean.constant.fill_(0.2)
    x = torch.randn(40, 8, dtype=torch.float64, requires_grad=True)
    y = torch.sin(x.detach().sum(1))
    model.gp.train(), model.likelihood.train()
    model.gp.set_train_data(x, y, strict=False)
    reference = -gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model.gp)(model.gp(x), y)
    ours = exact_nll(model.gp.mean, model.gp.kernel, model.likelihood.noise.squeeze(), x, y)
    weights = [x, *model.gp.parameters(), *model.likelihood.parameters()]
    for a, b in zip(torch.autograd.grad(reference, weights), torch.autograd.grad(ours, weights), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=0)

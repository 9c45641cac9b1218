"""save_mlp and load_mlp: a round trip gives the same network, bit for bit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ftle_widget.paper.models import load_mlp, mlp, save_mlp

CASES = [
    dict(n_in=2, width=10, depth=4, n_out=1),  # the paper's net: tanh on its one output
    dict(n_in=5, width=7, depth=2, n_out=3),  # logits
    dict(n_in=2, width=4, depth=3, n_out=1, output_activation=False),
    dict(n_in=3, width=6, depth=1, n_out=2, output_activation=True),
]


def _structure(model: nn.Sequential) -> list:
    return [(type(m).__name__, getattr(m, "weight", torch.empty(0)).shape) for m in model]


@pytest.mark.parametrize("arguments", CASES, ids=lambda a: "-".join(map(str, a.values())))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_saved_mlp_loads_as_the_same_network(tmp_path, arguments, dtype):
    model = mlp(**arguments, seed=3).to(dtype)
    with torch.no_grad():  # weights float32 cannot hold, in the float64 case
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1), dtype=dtype))
    path = tmp_path / "net.pt"
    save_mlp(model, path, epoch=12, note="trained")
    loaded = load_mlp(path)
    assert _structure(loaded) == _structure(model) and not loaded.training
    state = loaded.state_dict()
    assert state.keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert state[key].dtype == dtype and torch.equal(state[key], value), key
    x = torch.randn(9, arguments["n_in"], generator=torch.Generator().manual_seed(2), dtype=dtype)
    assert torch.equal(loaded(x), model(x))
    saved = torch.load(path, weights_only=True)  # the extra information is kept beside
    assert saved["epoch"] == 12 and saved["note"] == "trained"


def test_save_mlp_refuses_other_models_and_load_mlp_other_files(tmp_path):
    with pytest.raises(ValueError, match=r"use torch\.save"):
        save_mlp(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), tmp_path / "x.pt")
    model = mlp(2, 4, 2, 1, seed=0)
    save_mlp(model, tmp_path / "ok.pt")
    saved = torch.load(tmp_path / "ok.pt", weights_only=True)
    saved["state_dict"] = {k: v.to(torch.int64) for k, v in saved["state_dict"].items()}
    torch.save(saved, tmp_path / "ints.pt")
    with pytest.raises(ValueError, match="floating-point"):
        load_mlp(tmp_path / "ints.pt")

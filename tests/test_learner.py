"""The one training loop (chapter 01b): every model trains through `Learner`, and its progress output suits where it runs."""
import io, re, sys
from contextlib import redirect_stdout
from pathlib import Path

import torch
from torch import nn

from c2crs.learner import Learner, Progress, quiet


def test_one_backward_in_the_package():
    "Only the learner calls backward(): pre-training, the recommender, multi-task and the generator all train through it."
    package = Path(__file__).parent.parent / 'c2crs'
    calls = {p.name: len(re.findall(r'\.backward\(\)', p.read_text())) for p in package.glob('*.py')}
    assert {name: n for name, n in calls.items() if n} == {'learner.py': 1}


def tiny_fit(cbs, epochs=2):
    torch.manual_seed(0)
    model, x, y = nn.Linear(2, 1), torch.randn(16, 2), torch.randn(16)
    loss = lambda b: nn.functional.mse_loss(model(b[0]).squeeze(-1), b[1])
    return Learner(model, lambda epoch: [(x[:8], y[:8]), (x[8:], y[8:])], loss, cbs=cbs).fit(epochs)


def test_progress_prints_an_epoch_table_off_a_terminal(monkeypatch):
    "Not on a terminal: a header and one row per epoch, no bar characters; inside quiet(): nothing."
    monkeypatch.setattr(sys.stderr, 'isatty', lambda: False, raising=False)
    out = io.StringIO()
    with redirect_stdout(out): history = tiny_fit([Progress('toy')])
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ['epoch', 'loss'] and [l.split()[0] for l in lines[1:]] == ['1', '2']
    assert float(lines[2].split()[1]) == float(f"{history[1]['loss']:.4g}")
    out = io.StringIO()
    with redirect_stdout(out), quiet(): tiny_fit([Progress('toy')])
    assert out.getvalue() == ''

"The main job: the console script and the run folder it writes."
import json, subprocess, sys
from pathlib import Path

import pytest
import torch

from c2crs.cli import format_table, run_pipeline
from c2crs.pretrain import PretrainConfig
from c2crs.recommend import RecommendConfig
from c2crs.converse import ConverseConfig

QUICK = PretrainConfig(coarse_epochs=1, fine_epochs=1)
QUICK_REC = RecommendConfig(epochs=1)
SCRIPT = Path(sys.executable).parent / 'c2crs_run'


def test_console_script_help():
    out = subprocess.run([SCRIPT, '--help'], capture_output=True, text=True, check=True).stdout
    for flag in ('--dataset', '--out', '--seed', '--coarse_epochs', '--rec_epochs', '--no_umap', '--resume'): assert flag in out


def test_console_script_writes_run_folder(tmp_path):
    run = tmp_path / 'run'
    subprocess.run([SCRIPT, '--out', run, '--n_dialogs', '300', '--coarse_epochs', '1', '--fine_epochs', '1', '--rec_epochs', '1',
                    '--gen_epochs', '10'],
                   check=True, capture_output=True)
    assert {p.name for p in run.iterdir()} >= {'config.json', 'stats.json', 'metrics.json', 'data_overview.png',
                                               'alignment_umap.png', 'alignment_cosines.png', 'checkpoints'}
    stats = json.loads((run / 'stats.json').read_text())
    assert sum(s['dialogs'] for s in stats['splits'].values()) == 300
    for png in run.glob('*.png'): assert png.stat().st_size > 10_000
    metrics = json.loads((run / 'metrics.json').read_text())
    assert set(metrics['pretrain']['alignment']) == {'random', 'coarse', 'fine'}
    assert set(metrics['recommend']) == {'popularity', 'kbrd', 'c2crs'} and 0 <= metrics['recommend']['c2crs']['R@50'] <= 1
    ckpt = torch.load(run / 'checkpoints' / 'fine.pt', weights_only=True)
    assert ckpt['stage'] == 'fine' and ckpt['pretrain_config']['coarse_epochs'] == 1
    assert 0 < metrics['generate']['Distinct-2'] <= 1 and metrics['generate']['perplexity'] > 1
    kinds = {p.name: torch.load(p, weights_only=True)['kind'] for p in (run / 'checkpoints').iterdir()}
    assert kinds == {'random.pt': 'views', 'coarse.pt': 'views', 'fine.pt': 'views', 'recommender.pt': 'recommender',
                     'generator.pt': 'generator', 'training.pt': 'training'}


def test_same_seed_same_metrics(tmp_path):
    runs = [run_pipeline(out=tmp_path / name, n_dialogs=300, seed=3, pretrain_cfg=QUICK, umap=False, rec_cfg=QUICK_REC,
                         conv_cfg=ConverseConfig(epochs=1, seed=3)) for name in 'ab']
    for m in runs:
        m.pop('wall_seconds'); m['pretrain'].pop('seconds')
        for r in m['recommend'].values(): r.pop('train s', None)
    assert runs[0] == runs[1]
    assert set(runs[0]['view_signal_probe']) == {'conversation only', '+ KG', '+ KG + reviews'}


def test_format_table_aligns_columns():
    lines = format_table({'train': {'dialogs': 1234}, 'dev': {'dialogs': 5}}).splitlines()
    assert len({len(l) for l in lines}) == 1


@pytest.mark.parametrize('script', ['c2crs_run', 'c2crs_bench', 'c2crs_chat', 'c2crs_demo'])
def test_help_does_not_import_torch(script):
    "Every console script answers `--help` from its flags alone: torch (seconds of CPU) is never imported."
    out = subprocess.run([sys.executable, '-X', 'importtime', SCRIPT.parent / script, '--help'], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and '--' in out.stdout, out.stderr[-2000:]
    imported = {line.rsplit('|', 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith('import time:')}
    assert 'c2crs.commands' in imported and not imported & {'torch', 'torch_geometric', 'pandas'}

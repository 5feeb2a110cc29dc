"The main job: the console script and the run folder it writes."
import json, subprocess, sys
from pathlib import Path

from c2crs.cli import c2crs_run, format_table, run_pipeline


def test_console_script_help():
    out = subprocess.run([Path(sys.executable).parent / 'c2crs_run', '--help'], capture_output=True, text=True, check=True).stdout
    assert '--dataset' in out and '--out' in out and '--seed' in out


def test_console_script_writes_run_folder(tmp_path):
    subprocess.run([Path(sys.executable).parent / 'c2crs_run', '--out', tmp_path / 'run', '--n_dialogs', '300'],
                   check=True, capture_output=True)
    run = tmp_path / 'run'
    assert {p.name for p in run.iterdir()} >= {'config.json', 'stats.json', 'metrics.json', 'data_overview.png'}
    stats = json.loads((run / 'stats.json').read_text())
    assert sum(s['dialogs'] for s in stats['splits'].values()) == 300
    assert (run / 'data_overview.png').stat().st_size > 10_000


def test_same_seed_same_metrics(tmp_path):
    one = run_pipeline(out=tmp_path / 'a', n_dialogs=400, seed=3)
    two = run_pipeline(out=tmp_path / 'b', n_dialogs=400, seed=3)
    one.pop('wall_seconds'); two.pop('wall_seconds')
    assert one == two
    assert set(one['view_signal_probe']) == {'conversation only', '+ KG', '+ KG + reviews'}


def test_format_table_aligns_columns():
    lines = format_table({'train': {'dialogs': 1234}, 'dev': {'dialogs': 5}}).splitlines()
    assert len({len(l) for l in lines}) == 1

"Every dataset through one door: the registry, your own folder, INSPIRED, and refusals before anything is written."
import json, subprocess, sys
from pathlib import Path

import pytest

from c2crs.core import DataError
from c2crs.data import dataset_stats
from c2crs.redial import DATASETS, dataset_problem, load_dataset, load_folder

SCRIPT = Path(sys.executable).parent / 'c2crs_run'
TINY = Path(__file__).parent / 'fixtures' / 'tiny_crs'
QUICK = ['--coarse_epochs', '1', '--fine_epochs', '1', '--rec_epochs', '2', '--gen_epochs', '1', '--no_umap']


def test_registry_names():
    assert DATASETS == ('movieworld', 'redial-small', 'redial-3k', 'inspired')
    assert dataset_problem('movieworld') is None and dataset_problem(f'folder:{TINY}') is None
    assert 'unknown dataset' in dataset_problem('imdb')


def test_tiny_folder_loads_with_a_dev_note():
    notes = []
    ds = load_folder(TINY, log=notes.append)
    assert [len(ds.splits[s]) for s in ('train', 'dev', 'test')] == [47, 5, 103]
    assert notes == [f'{TINY}: no dialogs/dev.jsonl; every tenth training dialog (5) is the dev split']
    stats = dataset_stats(ds)
    assert stats['kg']['items'] == 60 and stats['kg']['items with reviews'] == 60
    assert all(t.movies for d in ds.splits['test'] for t in d.turns if '@' in t.text)   # ReDial-form mentions mapped


def test_folder_errors_name_file_and_record(tmp_path):
    for f in ('kg.tsv', 'items.tsv', 'reviews.jsonl'): (tmp_path / f).write_bytes((TINY / f).read_bytes())
    (tmp_path / 'dialogs').mkdir()
    for f in ('train.jsonl', 'test.jsonl'): (tmp_path / 'dialogs' / f).write_bytes((TINY / 'dialogs' / f).read_bytes())
    (tmp_path / 'items.tsv').write_text((TINY / 'items.tsv').read_text() + 'Brand New Film\t53\n')
    with pytest.raises(DataError, match=r"items.tsv: item 'Brand New Film': movie id 53 is used twice"): load_folder(tmp_path)
    (tmp_path / 'items.tsv').write_bytes((TINY / 'items.tsv').read_bytes())
    lines = (TINY / 'dialogs' / 'train.jsonl').read_text().splitlines()
    (tmp_path / 'dialogs' / 'train.jsonl').write_text('\n'.join(lines[:3] + ['[{"text": 1, "role": "SEEKER"}]']) + '\n')
    with pytest.raises(DataError, match=r"train.jsonl: line 4, turn 0: expected a turn with a string 'text'"): load_folder(tmp_path)


def test_unknown_dataset_is_refused_before_anything_is_written(tmp_path):
    run = tmp_path / 'run'
    for bad, says in (('inspird', "unknown dataset 'inspird'"), (f'folder:{tmp_path / "none"}', 'not found')):
        r = subprocess.run([SCRIPT, '--dataset', bad, '--out', run], capture_output=True, text=True)
        assert r.returncode != 0 and says in r.stderr and 'Traceback' not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not run.exists()


def test_own_folder_runs_end_to_end(tmp_path):
    run = tmp_path / 'run'
    subprocess.run([SCRIPT, '--dataset', f'folder:{TINY}', '--out', run, *QUICK], check=True, capture_output=True)
    assert json.loads((run / 'config.json').read_text())['dataset'] == f'folder:{TINY.resolve()}'
    metrics = json.loads((run / 'metrics.json').read_text())
    assert metrics['dataset'] == 'tiny_crs' and 0 <= metrics['recommend']['c2crs']['R@50'] <= 1


def test_inspired_runs_end_to_end(tmp_path, redial_dir):
    """INSPIRED through the main job: the whole dataset loads, a slice of it (to bound CI time) runs every
    stage. `c2crs_run --dataset inspired` takes this path after `open_dataset`."""
    if not (redial_dir.parent / 'inspired').is_dir(): pytest.skip('../shared/data/inspired is missing')
    from dataclasses import replace
    from c2crs.cli import open_dataset, run_pipeline
    from c2crs.converse import ConverseConfig
    from c2crs.pretrain import PretrainConfig
    from c2crs.recommend import RecommendConfig
    ds = open_dataset('inspired')
    assert [len(ds.splits[s]) for s in ('train', 'dev', 'test')] == [721, 80, 99]
    part = replace(ds, splits={'train': ds.splits['train'][:60], 'dev': ds.splits['dev'][:10], 'test': ds.splits['test'][:10]})
    metrics = run_pipeline('inspired', tmp_path / 'run', pretrain_cfg=PretrainConfig(coarse_epochs=1, fine_epochs=1), umap=False,
                           rec_cfg=RecommendConfig(epochs=1), conv_cfg=ConverseConfig(epochs=1), data=part)
    assert metrics['dataset'] == 'inspired' and metrics['stats']['splits']['test']['dialogs'] == 10
    assert set(metrics['recommend']) == {'popularity', 'kbrd', 'c2crs'} and 0 <= metrics['generate']['Distinct-2'] <= 1


def test_descriptions_are_a_fourth_view_end_to_end(tmp_path):
    "A folder with descriptions.jsonl: loaded, saved back, pre-trained as a fourth view, explained by the demo."
    import shutil
    from c2crs.demo import CRSAgent
    from c2crs.redial import save_folder
    folder = tmp_path / 'described'
    shutil.copytree(TINY, folder)
    items = [line.split('\t')[0] for line in (TINY / 'items.tsv').read_text().splitlines()]
    rows = [{'item': x, 'sentences': [f'{x} is a film about a long journey.', 'It ends well.']} for x in items[::2]]
    (folder / 'descriptions.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    ds = load_folder(folder, log=lambda _: None)
    assert len(ds.descriptions) == len(rows) and dataset_stats(ds)['kg']['items with descriptions'] == len(rows)
    assert load_folder(save_folder(ds, tmp_path / 'again'), log=lambda _: None).descriptions == ds.descriptions
    (folder / 'descriptions.jsonl').write_text('{"item": "nobody", "sentences": ["x"]}\n')
    with pytest.raises(DataError, match="descriptions.jsonl: line 1: 'nobody' is not in items.tsv"): load_folder(folder)
    (folder / 'descriptions.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    run = tmp_path / 'run'
    subprocess.run([SCRIPT, '--dataset', f'folder:{folder}', '--out', run, *QUICK], check=True, capture_output=True)
    history = json.loads((run / 'metrics.json').read_text())['pretrain']['history']
    assert 'catalogue description' in history[-1] and history[-1]['catalogue description'] > 0
    agent = CRSAgent.from_run(run, k=5)
    assert 'description' in agent.views['fine'].names
    turns = next(d.turns[:i + 1] for d in agent.enc.ds.splits['test'] for i, t in enumerate(d.turns)
                 if set(t.movies) & ds.descriptions.keys())
    a = agent.answer(turns, stage='fine')
    assert a.description_attention and abs(sum(r['weight'] for r in a.description_attention) - 1) < 1e-4


def test_learning_curve_subsets(tmp_path, redial_dir):
    "NAME@N keeps the first N training dialogs and the same dev and test; too many is refused in one line."
    small, part = load_dataset('redial-small'), load_dataset('redial-3k@1700')
    assert part.name == 'redial-3k@1700' and len(part.splits['train']) == 1700
    assert [d.id for d in part.splits['train'][:811]] == [d.id for d in small.splits['train']]
    assert all([d.id for d in part.splits[s]] == [d.id for d in small.splits[s]] for s in ('dev', 'test'))
    run = tmp_path / 'run'
    r = subprocess.run([SCRIPT, '--dataset', 'redial-small@5000', '--out', run], capture_output=True, text=True)
    last = r.stderr.strip().splitlines()[-1]       # after the load's own anomaly warning
    assert r.returncode != 0 and 'has 811 training dialogs, not 5000' in last and not run.exists()
    assert 'Traceback' not in r.stderr

"The benchmark command in its CI-sized form: every system and ablation runs and lands in the tables."
import json, subprocess, sys
from pathlib import Path

from c2crs.bench import ABLATIONS, BASELINES, GENERATORS

SCRIPT = Path(sys.executable).parent / 'c2crs_bench'


def test_bench_help():
    out = subprocess.run([SCRIPT, '--help'], capture_output=True, text=True, check=True).stdout
    for flag in ('--quick', '--datasets', '--seeds', '--systems', '--out', '--merge', '--jobs'): assert flag in out


def test_quick_bench_writes_tables(tmp_path):
    subprocess.run([SCRIPT, '--quick', '--out', tmp_path], check=True, capture_output=True, text=True)
    runs = json.loads((tmp_path / 'bench.json').read_text())['runs']
    assert {(r['task'], r['system']) for r in runs} == ({('recommend', s) for s in BASELINES + ABLATIONS}
                                                       | {('generate', g) for g in GENERATORS})
    for r in runs:
        assert r['seconds'] >= 0 and r['peak GiB'] > 0
        if r['task'] == 'recommend': assert 0 <= r['R@1'] <= r['R@10'] <= r['R@50'] <= 1
        else: assert 0 < r['Distinct-2'] <= 1 and r['reply length'] > 0
    report = (tmp_path / 'bench.md').read_text()
    for heading in ('## movieworld', '### Ablations (Table 4)', '### Conversation', '### Targets'): assert heading in report
    assert '| reply length |' in report          # beside Distinct-n, which it qualifies
    for name in BASELINES + ABLATIONS: assert f'| {name} |' in report
    print(report)   # shown with -s: the CI-sized tables


def test_plot_view_row_on_a_folder_with_descriptions(tmp_path):
    "'+ plot view' is run only when named, pre-trains four views and gets its own table."
    import shutil
    tiny = Path(__file__).parent / 'fixtures' / 'tiny_crs'
    folder = tmp_path / 'described'
    shutil.copytree(tiny, folder)
    items = [line.split('\t')[0] for line in (tiny / 'items.tsv').read_text().splitlines()]
    (folder / 'descriptions.jsonl').write_text(''.join(json.dumps({'item': x, 'sentences': [f'{x} is a long film.']}) + '\n'
                                                       for x in items))
    out = tmp_path / 'bench'
    subprocess.run([SCRIPT, '--quick', '--datasets', f'folder:{folder}', '--systems', 'kbrd,c2crs,+ plot view',
                    '--no_generate', '--out', out], check=True, capture_output=True, text=True)
    runs = json.loads((out / 'bench.json').read_text())['runs']
    assert sorted(r['system'] for r in runs) == ['+ plot view', 'c2crs', 'kbrd']
    assert '### Beyond the paper: a fourth view' in (out / 'bench.md').read_text()

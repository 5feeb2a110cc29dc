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
        else: assert 0 < r['Distinct-2'] <= 1
    report = (tmp_path / 'bench.md').read_text()
    for heading in ('## movieworld', '### Ablations (Table 4)', '### Conversation', '### Targets'): assert heading in report
    for name in BASELINES + ABLATIONS: assert f'| {name} |' in report
    print(report)   # shown with -s: the CI-sized tables

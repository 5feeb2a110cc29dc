#!/usr/bin/env python
"""Pre-training benchmark: wall time, peak memory and held-out alignment per stage, per dataset.

    .venv/bin/python benchmarks/pretrain.py                  # MovieWorld and ReDial-small (if ../shared/data exists)
    .venv/bin/python benchmarks/pretrain.py --datasets movieworld

Each dataset runs in its own process, so its peak resident memory is its own, with the schedule the
benchmark gives it (`BenchConfig.schedules`: the official 13 + 12 epochs on MovieWorld, 3 + 2 on ReDial).
Prints a markdown table and writes benchmarks/results/pretrain.json. Targets (issue 4): MovieWorld both
stages <= 60 s; ReDial-small <= 600 s and <= 4 GiB peak, on 2 CPU cores.
"""
import argparse, json, resource, subprocess, sys, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
METRICS = ['conversation-kg R@1', 'conversation-review R@1', 'kg-review R@1', 'conversation-kg R@10',
           'word-entity R@1', 'conversation-kg alignment', 'word-entity alignment']


def run_one(name: str, seed: int) -> dict:
    "Load, encode and pre-train one dataset; report times, peak memory and metrics."
    warnings.simplefilter('ignore')
    from c2crs.redial import load_dataset
    from c2crs.data import encode_dataset
    from c2crs.pretrain import pretrain
    from c2crs.bench import BenchConfig
    start = time.perf_counter()
    enc = encode_dataset(load_dataset(name, seed))
    loaded = time.perf_counter() - start
    cfg = BenchConfig().pretrain_for(name, seed)
    _, report = pretrain(enc, cfg=cfg)
    return {'dataset': name, 'epochs': f'{cfg.coarse_epochs} + {cfg.fine_epochs}', 'load+encode s': round(loaded, 1), 'coarse s': report.seconds['coarse'],
            'fine s': report.seconds['fine'], 'total s': round(time.perf_counter() - start, 1),
            'peak GiB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            'train contexts': len(enc.examples['recommend', 'train']), 'metrics': report.metrics}


def markdown(results: list[dict]) -> str:
    "Two markdown tables: cost per dataset, and metrics by stage."
    from c2crs.core import markdown_table
    cost = ['train contexts', 'epochs', 'load+encode s', 'coarse s', 'fine s', 'total s', 'peak GiB']
    stages = {f"{r['dataset']}, {s}": {m: r['metrics'][s][m] for m in METRICS} for r in results for s in ('random', 'coarse', 'fine')}
    return markdown_table({r['dataset']: {c: r[c] for c in cost} for r in results}, 'dataset') + '\n\n' + \
           markdown_table(stages, 'held-out, after stage')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--datasets', nargs='+', default=['movieworld', 'redial-small'])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--one', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one: return print(json.dumps(run_one(args.one, args.seed)))
    from c2crs.core import save_json, shared_data_dir
    results = []
    for name in args.datasets:
        if name == 'redial-small' and shared_data_dir() is None:
            print('skipping redial-small: ../shared/data is missing'); continue
        out = subprocess.run([sys.executable, __file__, '--one', name, '--seed', str(args.seed)],
                             capture_output=True, text=True, check=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{name}: {results[-1]['total s']} s", flush=True)
    print(markdown(results))
    save_json(results, HERE / 'results' / 'pretrain.json')


if __name__ == '__main__': main()

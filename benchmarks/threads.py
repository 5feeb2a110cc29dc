#!/usr/bin/env python
"""What the number of CPU threads does to a benchmark run: the same seed at 1 and 2 threads.

    .venv/bin/python benchmarks/threads.py               # MovieWorld, kbrd and c2crs, 3 seeds
    .venv/bin/python benchmarks/threads.py --systems c2crs --seeds 0

Each (system, seed) is made as `c2crs_bench` makes it, once per thread count, in folders
runs/threads/<n> (rerunning skips what is there, so an interrupted run resumes). A different thread
count sums floats in another order; the script shows what that does to each system's test metrics,
and, for the first seed, to C2-CRS's pre-training losses epoch by epoch.
Writes benchmarks/results/threads.json (one row per run, one curve per thread count) and prints a
markdown table.
"""
import argparse, json, warnings
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
METRICS = ('R@1', 'R@10', 'R@50')


def pretrain_losses(dataset: str, seed: int) -> list[dict]:
    "The benchmark's C2-CRS pre-training of `dataset` at `seed`: its losses after every epoch."
    from c2crs.bench import BenchConfig
    from c2crs.data import encode_dataset
    from c2crs.learner import quiet
    from c2crs.pretrain import pretrain
    from c2crs.redial import load_dataset
    cfg = BenchConfig()
    enc = encode_dataset(load_dataset(dataset, 0, cfg.n_dialogs))
    with quiet(): _, report = pretrain(enc, cfg.encoder, cfg.pretrain_for(dataset, seed))
    return report.history


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dataset', default='movieworld')
    ap.add_argument('--systems', default='kbrd,c2crs')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    args = ap.parse_args()
    import torch
    warnings.simplefilter('ignore')
    from c2crs.bench import bench_config, run_bench
    from c2crs.core import markdown_table, save_json
    cfg = replace(bench_config(False, args.dataset, None, args.systems, False),
                  seeds=tuple(args.seeds))
    path = HERE / 'results' / 'threads.json'
    curve_of = {'dataset': args.dataset, 'seed': args.seeds[0]}
    saved = json.loads(path.read_text()) if path.exists() else {}
    curves = saved['curves'] if saved.get('curve of') == curve_of else {}   # made for these, reused
    rows = []
    for n in args.threads:
        torch.set_num_threads(n)
        for r in run_bench(cfg, HERE.parent / 'runs' / 'threads' / str(n)):
            rows.append({'threads': n} | {k: r[k] for k in ('dataset', 'system', 'seed', *METRICS)})
        if str(n) not in curves: curves[str(n)] = pretrain_losses(args.dataset, args.seeds[0])
        save_json({'rows': rows, 'curve of': curve_of, 'curves': curves}, path)
    table = {f"{r['system']} seed {r['seed']} ({r['threads']} thread{'s' * (r['threads'] > 1)})":
             {k: f'{r[k]:.4f}' for k in METRICS} for r in rows}
    print(markdown_table(table, f'{args.dataset} (test)'))


if __name__ == '__main__': main()

#!/usr/bin/env python
"""What each pre-training change does, measured on dev only: alignment per epoch (train vs dev) and recommendation.

    .venv/bin/python benchmarks/pretrain_changes.py --dataset movieworld
    .venv/bin/python benchmarks/pretrain_changes.py --dataset redial-small --seeds 0   # about an hour on one core
    .venv/bin/python benchmarks/pretrain_changes.py --dataset redial-small --seeds 0 --coarse 13 --fine 12 \
        --variants '+ catalogue entity-review pairs'      # the official schedule: its own results file

Variants form a ladder from the old defaults to the new ones, one change at a time, plus the new defaults
without the small initialisation and KBRD (no pre-training) beside them. Every variant pre-trains on the
training dialogs, records cross-view alignment on training and dev dialogs after every epoch, then
fine-tunes the recommender with early stopping on dev and reports its best dev epoch. The test split is never
touched. Results go to benchmarks/results/pretrain_changes-<dataset>.json after every run (rerunning skips
what is there, so an interrupted run resumes) and a markdown table is printed.
"""
import argparse, json, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = {  # name: (entity_init_std, mask_false_negatives, catalogue); None: KBRD, no pre-training
    'old defaults (N(0, 1) init)': (1.0, False, False),
    '+ small entity init': (0.01, False, False),
    '+ false negatives masked': (0.01, True, False),
    '+ catalogue entity-review pairs': (0.01, True, True),
    'new defaults, N(0, 1) init': (1.0, True, True),
    'kbrd (no pre-training)': None,
}
CURVE = ['conversation-kg R@1', 'conversation-review R@1', 'kg-review R@1', 'word-entity R@1']


def run_variant(name, enc, seed, coarse, fine):
    from c2crs.encoders import EncoderConfig
    from c2crs.pretrain import PretrainConfig, pretrain
    from c2crs.recommend import RecommendConfig, build_model, fit
    from c2crs.core import set_seed
    rcfg = RecommendConfig(epochs=50, batch_size=256, min_epochs=10, seed=seed)
    start, row, views = time.perf_counter(), {'variant': name, 'seed': seed}, None
    if VARIANTS[name] is None: ecfg = EncoderConfig()
    else:
        std, mask, catalogue = VARIANTS[name]
        ecfg = EncoderConfig(entity_init_std=std)
        cfg = PretrainConfig(coarse_epochs=coarse, fine_epochs=fine, mask_false_negatives=mask, catalogue=catalogue, seed=seed)
        views, report = pretrain(enc, ecfg, cfg, eval_split='dev', curve=('train', 'dev'))
        row['curve'] = [{k: r[k] for k in ['stage', 'epoch', 'split', *CURVE]} for r in report.curve]
        row['dev alignment'] = {k: report.metrics['fine'][k] for k in CURVE}
        if hasattr(enc.ds, 'moods'):
            from c2crs.movieworld import mood_purity
            states = views.views['kg'].encoder.entity_states()[enc.ds.kg.item_ids].detach()
            row['mood purity'] = round(mood_purity(states, enc.ds.moods), 3)
    set_seed(seed)
    model = build_model('kbrd' if views is None else 'c2crs', enc, rcfg, ecfg, views)
    history, _ = fit(model, enc, rcfg)
    best = max(history, key=lambda h: h['dev R@1'] + h['dev R@50'])
    return row | {k: best[k] for k in ('dev R@1', 'dev R@10', 'dev R@50')} | {
        'best epoch': best['epoch'], 'seconds': round(time.perf_counter() - start, 1)}


def markdown(rows):
    from c2crs.core import markdown_table
    import statistics
    table = {}
    for name in VARIANTS:
        mine = [r for r in rows if r['variant'] == name]
        if not mine: continue
        cell = lambda f: f"{statistics.mean(map(f, mine)):.3f}" + (f" ± {statistics.stdev(map(f, mine)):.3f}" if len(mine) > 1 else '')
        table[name] = {'seeds': len(mine), **{k: cell(lambda r: r[k]) for k in ('dev R@10', 'dev R@50')},
                       **{f'dev {k}': cell(lambda r: r['dev alignment'][k]) if 'dev alignment' in mine[0] else '–'
                          for k in CURVE[:3]}}
        if any('mood purity' in r for r in rows):
            table[name]['mood purity'] = cell(lambda r: r['mood purity']) if 'mood purity' in mine[0] else '–'
    return markdown_table(table, 'variant (dev split)')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dataset', default='movieworld')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--coarse', type=int, default=13)
    ap.add_argument('--fine', type=int, default=12)
    ap.add_argument('--variants', nargs='+', default=list(VARIANTS))
    ap.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: torch default)')
    args = ap.parse_args()
    import torch
    if args.threads: torch.set_num_threads(args.threads)
    warnings.simplefilter('ignore')
    from c2crs.core import save_json
    from c2crs.data import encode_dataset
    from c2crs.redial import load_dataset
    path = HERE / 'results' / f'pretrain_changes-{args.dataset}.json'
    if path.exists() and json.loads(path.read_text())['schedule'] != [args.coarse, args.fine]:   # another schedule
        path = path.with_name(f'pretrain_changes-{args.dataset}-{args.coarse}+{args.fine}.json')
    saved = json.loads(path.read_text()) if path.exists() else {'schedule': [args.coarse, args.fine], 'runs': []}
    for seed in args.seeds:
        enc = None
        for name in args.variants:
            if any((r['variant'], r['seed']) == (name, seed) for r in saved['runs']): continue
            enc = enc or encode_dataset(load_dataset(args.dataset, seed))
            saved['runs'].append(run_variant(name, enc, seed, args.coarse, args.fine))
            save_json(saved, path)
            r = saved['runs'][-1]
            print(f"{args.dataset} seed {seed} {name}: dev R@10 {r['dev R@10']:.3f} R@50 {r['dev R@50']:.3f} "
                  f"({r['seconds']} s)", flush=True)
    print(markdown(saved['runs']))


if __name__ == '__main__': main()

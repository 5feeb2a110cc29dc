#!/usr/bin/env python
"""Which entities for INSPIRED: UniCRS's `entity_link` or our linker? Measured on dev only.

    .venv/bin/python benchmarks/inspired_links.py            # about 15 minutes on one core

For each linking and seed, KBRD (it reads nothing but the context's entities and items) is trained on
INSPIRED's training dialogs with early stopping on dev (every tenth training dialog); its best dev epoch is
reported. INSPIRED's dev.jsonl, our test split, is never touched. Results go to
benchmarks/results/inspired_links.json after every run (rerunning skips what is there).
"""
import argparse, json, statistics, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(links: str, seed: int) -> dict:
    from c2crs.bench import BenchConfig, train_recommender
    from c2crs.data import encode_dataset
    from c2crs.redial import load_inspired_dataset
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); enc = encode_dataset(load_inspired_dataset(links=links))
    start = time.perf_counter()
    _, history = train_recommender('kbrd', enc, seed, BenchConfig(), {})
    best = max(history, key=lambda h: h['dev R@1'] + h['dev R@50'])
    return {'links': links, 'seed': seed, 'best epoch': best['epoch'], 'seconds': round(time.perf_counter() - start),
            **{k: best[k] for k in ('dev R@1', 'dev R@10', 'dev R@50')}}


def table(rows: list[dict]) -> str:
    out = ['| entities | dev R@1 | dev R@10 | dev R@50 | seeds |', '|---|---|---|---|---|']
    for links in dict.fromkeys(r['links'] for r in rows):
        mine = [r for r in rows if r['links'] == links]
        cells = [f"{statistics.fmean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0:.3f}"
                 for k in ('dev R@1', 'dev R@10', 'dev R@50') for v in [[r[k] for r in mine]]]
        out.append(f"| {links} | {' | '.join(cells)} | {len(mine)} |")
    return '\n'.join(out)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=3)
    args = ap.parse_args()
    path = HERE / 'results' / 'inspired_links.json'
    rows = json.loads(path.read_text()) if path.exists() else []
    for seed in range(args.seeds):
        for links in ('linker', 'unicrs'):
            if any((r['links'], r['seed']) == (links, seed) for r in rows): continue
            rows.append(run(links, seed)); print(rows[-1], flush=True)
            path.write_text(json.dumps(rows, indent=1) + '\n')
    print(table(rows))

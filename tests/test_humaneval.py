"""The human-evaluation study (chapter 11b): the design, the study file under concurrent writers,
hostile files, the statistics on tables with known answers, and a study made from a MovieWorld run."""

import multiprocessing as mp
import sqlite3
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from c2crs.core import DataError
from c2crs.humaneval import (
    CRITERIA,
    Study,
    agreement,
    assignment,
    contexts_for,
    create_study,
    paired_test,
    ratings_frame,
    reply_order,
    report,
    study_command,
    summary,
    tidy,
)

SYSTEMS = ('transformer', 'c2crs', 'human')


def toy_contexts(n: int, systems=SYSTEMS) -> list[dict]:
    return [
        {
            'dialog': f'd{i}',
            'turns': [['seeker', f'something like movie {i}?']],
            'replies': {s: f'reply {i} of {s}' for s in systems},
        }
        for i in range(n)
    ]


def toy_study(path, n=12, per_rater=4, seed=0) -> Study:
    return Study.create(path, toy_contexts(n), SYSTEMS, per_rater=per_rater, seed=seed)


# ---- the design


@pytest.mark.parametrize('n_contexts,per_rater', [(7, 1), (7, 3), (24, 6), (40, 6), (10, 10)])
@pytest.mark.parametrize('seed', [0, 1])
def test_design_is_balanced_at_every_arrival_and_never_repeats(n_contexts, per_rater, seed):
    coverage = Counter()
    for slot in range(30):
        mine = assignment(slot, n_contexts, per_rater, seed)
        assert len(mine) == per_rater and len(set(mine)) == per_rater  # no context twice
        assert set(mine) <= set(range(n_contexts))
        coverage.update(mine)
        counts = [coverage[c] for c in range(n_contexts)]
        assert max(counts) - min(counts) <= 1, f'unbalanced after {slot + 1} raters: {counts}'
        assert mine == assignment(slot, n_contexts, per_rater, seed)  # seeded
    assert (
        assignment(0, n_contexts, per_rater, seed + 10)
        != assignment(0, n_contexts, per_rater, seed)
        or n_contexts <= 1
        or per_rater == n_contexts
    )


def test_design_sizes_and_refusals():
    n = contexts_for(20, 6, 3)
    counts = Counter(c for s in range(20) for c in assignment(s, n, 6))
    assert n == 40 and set(counts.values()) == {3}
    for bad in (0, 41):
        with pytest.raises(ValueError, match='per_rater'):
            assignment(0, 40, bad)


def test_reply_order_is_a_seeded_permutation_with_every_system_first():
    orders = [reply_order(SYSTEMS, s, c, 3) for s in range(30) for c in range(10)]
    assert all(sorted(o) == sorted(SYSTEMS) for o in orders)
    assert reply_order(SYSTEMS, 2, 5, 3) == reply_order(SYSTEMS, 2, 5, 3)
    firsts = Counter(o[0] for o in orders)
    assert set(firsts) == set(SYSTEMS) and min(firsts.values()) > 60


# ---- the study file


def test_ratings_survive_reopening_and_never_double_count(tmp_path):
    study = toy_study(tmp_path / 's.sqlite')
    assert [study.join(n) for n in ('Ada', 'Bo', '  Ada ')] == [0, 1, 0]
    ctx = study.contexts_of('Ada')
    for score in (0, 1, 2, 2):  # clicked four times
        study.rate('Ada', ctx[0], 'c2crs', 'fluency', score)
    study.skip('Ada', ctx[1])
    study.skip('Ada', ctx[1])
    again = Study(tmp_path / 's.sqlite')  # a reloaded page
    assert again.scores_of('Ada', ctx[0]) == {('c2crs', 'fluency'): 2}
    assert len(ratings_frame(again)) == 1
    assert again.next_context('Ada') == ctx[0] and again.progress('Ada') == (1, 4)
    for system in SYSTEMS:
        for criterion in CRITERIA:
            again.rate('Ada', ctx[0], system, criterion, 1)
    assert again.next_context('Ada') == ctx[2] and again.progress('Ada') == (2, 4)
    turns, shown = again.shown('Ada', ctx[0])
    assert turns == [['seeker', f'something like movie {ctx[0]}?']]
    assert [label for label, _, _ in shown] == ['A', 'B', 'C'] and sorted(
        s for _, s, _ in shown
    ) == sorted(SYSTEMS)


def test_rate_refuses_what_the_design_does_not_allow(tmp_path):
    study = toy_study(tmp_path / 's.sqlite')
    study.join('Ada')
    mine = study.contexts_of('Ada')
    other = next(c for c in range(12) if c not in mine)
    for args, message in [
        ((mine[0], 'c2crs', 'fluency', 3), 'score must be'),
        ((mine[0], 'c2crs', 'fluency', True), 'score must be'),
        ((mine[0], 'c2crs', 'style', 1), 'unknown criterion'),
        ((mine[0], 'gpt', 'fluency', 1), 'unknown system'),
        ((other, 'c2crs', 'fluency', 1), 'not assigned'),
    ]:
        with pytest.raises(ValueError, match=message):
            study.rate('Ada', *args)
    with pytest.raises(KeyError, match='has not joined'):
        study.rate('Nobody', mine[0], 'c2crs', 'fluency', 1)
    with pytest.raises(ValueError, match='needs a name'):
        study.join(' \t ')
    assert ratings_frame(study).empty


def test_create_refuses_to_overwrite_or_to_miss_a_reply(tmp_path):
    toy_study(tmp_path / 's.sqlite')
    with pytest.raises(FileExistsError, match='never overwritten'):
        toy_study(tmp_path / 's.sqlite')
    broken = toy_contexts(5)
    del broken[3]['replies']['human']
    with pytest.raises(ValueError, match=r"context 3 has no reply of \['human'\]"):
        Study.create(tmp_path / 'b.sqlite', broken, SYSTEMS, per_rater=2)
    assert not (tmp_path / 'b.sqlite').exists()


def hostile_files(tmp_path):
    "(file, expected message) pairs: files that must be refused with a DataError naming them."
    garbage = tmp_path / 'garbage.sqlite'
    garbage.write_bytes(b'\x00\xffnot sqlite' * 500)
    empty_db = tmp_path / 'other.sqlite'
    sqlite3.connect(empty_db).execute('CREATE TABLE t (x)').connection.commit()
    cases = [(garbage, 'file: not an SQLite database'), (empty_db, 'meta: not a study file')]
    for name, sql, message in [
        (
            'systems',
            "UPDATE meta SET value = '\"c2crs\"' WHERE key = 'systems'",
            'meta systems: missing or invalid',
        ),
        (
            'per_rater',
            "UPDATE meta SET value = '-1' WHERE key = 'per_rater'",
            'meta per_rater: missing or invalid',
        ),
        ('json', "UPDATE meta SET value = '{oops' WHERE key = 'seed'", 'meta: unreadable setting'),
        (
            'reply',
            "DELETE FROM replies WHERE context = 2 AND system = 'human'",
            "context 2: no reply of ['human']",
        ),
        ('ids', 'UPDATE contexts SET id = 99 WHERE id = 5', 'contexts: 12 contexts numbered'),
    ]:
        path = tmp_path / f'{name}.sqlite'
        toy_study(path).db.close()
        db = sqlite3.connect(path)
        db.execute('PRAGMA foreign_keys=OFF')
        db.execute(sql)
        db.commit()
        db.close()
        cases.append((path, message))
    return cases


def test_hostile_study_files_are_refused_by_name(tmp_path):
    for path, message in hostile_files(tmp_path):
        with pytest.raises(DataError) as e:
            Study(path)
        assert str(path) in str(e.value) and message in str(e.value), str(e.value)
    with pytest.raises(FileNotFoundError, match='no study here'):
        Study(tmp_path / 'missing.sqlite')


def rate_everything(path, name):
    "One rater in its own process: join, then rate every context (changing each score once)."
    study = Study(path)
    study.join(name)
    for c in study.contexts_of(name):
        for s in study.systems:
            for k in CRITERIA:
                study.rate(name, c, s, k, 0)
                study.rate(name, c, s, k, (c + len(s) + len(k)) % 3)
    return name, study.slot(name)


def test_twenty_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / 's.sqlite'
    toy_study(path, n=40, per_rater=6)
    with mp.get_context('spawn').Pool(20) as pool:
        joined = pool.starmap(rate_everything, [(path, f'rater {i}') for i in range(20)])
    assert sorted(slot for _, slot in joined) == list(range(20))  # 20 distinct slots
    ratings = ratings_frame(Study(path))
    assert len(ratings) == 20 * 6 * len(SYSTEMS) * len(CRITERIA)
    assert (
        ratings.score
        == (ratings.context + ratings.system.str.len() + ratings.criterion.str.len()) % 3
    ).all()
    assert set(ratings.groupby('context').rater.nunique()) == {3}


# ---- statistics with known answers

KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def table(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=['rater', 'context', 'system', 'criterion', 'score'])


def test_alpha_matches_krippendorffs_worked_example_and_perfect_agreement():
    ratings = table(
        [
            (f'r{r}', u, 's', 'fluency', v)
            for r, row in enumerate(KRIPPENDORFF_2011)
            for u, v in enumerate(row)
            if v is not None
        ]
    )
    assert agreement(ratings, 'fluency', domain=range(1, 6)) == pytest.approx(0.8154, abs=1e-4)
    same = table(
        [(r, c, s, 'fluency', (c + len(s)) % 3) for r in 'abc' for c in range(4) for s in SYSTEMS]
    )
    assert agreement(same, 'fluency') == 1.0
    lonely = table([('a', 0, 's', 'fluency', 1)])  # nothing rated twice
    flat = table([(r, c, 's', 'fluency', 2) for r in 'ab' for c in range(3)])  # no variation
    assert np.isnan(agreement(lonely, 'fluency')) and np.isnan(agreement(flat, 'fluency'))


def test_alpha_of_raters_who_disagree_systematically_is_negative():
    # two raters, four replies: one always says 0 when the other says 2 and vice versa
    ratings = table(
        [
            (r, c, 's', 'fluency', v)
            for c in range(4)
            for r, v in (('a', 2 * (c % 2)), ('b', 2 - 2 * (c % 2)))
        ]
    )
    assert agreement(ratings, 'fluency') < 0


def test_paired_test_exact_p_values():
    better = table([('r', c, s, 'fluency', v) for c in range(5) for s, v in (('a', 2), ('b', 1))])
    t = paired_test(better, 'a', 'b', 'fluency')
    assert (t['difference'], t['p'], t['contexts'], t['exact']) == (
        1.0,
        0.0625,
        5,
        True,
    )  # 2 of 32 sign patterns
    assert paired_test(better, 'b', 'a', 'fluency')['difference'] == -1.0
    # differences +1, +1, +1, -1 over four contexts: |mean| >= 0.5 in 10 of 16 patterns
    mixed = table(
        [
            ('r', c, s, 'fluency', v)
            for c in range(4)
            for s, v in (('a', 1 + (c < 3)), ('b', 1 + (c == 3)))
        ]
    )
    assert paired_test(mixed, 'a', 'b', 'fluency')['p'] == pytest.approx(10 / 16)
    assert paired_test(better, 'a', 'b', 'informativeness')['contexts'] == 0
    tie = table([('r', c, s, 'fluency', 1) for c in range(6) for s in 'ab'])
    assert paired_test(tie, 'a', 'b', 'fluency')['p'] == 1.0


def test_paired_differences_are_averaged_per_context_first():
    # context 0: two raters, differences +2 and 0 (mean +1); context 1: one rater, difference +1
    rows = [
        ('x', 0, 'a', 'fluency', 2),
        ('x', 0, 'b', 'fluency', 0),
        ('y', 0, 'a', 'fluency', 1),
        ('y', 0, 'b', 'fluency', 1),
        ('x', 1, 'a', 'fluency', 2),
        ('x', 1, 'b', 'fluency', 1),
    ]
    assert paired_test(table(rows), 'a', 'b', 'fluency')['difference'] == 1.0


def test_summary_weighs_contexts_equally_and_brackets_the_mean():
    # context 0 has three ratings (0, 0, 0), context 1 one (2): mean of context means 1, not 0.5
    rows = [(r, 0, 'a', 'fluency', 0) for r in 'xyz'] + [('x', 1, 'a', 'fluency', 2)]
    s = summary(table(rows)).loc[('a', 'fluency')]
    assert (s['mean'], s['ratings'], s['contexts'], s['raters']) == (1.0, 4, 2, 3)
    rng = np.random.default_rng(0)
    noisy = table([(f'r{c % 5}', c, 'a', 'fluency', int(rng.integers(0, 3))) for c in range(60)])
    s = summary(noisy).loc[('a', 'fluency')]
    assert s['low'] < s['mean'] < s['high'] and 0.2 < s['high'] - s['low'] < 0.7
    assert summary(noisy, seed=1).loc[('a', 'fluency'), 'mean'] == s['mean']


# ---- from a run folder, and the command


@pytest.fixture(scope='module')
def movieworld_study(tmp_path_factory):
    from test_demo import tiny_run

    run = tiny_run(tmp_path_factory.mktemp('study') / 'run')
    return run, create_study(
        run, run.parent / 'study.sqlite', n_contexts=8, per_rater=3, transformer_epochs=1
    )


def test_study_from_a_movieworld_run(movieworld_study):
    from c2crs.demo import CRSAgent
    from c2crs.data import render, tokenize

    run, study = movieworld_study
    assert (study.n_contexts, study.systems, study.per_rater) == (8, list(SYSTEMS), 3)
    assert study.meta['dataset'] == 'MovieWorld' and study.meta['source'] == str(run.resolve())
    agent = CRSAgent.from_run(run)
    dialogs = {d.id: d for d in agent.enc.ds.splits['test']}
    for i in range(8):
        c = study.context(i)
        d = dialogs[c['dialog']]
        said = [
            tidy(render(tokenize(t.text), agent.kg)) for t in d.turns if t.role == 'recommender'
        ]
        assert c['replies']['human'] in said and 1 <= len(c['turns']) <= 6
        assert all(c['replies'][s].strip() and '<item>' not in c['replies'][s] for s in SYSTEMS)
    assert (run / 'checkpoints' / 'transformer.pt').exists()


def test_create_command_reuses_the_trained_transformer(movieworld_study, tmp_path, capsys):
    run, study = movieworld_study
    stamp = (run / 'checkpoints' / 'transformer.pt').stat().st_mtime_ns
    path = tmp_path / 'again.sqlite'
    study_command('create', path, run, 8, 3, 0, 0, False, False, None, None)
    assert f'{path}: 8 contexts × 3 replies' in capsys.readouterr().out
    again = Study(path)
    assert (run / 'checkpoints' / 'transformer.pt').stat().st_mtime_ns == stamp
    assert [again.context(i)['replies'] for i in range(8)] == [
        study.context(i)['replies'] for i in range(8)
    ]


def test_results_command_prints_the_table_and_writes_csv_and_figure(tmp_path, capsys):
    study = toy_study(tmp_path / 's.sqlite', n=12, per_rater=4)
    for r in range(6):
        name = f'r{r}'
        study.join(name)
        for c in study.contexts_of(name):
            for s, base in zip(SYSTEMS, (0, 1, 2)):
                for k in CRITERIA:
                    study.rate(name, c, s, k, base)
    study_command(
        'results',
        tmp_path / 's.sqlite',
        None,
        0,
        0,
        0,
        0,
        False,
        True,
        tmp_path / 'r.csv',
        tmp_path / 'r.png',
    )
    out = capsys.readouterr().out
    assert 's.sqlite: 144 ratings by 6 raters of 12 contexts' in out
    lines = {}
    for l in out.splitlines()[2:5]:
        lines[l.split()[0]] = l.split()[1:]
    assert lines['human'] == ['2.00', '[2.00,', '2.00]'] * 2 and lines['transformer'][:3] == [
        '0.00',
        '[0.00,',
        '0.00]',
    ]
    assert (
        'transformer - human, fluency: -2.00 (p = 0.0005, 12 contexts)' in out
    )  # 2 / 2**12, exact
    csv = pd.read_csv(tmp_path / 'r.csv')
    assert len(csv) == 144 and list(csv.columns[:5]) == [
        'rater',
        'slot',
        'context',
        'dialog',
        'system',
    ]
    assert (tmp_path / 'r.png').stat().st_size > 10_000
    with pytest.raises(SystemExit, match='unknown action'):
        study_command('rate', tmp_path / 's.sqlite', *[None] * 9)
    with pytest.raises(SystemExit, match='no study here'):
        study_command('results', tmp_path / 'none.sqlite', *[None] * 9)
    assert report(toy_study(tmp_path / 'empty.sqlite')).endswith('no ratings yet')

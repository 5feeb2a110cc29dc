import warnings
from pathlib import Path

import pytest

from c2crs.data import dataset_stats, split_stats
from c2crs.redial import LoadReport, load_inspired, load_pickle, load_redial_small

FIXTURE = Path(__file__).parent / 'fixtures' / 'inspired_sample.jsonl'


@pytest.fixture(scope='module')
def redial(redial_dir):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return load_redial_small(redial_dir)


def test_redial_small_matches_readme(redial):
    stats = dataset_stats(redial)['splits']
    valid = split_stats(redial.dialogs('train', 'dev'))
    assert [len(redial.splits[s]) for s in ('train', 'dev', 'test')] == [811, 90, 1342]
    assert (valid['turns'], stats['test']['turns']) == (16397, 23952)
    assert (valid['recommender mentions'], stats['test']['recommender mentions']) == (3038, 4049)
    assert (valid['distinct mentioned items'], stats['test']['distinct mentioned items']) == (1368, 1453)
    assert [stats[s]['rec. examples'] for s in ('train', 'dev', 'test')] == [2701, 333, 4044]
    assert stats['test']['new targets'] == 3628
    raw = {Path(k).name: v for k, v in redial.load_report.counts.items()}
    assert (raw['valid_data.jsonl']['recommender mentions'], raw['test_data.jsonl']['recommender mentions']) == (3582, 5006)
    assert (raw['valid_data.jsonl']['recommender mentions mapped'], raw['test_data.jsonl']['recommender mentions mapped']) == (3038, 4049)


def test_redial_small_split_protocol(redial):
    ids = sorted([int(d.id) for d in redial.dialogs('train', 'dev')])
    assert [int(d.id) for d in redial.splits['dev']] == ids[9::10]
    assert not {d.id for d in redial.dialogs('train', 'dev')} & {d.id for d in redial.splits['test']}


def test_redial_small_kg_and_reviews(redial):
    kg = redial.kg
    assert (kg.n_entities, kg.n_edges, kg.n_relations, kg.n_items) == (64362, 165696, 214, 6924)
    items = set(kg.item_ids.tolist())
    assert all(m in items for d in redial.dialogs() for t in d.turns for m in t.movies)
    assert not any(e in items for d in redial.dialogs() for t in d.turns for e in t.entities)
    assert len(redial.reviews) == 2265 and set(redial.reviews) <= items


def test_redial_small_warns_about_anomalies(redial_dir):
    with pytest.warns(UserWarning, match='movie mention without a KG entity'):
        load_redial_small(redial_dir)


def test_inspired_fixture(redial_dir, redial):
    e2i = load_pickle(redial_dir / 'kg' / 'entity2entityId.pkl')
    report = LoadReport()
    dialogs = load_inspired(FIXTURE, e2i, redial.kg.item_ids, report)
    assert [len(d.turns) for d in dialogs] == [4, 3, 3]
    assert [t.role for t in dialogs[0].turns] == ['seeker', 'recommender', 'seeker', 'recommender']
    assert dialogs[0].turns[0].text == 'Hi! I love horror movies like @949.'
    assert (dialogs[0].turns[0].movies, dialogs[0].turns[0].entities) == ([949], [40403])
    assert dialogs[0].turns[3].text == 'Try @62152 with Leonardo DiCaprio, or @2.'
    assert (dialogs[0].turns[3].movies, dialogs[0].turns[3].entities) == ([62152, 2], [14170])
    assert [t.movies for t in dialogs[1].turns] == [[], [9681], [1741]]
    assert dialogs[1].turns[1].entities == [4754, 7903]
    assert dialogs[1].turns[2].text == 'You might like this one from Christopher Nolan.'   # name absent: text kept
    assert (dialogs[2].turns[2].movies, dialogs[2].turns[2].entities) == ([43728], [4449])
    assert dict(report.issues.counts) == {'movie URI not a KG item': 1, 'entity URI not in the KG': 1,
                                          'movie name not in the text (movie kept)': 1}

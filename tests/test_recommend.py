"Recommendation: metrics on hand cases, the ReDial-small reference baselines, training beats popularity, determinism."
import warnings

import pytest
import torch

from c2crs.data import encode_dataset
from c2crs.encoders import EncoderConfig
from c2crs.movieworld import MovieWorldConfig, generate_movieworld
from c2crs.recommend import (RecommendConfig, evaluate, rank_metrics, recommend, run_system, split_metrics,
                             target_ranks, train_system)
from c2crs.data import collate


def test_ranks_split_ties_and_put_nan_last():
    s = torch.tensor([[.9, .1, .5], [.2, .2, .7]])
    assert target_ranks(s, torch.tensor([1, 0])).tolist() == [2, 1.5]
    nan = float('nan')
    s = torch.tensor([[nan, .1, nan], [nan, nan, nan], [.3, .3, .3]])
    assert target_ranks(s, torch.tensor([1, 0, 2])).tolist() == [0, 2, 1]


def test_constant_or_nan_scores_earn_no_recall():
    """The hand case of the issue: a scorer that cannot tell items apart gets chance, not R@1 = 1."""
    for scores in (torch.zeros(10, 200), torch.full((10, 200), float('nan'))):
        m = rank_metrics(target_ranks(scores, torch.arange(10)))
        assert m['R@1'] == 0 and m['R@10'] == 0 and m['R@50'] == 0


def test_rank_metrics_hand_case():
    m = rank_metrics(torch.tensor([0, 1, 3, 20]), ks=(1, 2, 10))
    assert m['R@1'] == 0.25 and m['R@2'] == 0.5 and m['R@10'] == 0.75
    assert m['NDCG@2'] == pytest.approx((1 + 1 / torch.log2(torch.tensor(3.)).item()) / 4)
    assert m['MRR@10'] == pytest.approx((1 + 1 / 2 + 1 / 4) / 4)


def test_split_metrics_new_targets():
    m = split_metrics(torch.tensor([0, 5, 60]), torch.tensor([False, True, True]), ks=(1, 10))
    assert m['R@1'] == pytest.approx(1 / 3) and m['new R@1'] == 0 and m['new R@10'] == 0.5
    assert (m['n'], m['n new']) == (3, 2)


@pytest.fixture(scope='module')
def small_mw():
    return encode_dataset(generate_movieworld(MovieWorldConfig(n_dialogs=600)))


SMALL = EncoderConfig(kg_dim=32, word_dim=32, ffn_dim=64, proj_dim=32)


def test_kbrd_learns_its_training_pairs_and_recommends_distinct_items(small_mw):
    cfg = RecommendConfig(epochs=4, patience=4)
    pop, _ = train_system('popularity', small_mw)
    model, info = train_system('kbrd', small_mw, 0, cfg, SMALL)
    train, dev = small_mw.examples['recommend', 'train'], small_mw.examples['recommend', 'dev']
    args = (small_mw.ds.kg, small_mw.reviews)
    assert evaluate(model, train, *args)['R@10'] > evaluate(pop, train, *args)['R@10'] + 0.1   # it fits what it saw
    ids, scores = recommend(model, collate(dev[:5], *args), k=10)
    assert ids.shape == (5, 10) and all(len(set(r.tolist())) == 10 for r in ids)
    assert (scores[:, :-1] >= scores[:, 1:]).all()


def test_short_run_is_deterministic(small_mw):
    cfg = RecommendConfig(epochs=2, patience=2)
    a = run_system('kbrd', small_mw, 0, split='dev', cfg=cfg, enc_cfg=SMALL)
    b = run_system('kbrd', small_mw, 0, split='dev', cfg=cfg, enc_cfg=SMALL)
    drop = lambda r: {k: v for k, v in r.items() if k != 'train s'} | {'history': [{**h, 'seconds': 0} for h in r['history']]}
    assert drop(a) == drop(b)


REFERENCE = {'popularity': (.012, .060, .163, .012, .061, .163), 'repeat': (.048, .153, .247, .004, .056, .161)}


@pytest.mark.parametrize('name', ['popularity', 'repeat'])
def test_redial_small_reference_baselines(redial_dir, name):
    from c2crs.redial import load_redial_small
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); enc = encode_dataset(load_redial_small(redial_dir))
    r = run_system(name, enc)
    assert (r['n'], r['n new']) == (4044, 3628)
    got = tuple(round(r[k], 3) for k in ('R@1', 'R@10', 'R@50', 'new R@1', 'new R@10', 'new R@50'))
    assert got == REFERENCE[name]

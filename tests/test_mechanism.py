"""MovieWorld is falsifiable: pre-trained C2-CRS beats KBRD by a wide margin, and the margin vanishes when the
mechanism is broken (reviews shuffled between movies, or no pre-training). The default world and encoders, the
official 13 + 12 pre-training epochs, one seed; a few minutes on two CPU cores (chapter 10 has three seeds)."""
from dataclasses import replace

import pytest

from c2crs.data import encode_dataset
from c2crs.encoders import EncoderConfig
from c2crs.movieworld import MovieWorldConfig, generate_movieworld, mood_purity, shuffled_reviews
from c2crs.pretrain import PretrainConfig, pretrain
from c2crs.recommend import RecommendConfig, build_model, evaluate, fit

WORLD = MovieWorldConfig()
ENC = EncoderConfig()
REC = RecommendConfig(epochs=20)


def recall_at_10(enc, views) -> float:
    "Test R@10 of the recommender fine-tuned from `views` (None: KBRD, a fresh KG encoder)."
    model = build_model('kbrd' if views is None else 'c2crs', enc, REC, ENC, views)
    fit(model, enc, REC)
    return evaluate(model, enc.examples['recommend', 'test'], enc.ds.kg, enc.reviews)['R@10']


@pytest.fixture(scope='module')
def results():
    ds = generate_movieworld(WORLD)
    enc, broken = encode_dataset(ds), encode_dataset(shuffled_reviews(ds))
    views, _ = pretrain(enc, ENC, PretrainConfig(), eval_split=None)
    purity = mood_purity(views.views['kg'].encoder.entity_states()[ds.kg.item_ids].detach(), ds.moods)
    shuffled, _ = pretrain(broken, ENC, PretrainConfig(), eval_split=None)
    untrained, _ = pretrain(enc, ENC, PretrainConfig(coarse_epochs=0, fine_epochs=0), eval_split=None)
    return {'kbrd': recall_at_10(enc, None), 'c2crs': recall_at_10(enc, views), 'purity': purity,
            'shuffled reviews': recall_at_10(enc, shuffled), 'no pre-training': recall_at_10(enc, untrained)}


def test_pretraining_teaches_the_entity_table_the_moods(results):
    assert results['purity'] > 0.3, results          # chance: about 1/8


def test_c2crs_beats_kbrd_by_a_wide_margin(results):
    assert results['c2crs'] >= 1.5 * results['kbrd'] and results['c2crs'] - results['kbrd'] > 0.04, results


@pytest.mark.parametrize('control', ['shuffled reviews', 'no pre-training'])
def test_the_margin_vanishes_when_the_mechanism_is_broken(results, control):
    gain = results['c2crs'] - results['kbrd']
    assert results[control] - results['kbrd'] < 0.5 * gain, results

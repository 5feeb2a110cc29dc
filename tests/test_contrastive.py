"Tests of c2crs.contrastive: InfoNCE by hand, coarse/fine losses, triples, stages, alignment metrics."
import numpy as np, pytest, torch
from c2crs.core import set_seed
from c2crs.data import batches
from c2crs.encoders import EntityBagView, ViewSet, default_views, params_without_grad
from c2crs.contrastive import (info_nce, pair_losses, coarse_loss, coarse_inputs, fine_loss, fine_units, stage_loss,
                               TripleBuilder, alignment, uniformity, cross_view_recall)

from conftest import TINY as CFG

@pytest.fixture(scope='module')
def data(tiny_world):
    ds, enc = tiny_world
    batch = next(batches(enc.examples['generate', 'train'], ds.kg, enc.reviews, batch_size=12, shuffle=True))
    return ds, enc, batch, TripleBuilder(ds.kg, enc.vocab, enc.reviews)

def test_info_nce_hand_case():
    a, b = torch.tensor([[1., 0.], [0., 1.]]), torch.tensor([[1., 0.], [1., 1.]])
    S = np.array([[1, 1 / np.sqrt(2)], [0, 1 / np.sqrt(2)]]) / 0.5            # temperature 0.5
    ce = lambda L: -np.mean([L[i, i] - np.log(np.exp(L[i]).sum()) for i in range(2)])
    assert np.isclose(info_nce(a, b, temperature=0.5).item(), (ce(S) + ce(S.T)) / 2, atol=1e-6)

def test_info_nce_falls_when_positives_coincide_and_has_gradients():
    set_seed(0)
    x = torch.randn(10, 6, requires_grad=True)
    assert info_nce(x, x) < info_nce(x, x[torch.randperm(10)])
    info_nce(x, torch.randn(10, 6)).backward()
    assert x.grad.abs().sum() > 0

def test_info_nce_ids_remove_false_negatives():
    y = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    assert info_nce(y, y, ids=torch.tensor([4, 4, 7])).item() < 1e-5
    assert np.isclose(info_nce(y, y).item(), 2 * np.log(2) / 3, atol=1e-4)

def test_coarse_loss_pairs_and_masks():
    set_seed(0)
    v = {k: torch.randn(5, 4) for k in 'cgr'}
    expected = torch.stack([info_nce(v['c'], v['g']), info_nce(v['c'], v['r']), info_nce(v['g'], v['r'])]).mean()
    assert torch.allclose(coarse_loss(v), expected)
    v['x'] = torch.randn(5, 4)
    assert len(pair_losses(v)) == 6
    present = {k: torch.ones(5, dtype=torch.bool) for k in v} | {'g': torch.tensor([1, 1, 1, 0, 0]).bool()}
    assert torch.allclose(pair_losses(v, present)['c', 'g'], info_nce(v['c'][:3], v['g'][:3]))

def test_fine_loss_hand_case():
    units = {n: torch.eye(3)[[0, 1, 2, 0]] for n in ('conversation', 'kg', 'review')}
    present = {n: torch.ones(4, dtype=torch.bool) for n in units}
    e = torch.tensor([0, 1, 2, 0])
    assert fine_loss(units, present, e).item() < 1e-5
    assert fine_loss(units | {'review': units['review'][[1, 2, 0, 1]]}, present, e).item() > 1

def test_triples_and_stage_losses_reach_every_encoder(data):
    ds, enc, batch, builder = data
    triples = builder(batch)
    assert len(triples) > 0 and torch.equal(triples.entity, batch['context_entities'][triples.example, triples.slot])
    assert (triples.has_word | triples.has_review).all()
    set_seed(0)
    views = default_views(len(enc.vocab), ds.kg, CFG)
    units, present = fine_units(views, views(batch), triples)
    assert {u.shape for u in units.values()} == {torch.Size([len(triples), CFG.proj_dim])}
    loss, parts = stage_loss('fine', views, batch, triples)
    assert np.isclose(loss.item(), parts['fine'] + 0.2 * parts['coarse'], atol=1e-4)
    loss.backward()
    assert params_without_grad(views) == []
    views.zero_grad()
    stage_loss('coarse', views, batch)[0].backward()
    assert params_without_grad(views) == []
    with pytest.raises(ValueError): stage_loss('other', views, batch)

def test_coarse_loss_with_four_views(data):
    ds, enc, batch, _ = data
    views = default_views(len(enc.vocab), ds.kg, CFG)
    four = ViewSet([*views.views.values(), EntityBagView(ds.kg.n_entities, 10)], CFG.proj_dim)
    vec, pres = coarse_inputs(four, four(batch))
    assert len(pair_losses(vec, pres)) == 6 and torch.isfinite(coarse_loss(vec, pres))

def test_metrics_hand_cases():
    x = torch.tensor([[1., 0.], [0., 1.], [-1., 0.], [0., -1.]])
    assert alignment(x, 3 * x) == pytest.approx(0, abs=1e-6) and alignment(x, -x) == pytest.approx(4)
    assert cross_view_recall(x, x, ks=(1,)) == {1: 1.0}
    assert cross_view_recall(x, x[[1, 2, 3, 0]], ks=(1, 4)) == {1: 0.0, 4: 1.0}
    d2 = np.array([2, 4, 2, 2, 4, 2])
    assert uniformity(x) == pytest.approx(float(np.log(np.exp(-2 * d2).mean())), abs=1e-5)

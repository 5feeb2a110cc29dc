"Tests of c2crs.encoders: pooling masks, R-GCN equivalence, empty views, gradients, pluggable views."
import pytest, torch
from torch_geometric.nn import RGCNConv
from c2crs.core import set_seed
from c2crs.data import batches
from c2crs.encoders import (SelfAttentivePool, BasisRGCNConv, ConversationEncoder, ReviewEncoder,
                            KGEncoder, ViewSet, EntityBagView, default_views, params_without_grad)

from conftest import TINY as CFG

@pytest.fixture(scope='module')
def data(tiny_world):
    ds, enc = tiny_world
    return ds, enc, next(batches(enc.examples['generate', 'train'], ds.kg, enc.reviews, batch_size=8))

def test_pool_masks_padding_and_empty_rows():
    pool = SelfAttentivePool(4)
    x = torch.randn(2, 3, 4, requires_grad=True)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    pooled, w = pool(x, mask)
    assert w[0, 2].item() == 0 and torch.allclose(w[0].sum(), torch.tensor(1.))
    assert torch.equal(pooled[1].detach(), torch.zeros(4))
    pooled.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in [x, *pool.parameters()])

@pytest.mark.parametrize('n_relations,n_bases', [(5, 3), (9, 8)])
def test_basis_rgcn_matches_pyg(n_relations, n_bases):
    set_seed(1)
    x, ei = torch.randn(40, 12), torch.randint(0, 40, (2, 200))
    et = torch.randint(0, n_relations, (200,))
    ref, ours = RGCNConv(12, 6, n_relations, num_bases=n_bases), BasisRGCNConv(12, 6, n_relations, n_bases)
    ours.load_state_dict(ref.state_dict())
    assert torch.allclose(ours(x, ei, et), ref(x, ei, et), atol=1e-5)

def test_empty_contexts_and_reviews_give_zeros_not_nan(data):
    ds, enc, _ = data
    conv, rev, kge = ConversationEncoder(len(enc.vocab), CFG), ReviewEncoder(len(enc.vocab), CFG), KGEncoder(ds.kg, CFG)
    tokens = torch.zeros(2, 5, dtype=torch.long); tokens[0, :2] = 7
    _, pooled, _ = conv(tokens)
    assert torch.isfinite(pooled).all() and torch.equal(pooled[1].detach(), torch.zeros(CFG.word_dim))
    assert torch.equal(rev(torch.zeros(3, 2, 4, dtype=torch.long))[0].detach(), torch.zeros(3, CFG.word_dim))
    e_G, _ = kge(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.bool))
    assert torch.equal(e_G.detach(), torch.zeros(2, CFG.kg_dim))

def test_views_shapes_and_gradients_reach_every_parameter(data):
    ds, enc, batch = data
    set_seed(0)
    views = default_views(len(enc.vocab), ds.kg, CFG)
    outputs = views(batch)
    assert views.names == ['conversation', 'kg', 'review']
    for name, o in outputs.items():
        assert o.pooled.shape == (8, o.units.shape[-1]) and o.mask.shape == o.units.shape[:2]
        assert views.project(name, o.pooled).shape == (8, CFG.proj_dim)
    sum(views.project(n, o.pooled).sum() for n, o in outputs.items()).backward()
    assert params_without_grad(views) == []

def test_fourth_view_plugs_in(data):
    ds, enc, batch = data
    views = default_views(len(enc.vocab), ds.kg, CFG)
    four = ViewSet([*views.views.values(), EntityBagView(ds.kg.n_entities, 10)], CFG.proj_dim)
    out = four(batch)
    assert four.names[-1] == 'entity_bag' and four.project('entity_bag', out['entity_bag'].pooled).shape == (8, CFG.proj_dim)

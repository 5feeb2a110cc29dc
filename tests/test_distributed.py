"""Data parallelism (chapter 09b): two gloo processes on this machine train what one process trains."""
import dataclasses

import pytest
import torch

from c2crs import distributed
from c2crs.data import batches
from c2crs.distributed import launch, shard, shard_sizes
from c2crs.converse import ConverseConfig, GeneratorConfig
from c2crs.pretrain import PretrainConfig
from c2crs.recommend import RecommendConfig
from conftest import TINY

NO_DROPOUT = dataclasses.replace(TINY, dropout=0.0)   # two processes draw other dropout masks than one


def test_shards_cover_the_batch_in_order():
    batch = {'x': torch.arange(11), 'y': torch.arange(22).view(11, 2)}
    assert shard_sizes(11, 3) == [4, 4, 3]
    for key in batch:
        assert torch.equal(torch.cat([shard(batch, r, 3)[key] for r in range(3)]), batch[key])


def test_gathered_coarse_loss_equals_one_process(tiny_world):
    "Gathered InfoNCE over two shards: the same loss and the same gradient of every parameter."
    ds, enc = tiny_world
    batch = next(batches(enc.examples['recommend', 'train'], ds.kg, enc.reviews, 25))   # 13 + 12 rows
    one = distributed.coarse_grads(enc, NO_DROPOUT, batch)
    two = launch(distributed.coarse_grads, 2, enc, NO_DROPOUT, batch)
    assert two[0]['loss'] == pytest.approx(one['loss'], abs=1e-5) == two[1]['loss']
    assert set(two[0]['grads']) == set(one['grads'])
    for name, grad in one['grads'].items():
        torch.testing.assert_close(two[0]['grads'][name], grad, atol=1e-5, rtol=1e-4, msg=name)
        assert torch.equal(two[0]['grads'][name], two[1]['grads'][name])   # DDP: ranks agree


def test_data_parallel_recommender_trains_like_one_process(tiny_world):
    "KBRD's recommender, 2 epochs: per-epoch loss and dev metrics, and the final weights, agree."
    _, enc = tiny_world
    cfg = RecommendConfig(batch_size=9, epochs=2)     # batches of 9 split 5 + 4: uneven shards
    one = distributed.kbrd_run(enc, NO_DROPOUT, cfg)
    two = launch(distributed.kbrd_run, 2, enc, NO_DROPOUT, cfg)
    for a, b in zip(one['history'], two[0]['history']):
        assert b['loss'] == pytest.approx(a['loss'], abs=1e-4)
        assert {k: v for k, v in a.items() if k.startswith('dev')} == {
            k: v for k, v in b.items() if k.startswith('dev')}
    for name, weight in one['state'].items():
        torch.testing.assert_close(two[0]['state'][name], weight, atol=1e-4, rtol=1e-3, msg=name)
        assert torch.equal(two[0]['state'][name], two[1]['state'][name])


def test_data_parallel_pretraining_matches_one_process(tiny_world):
    "Coarse then fine (triples gathered, catalogue pairs on every rank): same losses, same weights."
    _, enc = tiny_world
    cfg = PretrainConfig(coarse_epochs=1, fine_epochs=1, batch_size=25)
    one = distributed.pretrain_run(enc, NO_DROPOUT, cfg)
    two = launch(distributed.pretrain_run, 2, enc, NO_DROPOUT, cfg)
    assert len(two[0]['history']) == len(one['history']) == 2
    for a, b in zip(one['history'], two[0]['history']):
        assert set(a) == set(b) and all(b[k] == pytest.approx(v, abs=1e-4) for k, v in a.items())
    for name, weight in one['state'].items():     # recall on 13 dialogs may flip on a near-tie
        torch.testing.assert_close(two[0]['state'][name], weight, atol=1e-4, rtol=1e-3, msg=name)
        assert torch.equal(two[0]['state'][name], two[1]['state'][name])


def test_data_parallel_generator_matches_one_process(tiny_world):
    "The generator's token-mean loss, shards weighted by their reply tokens: same losses and weights."
    _, enc = tiny_world
    gen_cfg = dataclasses.replace(GeneratorConfig(), dropout=0.0, n_layers=1, ffn_dim=32)
    cfg = ConverseConfig(epochs=1, batch_size=25)
    one = distributed.generator_run(enc, NO_DROPOUT, gen_cfg, cfg)
    two = launch(distributed.generator_run, 2, enc, NO_DROPOUT, gen_cfg, cfg)
    assert two[0]['history'][0]['loss'] == pytest.approx(one['history'][0]['loss'], abs=1e-4)
    for name, weight in one['state'].items():
        torch.testing.assert_close(two[0]['state'][name], weight, atol=1e-4, rtol=1e-3, msg=name)


def test_launch_refuses_what_workers_cannot_import():
    "A function the spawned workers could not import is an error at once, not a hang."
    def local(): return 1
    with pytest.raises(ValueError, match='define it in a module'): launch(local, 2)
    assert distributed.importable(distributed.world_size)

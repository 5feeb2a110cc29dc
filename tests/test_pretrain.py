"Pre-training: checkpoints that hold no code, determinism, and alignment that rises stage by stage."
import os
from pathlib import Path

import pytest
import torch

from c2crs.core import DataError, load_checkpoint
from c2crs.data import encode_dataset
from c2crs.movieworld import MovieWorldConfig, generate_movieworld
from c2crs.pretrain import PretrainConfig, pretrain


@pytest.fixture(scope='module')
def small():
    enc = encode_dataset(generate_movieworld(MovieWorldConfig(n_dialogs=700)))
    return enc, pretrain(enc, cfg=PretrainConfig(coarse_epochs=2, fine_epochs=2))[1]


def test_coarse_then_fine_align_held_out_views(small):
    m = small[1].metrics
    assert m['fine']['kg-review R@10'] > m['random']['kg-review R@10'] + 0.1   # catalogue pairs: every movie
    assert m['fine']['kg-review R@10'] > m['coarse']['kg-review R@10']
    assert m['fine']['word-entity R@1'] > m['random']['word-entity R@1']
    assert m['fine']['kg-review alignment'] < m['random']['kg-review alignment']


def test_same_seed_same_numbers(small):
    enc, report = small
    again = pretrain(enc, cfg=PretrainConfig(coarse_epochs=2, fine_epochs=2))[1]
    assert again.metrics == report.metrics and again.history == report.history


def test_checkpoints_are_plain_data_and_written_atomically(small, tmp_path):
    enc = small[0]
    views, _ = pretrain(enc, cfg=PretrainConfig(coarse_epochs=1, fine_epochs=0), out_dir=tmp_path)
    assert sorted(os.listdir(tmp_path)) == ['coarse.pt', 'fine.pt', 'random.pt', 'training.pt']   # no temporary files left
    ckpt = torch.load(tmp_path / 'fine.pt', weights_only=True)
    assert torch.load(tmp_path / 'training.pt', weights_only=True)['kind'] == 'training'   # resumable, also plain data
    assert ckpt['vocab'] == enc.vocab.itos
    views.load_state_dict(ckpt['state_dict'])


def test_malicious_checkpoint_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    class Evil:
        def __reduce__(self): return (os.system, (f'touch {marker}',))
    torch.save({'state_dict': {}, 'x': Evil()}, tmp_path / 'evil.pt')
    with pytest.raises(DataError, match='evil.pt: checkpoint'): load_checkpoint(tmp_path / 'evil.pt')
    assert not marker.exists()


def test_truncated_checkpoint_names_the_file(tmp_path):
    (tmp_path / 'cut.pt').write_bytes(b'PK\x03\x04 truncated')
    with pytest.raises(DataError, match='cut.pt: checkpoint: not a plain-data checkpoint'): load_checkpoint(tmp_path / 'cut.pt')

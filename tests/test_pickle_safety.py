import os
import pickle

import pytest

from c2crs.core import DataError
from c2crs.redial import UnsafePickleError, load_pickle


class Attack:
    "Unpickling this with plain pickle would create the marker file."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'subkg.pkl'
    path.write_bytes(pickle.dumps({'kg': Attack(marker)}))
    with pytest.raises(UnsafePickleError) as err:
        load_pickle(path)
    assert isinstance(err.value, DataError)
    assert str(path) in str(err.value) and 'refused to load' in str(err.value)
    assert ('system' in str(err.value))
    assert not marker.exists()


def test_other_callables_are_refused(tmp_path):
    path = tmp_path / 'x.pkl'
    path.write_bytes(pickle.dumps(print))
    with pytest.raises(UnsafePickleError, match='builtins.print'):
        load_pickle(path)


def test_plain_containers_load(tmp_path):
    from collections import defaultdict
    obj = {'a': [1, 2.5, (3, 'x')], 'b': {frozenset({1}), 2}, 'c': defaultdict(list, {1: [(2, 3)]}), 'd': True, 'e': 1j}
    path = tmp_path / 'ok.pkl'
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        assert load_pickle(path) == obj


@pytest.mark.parametrize('name', ['kg/subkg.pkl', 'kg/entity2entityId.pkl', 'kg/id2entity.pkl', 'kg/movie_ids.pkl',
                                  'reviews/movie2tokenreview_helpful.pkl'])
def test_real_pickles_load_restricted(redial_dir, name):
    with open(redial_dir / name, 'rb') as f:
        expected = pickle.load(f)   # the shipped files are trusted here only to compare
    assert load_pickle(redial_dir / name) == expected

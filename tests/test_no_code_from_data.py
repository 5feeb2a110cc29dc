"""No code from data: a malicious pickle or checkpoint is refused before anything in it runs.

Every gadget below creates a marker file when it runs. Each is first shown to be live (plain `pickle` or
`torch.load(weights_only=False)` does create the marker); then the project's loaders must refuse the
same bytes with `UnsafePickleError` / `DataError` naming the file, and the marker must never appear."""
import copyreg
import importlib
import json
import os
import pickle
import subprocess
import sys
from collections import defaultdict

import pytest
import torch

import c2crs.core
import c2crs.data
from c2crs.core import DataError
from c2crs.core import load_checkpoint
from c2crs.redial import UnsafePickleError, load_pickle, load_redial_small

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
MARKER_MODULE = 'c2crs_test_marker_module'


class Gadget:
    "An object whose unpickling calls `func(*args)`."
    def __init__(self, func, *args): self.func, self.args = func, args
    def __reduce__(self): return self.func, self.args


def gadgets(marker) -> dict:
    "Name -> an object whose unpickling creates `marker` (or, for the class, asks for a project class)."
    m = str(marker)
    return {
        'os.system': Gadget(os.system, f'touch {m}'),
        'builtins.eval': Gadget(eval, f"open({m!r}, 'w').close()"),
        'builtins.exec': Gadget(exec, f"open({m!r}, 'w').close()"),
        'subprocess.Popen': Gadget(subprocess.Popen, ['touch', m]),
        'importlib.import_module': Gadget(importlib.import_module, MARKER_MODULE),
        'c2crs.core.save_json': Gadget(c2crs.core.save_json, {'pwned': True}, m),
        'c2crs.data.Turn (a project class)': c2crs.data.Turn('seeker', 'hi'),
        'defaultdict(os.system)': defaultdict(os.system, {1: [(2, 3)]}),
    }


def nest(obj, depth: int = 40):
    "`obj` buried under `depth` levels of dicts, lists and tuples, beside plain data."
    for i in range(depth):
        obj = ({'ok': [1, 2.5, 'x'], 'inner': obj}, [0, obj], (obj, 'x'))[i % 3]
    return {'head': {0: [(1, 2)]}, 'payload': obj}


@pytest.fixture
def marker(tmp_path, monkeypatch):
    "A marker path that no test code creates; the import gadget's module creates it when imported."
    path = tmp_path / 'marker' / 'pwned'
    path.parent.mkdir()
    (tmp_path / f'{MARKER_MODULE}.py').write_text(f"open({str(path)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MARKER_MODULE, raising=False)
    yield path
    sys.modules.pop(MARKER_MODULE, None)


def run_plain(load, marker):
    "Load with an unrestricted loader (the control): the marker must appear."
    sys.modules.pop(MARKER_MODULE, None)
    out = load()
    for v in (out, *(out.values() if isinstance(out, dict) else ())):
        if isinstance(v, subprocess.Popen): v.wait()
    return marker.exists()


@pytest.mark.parametrize('name', list(gadgets('m')))
def test_gadgets_are_live(name, tmp_path, marker):
    "The control: with plain pickle each marker gadget really runs (so the refusals below mean something)."
    obj = gadgets(marker)[name]
    if 'class' in name or 'defaultdict' in name:
        assert type(pickle.loads(pickle.dumps(obj))) is type(obj)
        return
    assert run_plain(lambda: pickle.loads(pickle.dumps(obj)), marker)


def check_refused(err, path, marker):
    assert isinstance(err, DataError) and str(err).startswith(f'{path}: '), str(err)
    assert not marker.exists(), 'the payload ran'


@pytest.mark.parametrize('name', list(gadgets('m')))
def test_load_pickle_refuses(name, tmp_path, marker, reliability):
    "Every gadget, bare and nested 40 levels deep, at every protocol: UnsafePickleError, nothing runs."
    path = tmp_path / 'x.pkl'
    for protocol in PROTOCOLS:
        for obj in (gadgets(marker)[name], nest(gadgets(marker)[name])):
            with reliability.case('malicious pickle -> load_pickle') as outcome:
                path.write_bytes(pickle.dumps(obj, protocol=protocol))
                with pytest.raises(UnsafePickleError) as err:
                    load_pickle(path)
                check_refused(err.value, path, marker)
                assert 'refused to load' in str(err.value)
                outcome('refused')


HAND_BUILT = {
    # protocol 0 INST opcode: module and name in the text, no REDUCE needed
    'INST os.system': lambda m: b"(S'touch " + str(m).encode() + b"'\nios\nsystem\n.",
    # GLOBAL + REDUCE with the Python 2 module name
    'GLOBAL __builtin__.eval': lambda m: b"c__builtin__\neval\n(S\"open('" + str(m).encode() + b"', 'w').close()\"\ntR.",
    # STACK_GLOBAL for a dotted name inside an allowed module
    'STACK_GLOBAL builtins.dict.fromkeys': lambda m: (b'\x80\x04\x8c\x08builtins\x94\x8c\rdict.fromkeys\x94\x93\x94.'),
    # a persistent id: only a loader with persistent_load can resolve it
    'PERSID': lambda m: b'Pos.system\n.',
}


@pytest.mark.parametrize('name', list(HAND_BUILT))
def test_hand_built_opcodes(name, tmp_path, marker, reliability):
    data = HAND_BUILT[name](marker)
    path = tmp_path / 'x.pkl'
    path.write_bytes(data)
    if name.startswith(('INST', 'GLOBAL')):
        assert run_plain(lambda: pickle.loads(data), marker)   # the control
        marker.unlink()
    with reliability.case('malicious pickle -> load_pickle') as outcome:
        with pytest.raises(DataError) as err:
            load_pickle(path)
        check_refused(err.value, path, marker)
        outcome('refused')


def test_copyreg_extension_code(tmp_path, marker, reliability):
    """EXT opcodes name a global by a copyreg code. Unregistered (plain Python): refused. Registered and already
    resolved once by an unrestricted unpickler, the C unpickler takes it from copyreg's cache without find_class:
    load_pickle must still refuse it."""
    path = tmp_path / 'ext.pkl'
    copyreg.add_extension('posix', 'system', 0x7fe)
    try:
        data = pickle.dumps(gadgets(marker)['os.system'], protocol=2)
        assert b'\x83' in data   # EXT2
        path.write_bytes(data)
        with reliability.case('malicious pickle -> load_pickle') as outcome:   # registered, not cached
            with pytest.raises(UnsafePickleError) as err:
                load_pickle(path)
            check_refused(err.value, path, marker)
            outcome('refused')
        assert run_plain(lambda: pickle.loads(data), marker)   # the control; it also fills copyreg's cache
        marker.unlink()
        with reliability.case('malicious pickle -> load_pickle') as outcome:   # registered and cached
            with pytest.raises(UnsafePickleError, match='refused an extension code') as err:
                load_pickle(path)
            check_refused(err.value, path, marker)
            outcome('refused')
    finally:
        copyreg.remove_extension('posix', 'system', 0x7fe)
    with reliability.case('malicious pickle -> load_pickle') as outcome:   # unregistered: nothing to resolve
        with pytest.raises(DataError, match='unregistered extension code') as err:
            load_pickle(path)
        check_refused(err.value, path, marker)
        outcome('refused')


# ---------------------------------------------------------------------------------------------------------
# Every pickle the project reads, through the loader that reads it: load_redial_small on a tiny folder

R = lambda n: f'<http://dbpedia.org/resource/{n}>'
REDIAL_PICKLES = {
    'kg/entity2entityId.pkl': {R('Alien_(film)'): 0, R('Sigourney_Weaver'): 1, 75962: 2},
    'kg/subkg.pkl': defaultdict(list, {0: [(3, 1)], 2: [(3, 1)]}),
    'kg/movie_ids.pkl': [0, 2],
    'kg/id2entity.pkl': {111: R('Alien_(film)'), 75962: None},
    'reviews/movie2tokenreview_helpful.pkl': {'111': ['Scary', '!']},
}


def write_redial_small(folder):
    conv = {'conversationId': '1', 'initiatorWorkerId': 1, 'respondentWorkerId': 2, 'movieMentions': {'111': 'Alien (1979)'},
            'messages': [{'text': 'Seen @111 ?', 'senderWorkerId': 2, 'messageId': 0, 'timeOffset': 0}]}
    for name in ('valid_data.jsonl', 'test_data.jsonl'):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(conv) + '\n')
    for name, obj in REDIAL_PICKLES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(pickle.dumps(obj))
    return folder


def test_tiny_redial_small_loads(tmp_path):
    ds = load_redial_small(write_redial_small(tmp_path / 'redial'))
    assert ds.kg.n_entities == 3 and ds.reviews == {0: ['Scary!']}
    assert ds.splits['test'][0].turns[0].movies == [0]


@pytest.mark.parametrize('target', list(REDIAL_PICKLES))
def test_every_project_pickle_refuses(target, tmp_path, marker, reliability):
    "Each file in turn replaced by a payload (bare, or nested inside the expected container), every protocol."
    folder = write_redial_small(tmp_path / 'redial')
    for protocol in PROTOCOLS:
        for name, gadget in gadgets(marker).items():
            good = REDIAL_PICKLES[target]
            inside = ({**good, next(iter(good)): gadget} if isinstance(good, dict) else [*good, gadget])
            for obj in (gadget, inside, nest(gadget)):
                with reliability.case('malicious pickle -> load_redial_small') as outcome:
                    (folder / target).write_bytes(pickle.dumps(obj, protocol=protocol))
                    with pytest.raises(UnsafePickleError) as err:
                        load_redial_small(folder)
                    check_refused(err.value, folder / target, marker)
                    outcome('refused')


# ---------------------------------------------------------------------------------------------------------
# Checkpoints: torch.load(weights_only=True) behind load_checkpoint

def checkpoint_payloads(marker):
    for name, gadget in gadgets(marker).items():
        if 'class' in name: continue
        yield name, {'stage': 'coarse', 'state_dict': {'w': torch.zeros(2)}, 'history': [{'evil': gadget}]}


def test_checkpoint_gadgets_are_live(tmp_path, marker):
    path = tmp_path / 'evil.pt'
    torch.save(dict(checkpoint_payloads(marker))['os.system'], path)
    assert run_plain(lambda: torch.load(path, weights_only=False), marker)


@pytest.mark.filterwarnings('ignore:Detected pickle protocol')   # torch notes protocols above 2; they are refused anyway
@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_malicious_checkpoint_refused(legacy, tmp_path, marker, reliability):
    path = tmp_path / 'evil.pt'
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        for name, payload in checkpoint_payloads(marker):
            with reliability.case('malicious checkpoint -> load_checkpoint') as outcome:
                torch.save(payload, path, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
                with pytest.raises(DataError) as err:
                    load_checkpoint(path)
                check_refused(err.value, path, marker)
                assert str(err.value).startswith(f'{path}: checkpoint: ')
                outcome('refused')


def test_plain_pickle_named_pt_refused(tmp_path, marker, reliability):
    path = tmp_path / 'evil.pt'
    for name, gadget in gadgets(marker).items():
        with reliability.case('malicious checkpoint -> load_checkpoint') as outcome:
            path.write_bytes(pickle.dumps(gadget, protocol=2))
            with pytest.raises(DataError) as err:
                load_checkpoint(path)
            check_refused(err.value, path, marker)
            outcome('refused')


def checkpoint_variants(tmp_path) -> list[bytes]:
    "A good checkpoint, then truncations, random bytes, a broken zip, a foreign pickle, a flipped byte."
    import random
    good = tmp_path / 'good.pt'
    torch.save({'stage': 'fine', 'state_dict': {'w': torch.arange(1000.)}, 'vocab': ['a', 'b'], 'history': []}, good)
    assert load_checkpoint(good)['vocab'] == ['a', 'b']
    data, rng = good.read_bytes(), random.Random(0)
    variants = [data[:n] for n in (1, 4, 30, len(data) // 2, len(data) - 22, len(data) - 1)]
    variants += [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 16, 512, 4096)]
    variants += [b'PK\x03\x04' + bytes(rng.randrange(256) for _ in range(200)), b'\x80\x02}q\x00.' * 3, b'not a checkpoint\n']
    flipped = bytearray(data); flipped[len(data) // 3] ^= 0xff
    return variants + [bytes(flipped)]


def test_truncated_and_garbage_checkpoints(tmp_path, reliability):
    path = tmp_path / 'bad.pt'
    variants = checkpoint_variants(tmp_path)
    for i, blob in enumerate(variants):
        with reliability.case('truncated/garbage checkpoint -> load_checkpoint') as outcome:
            path.write_bytes(blob)
            try: load_checkpoint(path)
            except DataError as err:
                assert str(err).startswith(f'{path}: checkpoint: '), str(err)
                outcome('refused'); continue
            outcome('loaded')   # a flipped byte inside tensor data may still load: it is data, not code
            assert i == len(variants) - 1, f'variant {i} loaded'


def test_empty_checkpoint(tmp_path):
    path = tmp_path / 'empty.pt'
    path.write_bytes(b'')
    with pytest.raises(DataError, match=f'{path}: checkpoint: '):
        load_checkpoint(path)

"Every malformed input fails with a DataError naming the file, the record and the problem."
import json
import pickle
from collections import defaultdict

import pytest
import torch

from c2crs.core import DataError
from c2crs.data import KnowledgeGraph
from c2crs.redial import load_inspired, load_kgsf_kg, load_pickle, load_redial_dialogs, load_revcore_reviews

R = lambda n: f'<http://dbpedia.org/resource/{n}>'
KG = KnowledgeGraph(['Alien (film)', 'Sigourney Weaver'], ['rel_0'], torch.tensor([[0], [1]]), torch.tensor([0]),
                    torch.tensor([0]))
MOVIES = {111: 0, 222: None}


def conv(msgs, **extra):
    c = {'conversationId': '5', 'initiatorWorkerId': 1, 'respondentWorkerId': 2, 'movieMentions': {'222': 'Cosmos (2015)'},
         'messages': [{'text': t, 'senderWorkerId': s, 'messageId': i, 'timeOffset': 0} for i, (s, t) in enumerate(msgs)]}
    c.update(extra)
    return json.dumps(c)


def redial_fault(tmp_path, line):
    path = tmp_path / 'faulty.jsonl'
    path.write_text(conv([(1, 'hi @111')]) + '\n' + line + '\n')
    with pytest.raises(DataError) as err:
        load_redial_dialogs(path, KG, MOVIES)
    assert str(err.value).startswith(f'{path}: line 2')
    return str(err.value)


def test_good_file_loads(tmp_path):
    path = tmp_path / 'ok.jsonl'
    path.write_text(conv([(1, 'hi @111'), (2, 'try @222')]) + '\n')
    [d] = load_redial_dialogs(path, KG, MOVIES)
    assert [(t.role, t.text, t.movies) for t in d.turns] == [('seeker', 'hi @0', [0]), ('recommender', 'try Cosmos (2015)', [])]


def test_bad_json(tmp_path):
    assert 'bad JSON' in redial_fault(tmp_path, '{"conversationId": "6",')


def test_missing_key(tmp_path):
    assert "missing key 'messages'" in redial_fault(tmp_path, json.dumps({k: v for k, v in json.loads(conv([(1, 'x')])).items()
                                                                         if k != 'messages'}))


def test_wrong_type_messages(tmp_path):
    assert 'messages should be list, got str' in redial_fault(tmp_path, conv([], messages='hello'))


def test_wrong_type_text(tmp_path):
    msg = redial_fault(tmp_path, conv([(1, ['not', 'a', 'string'])]))
    assert 'message 0' in msg and "string 'text'" in msg


def test_unknown_movie_id(tmp_path):
    msg = redial_fault(tmp_path, conv([(1, 'seen @999?')]))
    assert 'message 0' in msg and 'unknown movie id @999' in msg


def test_unknown_movie_id_counted_when_not_strict(tmp_path):
    from c2crs.redial import LoadReport
    path = tmp_path / 'lenient.jsonl'
    path.write_text(conv([(1, 'seen @999?')]) + '\n')
    report = LoadReport()
    [d] = load_redial_dialogs(path, KG, MOVIES, report=report, strict=False)
    assert d.turns[0].text == 'seen a movie?'
    assert sum(report.issues.counts.values()) == 1


def test_empty_dialog(tmp_path):
    assert 'empty dialog' in redial_fault(tmp_path, conv([]))


def test_sender_not_a_worker(tmp_path):
    msg = redial_fault(tmp_path, conv([(1, 'hi'), (7, 'who?')]))
    assert 'message 1' in msg and 'sender 7 is neither the seeker nor the recommender' in msg


def write_kg(folder, subkg, entity2id=None, movies=(0,)):
    folder.mkdir(parents=True, exist_ok=True)
    for name, obj in [('subkg', subkg), ('entity2entityId', entity2id or {R('A_(film)'): 0, R('B'): 1}),
                      ('movie_ids', list(movies))]:
        (folder / f'{name}.pkl').write_bytes(pickle.dumps(obj))
    return folder


def test_kg_loads(tmp_path):
    kg = load_kgsf_kg(write_kg(tmp_path / 'kg', defaultdict(list, {0: [(3, 1)]})))
    assert kg.entity_labels == ['A (film)', 'B'] and kg.relation_labels == ['rel_3'] and kg.n_edges == 1


def test_kg_relation_to_missing_entity(tmp_path):
    folder = write_kg(tmp_path / 'kg', defaultdict(list, {0: [(3, 1), (3, 42)]}))
    with pytest.raises(DataError, match=r'subkg\.pkl: head 0, edge #1: tail 42 is not an entity'):
        load_kgsf_kg(folder)


def test_kg_missing_head(tmp_path):
    folder = write_kg(tmp_path / 'kg', {99: [(3, 1)]})
    with pytest.raises(DataError, match=r'subkg\.pkl: head 99: not an entity id'):
        load_kgsf_kg(folder)


def test_kg_wrong_typed_edge(tmp_path):
    folder = write_kg(tmp_path / 'kg', {0: [(3, '1')]})
    with pytest.raises(DataError, match=r"subkg\.pkl: head 0, edge #0: expected a \(relation id, tail id\) pair of ints"):
        load_kgsf_kg(folder)
    folder = write_kg(tmp_path / 'kg2', {0: [(3, 1, 2)]})
    with pytest.raises(DataError, match=r'subkg\.pkl: head 0, edge #0'):
        load_kgsf_kg(folder)


def test_kg_item_out_of_range(tmp_path):
    folder = write_kg(tmp_path / 'kg', {0: [(3, 1)]}, movies=(0, 5))
    with pytest.raises(DataError, match=r'movie_ids\.pkl: item #1: item id 5 is not an entity'):
        load_kgsf_kg(folder)


def test_truncated_pickle(tmp_path):
    folder = write_kg(tmp_path / 'kg', {0: [(3, 1)] * 100})
    data = (folder / 'subkg.pkl').read_bytes()
    (folder / 'subkg.pkl').write_bytes(data[:len(data) // 2])
    with pytest.raises(DataError, match=r'subkg\.pkl: pickle: cannot unpickle'):
        load_kgsf_kg(folder)
    (tmp_path / 'empty.pkl').write_bytes(b'')
    with pytest.raises(DataError, match=r'empty\.pkl: pickle'):
        load_pickle(tmp_path / 'empty.pkl')


def test_reviews_of_wrong_type(tmp_path):
    path = tmp_path / 'reviews.pkl'
    path.write_bytes(pickle.dumps({'111': 'A great film .'}))
    with pytest.raises(DataError, match=r"reviews\.pkl: movie '111': expected a list of token strings"):
        load_revcore_reviews(path, MOVIES)
    path.write_bytes(pickle.dumps(['A', 'list']))
    with pytest.raises(DataError, match=r'reviews\.pkl: top level: expected a dict'):
        load_revcore_reviews(path, MOVIES)


def test_reviews_load_and_count_skips(tmp_path):
    from c2crs.redial import LoadReport
    path = tmp_path / 'reviews.pkl'
    path.write_bytes(pickle.dumps({'111': ['A', 'great', 'film', '.'], '222': ['Stars', '!']}))
    report = LoadReport()
    assert load_revcore_reviews(path, MOVIES, report) == {0: ['A great film.']}
    assert dict(report.issues.counts) == {'review of a movie not in the KG': 1}


def test_inspired_malformed_turn(tmp_path):
    path = tmp_path / 'inspired.jsonl'
    good = {'text': 'hi', 'role': 'SEEKER', 'movie': [], 'entity_link': [], 'entity_name': [], 'movie_link': [], 'movie_name': []}
    path.write_text(json.dumps([good]) + '\n' + json.dumps([good, {**good, 'role': 'ROBOT'}]) + '\n')
    with pytest.raises(DataError) as err:
        load_inspired(path, {}, [])
    assert str(err.value).startswith(f'{path}: line 2, turn 1: ') and 'role SEEKER or RECOMMENDER' in str(err.value)
    path.write_text(json.dumps([{**good, 'movie_link': R('Alien_(film)')}]) + '\n')
    with pytest.raises(DataError, match=r'line 1, turn 0: movie_link should be a list'):
        load_inspired(path, {}, [])
    path.write_text('[{"text": "hi"\n')
    with pytest.raises(DataError, match=r'line 1: bad JSON'):
        load_inspired(path, {}, [])

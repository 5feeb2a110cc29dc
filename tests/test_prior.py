"The paper's other conversational recommenders (chapter 09c) on MovieWorld-sized data."
from dataclasses import replace

import pytest
import torch

from c2crs.core import DataError
from c2crs.data import KnowledgeGraph, collate, encode_dataset
from c2crs.encoders import EncoderConfig
from c2crs.learner import quiet
from c2crs.movieworld import MovieWorldConfig, generate_movieworld
from c2crs.prior import (
    PRIOR, PRIOR_VARIANTS, AutoRec, bag_support, build_prior, conceptnet_path, graph_words,
    item_neighbours, prior_generator, read_conceptnet, train_prior, word_graph)
from c2crs.recommend import RecommendConfig, build_model, evaluate, train_system

SMALL = EncoderConfig(word_dim=32, kg_dim=32, ffn_dim=64, proj_dim=32)
CFG = RecommendConfig(epochs=3, batch_size=64, patience=3)


def context(entities: list[int], mask: list[bool]) -> dict:
    "A one-row batch of context entities."
    return {'context_entities': torch.tensor([entities]),
            'context_entities_mask': torch.tensor([mask])}


@pytest.fixture(scope='module')
def enc():
    return encode_dataset(generate_movieworld(MovieWorldConfig(n_dialogs=200, seed=1)))


@pytest.mark.parametrize('name', PRIOR + PRIOR_VARIANTS)
def test_each_system_trains_and_ranks(enc, name):
    "Every system builds, learns (its training loss falls) and ranks the whole catalogue."
    with quiet(): model, history = train_prior(name, enc, 0, CFG, SMALL, infomax_epochs=1)
    assert len(history) == CFG.epochs and history[-1]['loss'] < history[0]['loss']
    m = evaluate(model, enc.examples['recommend', 'test'], enc.ds.kg, enc.reviews)
    assert 0 <= m['R@1'] <= m['R@10'] <= m['R@50'] <= 1 and m['n'] > 0


def test_training_is_seeded(enc):
    with quiet():
        a = train_prior('kgsf', enc, 3, replace(CFG, epochs=1), SMALL, infomax_epochs=1)[0]
        b = train_prior('kgsf', enc, 3, replace(CFG, epochs=1), SMALL, infomax_epochs=1)[0]
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), k


def test_kecrs_is_kbrd_on_our_graph(enc):
    "KECRS's recommender is KBRD's: the same seed gives the same model."
    with quiet():
        kecrs = train_prior('kecrs', enc, 1, CFG, SMALL)[0]
        kbrd = train_system('kbrd', enc, 1, CFG, SMALL)[0]
    for x, y in zip(kecrs.state_dict().values(), kbrd.state_dict().values()):
        assert torch.equal(x, y)


def test_the_word_graph_reaches_the_scores(enc):
    "With edges, a word's state mixes its neighbours': changing the graph changes KGSF's scores."
    torch.manual_seed(0)
    model = build_prior('kgsf w/o word graph', enc, CFG, SMALL).eval()
    batch = collate(enc.examples['recommend', 'train'][:16], enc.ds.kg, enc.reviews)
    before = model(batch)
    words = [w for w in enc.vocab.itos[5:] if w.isalpha()][:40]
    chain = word_graph([('RelatedTo', a, b) for a, b in zip(words, words[1:])], enc.vocab)
    model.word_view.edges, model.word_view.is_word = chain, graph_words(enc.vocab, chain)
    assert not torch.allclose(before, model(batch))


def test_info_loss_is_zero_for_a_perfect_prediction(enc):
    "Infomax is the squared error against the multi-hot context entities, per entity named."
    torch.manual_seed(0)
    model = build_prior('kgsf', enc, CFG, SMALL)
    batch = collate(enc.examples['recommend', 'train'][:8], enc.ds.kg, enc.reviews)
    entities, mask = model.context(batch)
    named = torch.zeros(8, enc.ds.kg.n_entities).scatter_reduce(1, entities, mask.float(), 'amax')
    with torch.no_grad():
        model.info_proj.weight.zero_(); model.info_proj.bias.zero_()
        model.info_bias.copy_(named[0])
        expected = ((named - named[0]) ** 2).sum() / named.sum()
    assert torch.isclose(model.info_loss(batch), expected)


def test_revcore_reads_its_reviews_entities(enc):
    kg = enc.ds.kg
    movie = kg.item_ids[0].item()
    actor = next(e for e in range(kg.n_entities) if e not in set(kg.item_ids.tolist()))
    model = build_prior('revcore', enc, CFG, SMALL)
    model.review_table = torch.full((kg.n_entities, 1), -1); model.review_table[movie, 0] = actor
    entities, mask = model.context(context([movie], [True]))
    assert entities[mask].tolist() == [movie, actor]


def test_autorec_reads_only_movies(enc):
    kg = enc.ds.kg
    model = AutoRec(kg, hidden=8)
    movie = kg.item_ids[0].item()
    actor = next(e for e in range(kg.n_entities) if e not in set(kg.item_ids.tolist()))
    assert torch.equal(model(context([movie, 0], [True, False])),
                       model(context([movie, actor], [True, True])))


def test_unknown_system():
    with pytest.raises(ValueError, match='unknown system'): build_prior('kgsff', None)


def test_malformed_conceptnet_names_file_and_line(tmp_path):
    bad = tmp_path / 'edges.txt'
    bad.write_text('RelatedTo\tscary\thorror\n\nIsA\thorror\t\n')
    with pytest.raises(DataError, match=r'edges.txt: line 3: expected relation<TAB>word<TAB>word'):
        read_conceptnet(bad)


def test_conceptnet_stand_in_loads():
    path = conceptnet_path()
    if path is None: pytest.skip('../shared/data/kgsf/conceptnet_one_hop_edges.txt is missing')
    edges = read_conceptnet(path)
    assert len(edges) == 47_023


@pytest.mark.parametrize('name', ['kgsf', 'revcore', 'kecrs'])
def test_conversation_module_reads_the_frozen_recommender(enc, name):
    "KGSF's, RevCore's and KECRS's generators attend to their recommender's encoders, frozen."
    from c2crs.converse import ConverseConfig, train_generator
    with quiet():
        recommender = train_prior(name, enc, 0, replace(CFG, epochs=1), SMALL, infomax_epochs=1)[0]
        gen = prior_generator(name, enc, recommender, SMALL)
        reviews = ['review'] if name == 'revcore' else []
        words = [] if name == 'kecrs' else ['words']
        assert gen.memories == ['conversation', 'kg', *reviews, *words]
        kg_before = gen.views.views['kg'].encoder.embed.weight.clone()
        history = train_generator(gen, enc, ConverseConfig(epochs=1, batch_size=64))
    assert history[0]['loss'] > 0
    assert torch.equal(gen.views.views['kg'].encoder.embed.weight, kg_before)
    assert torch.equal(gen.views.views['kg'].encoder.embed.weight, recommender.encoder.embed.weight)
    with pytest.raises(ValueError, match='no conversation module'):
        prior_generator('kgsf w/o word graph', enc, recommender)


def test_kecrs_bag_of_entities_counts_the_named_movies_neighbours(enc):
    "A reply naming no movie has an empty bag: its bag-of-entity loss is 0."
    with quiet(): kbrd_like = train_prior('kecrs', enc, 0, replace(CFG, epochs=1), SMALL)[0]
    gen = prior_generator('kecrs', enc, kbrd_like, SMALL).eval()
    examples = enc.examples['generate', 'train']
    silent = [e for e in examples if not e.response_items][:4]
    naming = [e for e in examples if e.response_items][:4]
    for group, positive in ((silent, False), (naming, True)):
        batch = collate(group, enc.ds.kg, enc.reviews)
        loss = gen.boe_loss(batch, gen.teacher_forced(batch)[1])
        assert (loss > 0) == positive


def test_kecrs_bag_ranges_over_the_movies_and_their_neighbours():
    "Entities two hops from every movie, or cut off, are outside the bag-of-entity softmax."
    kg = KnowledgeGraph(
        [f'e{i}' for i in range(6)], ['r'], torch.tensor([[0, 1, 3], [2, 3, 4]]),
        torch.zeros(3, dtype=torch.long), torch.tensor([0, 1]))
    near = item_neighbours(kg)
    assert near == {0: [2], 1: [3]}
    support, table = bag_support(near, kg)
    assert support.tolist() == [0, 1, 2, 3]
    assert support[table[1, :1]].tolist() == [3] and table.shape == (6, 1)
    assert (table[[2, 3, 4, 5]] == -1).all()


def test_kecrs_infusion_starts_small_beside_eq_11(enc):
    "Infusion reads the word table times d^-1/2, like chapter 09's logits: small at the start."
    from c2crs.converse import weighted_nll
    gen = prior_generator('kecrs', enc, build_model('kbrd', enc, CFG, EncoderConfig())).eval()
    batch = collate(enc.examples['generate', 'train'][:32], enc.ds.kg, enc.reviews)
    with torch.no_grad():
        mem, h = gen.teacher_forced(batch)
        nll = weighted_nll(gen.target_logp(batch, (mem, h)), batch['response_tokens'][:, 1:],
                           torch.ones(gen.vocab_size))[0]
        assert gen.infusion_weight * gen.infusion_loss(batch, mem) < 0.1 * nll


def test_hred_is_a_generator_for_chapter_09(enc):
    "ReDial's HRED trains with train_generator and decodes with chapter 09's greedy and beam search"
    from c2crs.converse import ConverseConfig, beam_decode, greedy_decode, train_generator
    from c2crs.prior import split_turns
    flat = torch.tensor([[7, 8, 3, 9, 3, 10, 0]])                  # EOS = 3 ends a turn, PAD = 0
    assert split_turns(flat, max_turns=3, max_len=2).tolist() == [[[7, 8], [9, 0], [10, 0]]]
    with quiet():
        redial = train_prior('redial', enc, 0, replace(CFG, epochs=1), SMALL)[0]
        gen = prior_generator('redial', enc, redial, SMALL)
        history = train_generator(gen, enc, ConverseConfig(epochs=2, batch_size=64))
    assert history[1]['dev ppl'] < history[0]['dev ppl']
    batch = collate(enc.examples['generate', 'test'][:4], enc.ds.kg, enc.reviews)
    assert greedy_decode(gen, batch, max_len=6).shape[0] == 4
    assert beam_decode(gen, batch, beam=2, max_len=6).shape[0] == 4


def test_kgsf_reads_only_the_words_the_graph_knows(enc):
    "Like KGSF, the word side reads the content words at an end of some edge; w/o graph keeps them."
    chain = word_graph([('RelatedTo', 'mood', enc.vocab.itos[10])], enc.vocab)
    assert graph_words(enc.vocab, chain).sum() <= 2
    kgsf = build_prior('kgsf', enc, CFG, SMALL)
    without = build_prior('kgsf w/o word graph', enc, CFG, SMALL)
    assert torch.equal(kgsf.word_view.is_word, without.word_view.is_word)
    assert without.word_view.edges.shape[1] == 0

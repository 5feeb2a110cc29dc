"Generation: metric hand cases, instance weights, decoding shape rules, training, greedy = beam 1, determinism."
import math

import pytest
import torch

from c2crs.converse import (ConverseConfig, GeneratorConfig, beam_decode, bleu, build_generator, dev_perplexity,
                            distinct_n, greedy_decode, instance_weights, train_generator, weighted_nll)
from c2crs.data import BOS, EOS, PAD, batches, encode_dataset
from c2crs.movieworld import MovieWorldConfig, generate_movieworld


@pytest.fixture(scope='module')
def enc():
    return encode_dataset(generate_movieworld(MovieWorldConfig(n_dialogs=60)))


def test_metric_hand_cases():
    assert distinct_n([['a', 'b', 'a', 'b']], 2) == pytest.approx(2 / 3)          # (a b) twice, (b a)
    assert distinct_n([['a', 'b', 'c'], ['a', 'b', 'c']], 3) == pytest.approx(1 / 2)
    assert distinct_n([[], ['a']], 2) == 0.0
    assert bleu([list('abcd')], [list('abcd')]) == pytest.approx(1.0)
    assert bleu([['x', 'y']], [['a', 'b']]) == 0.0                                # no floor for no match
    assert bleu([['a', 'b']], [list('abcd')]) == pytest.approx(math.exp(1 - 2))   # brevity penalty only
    # corpus-level: matches and lengths are pooled before the precisions are taken
    assert bleu([['a', 'b'], ['c', 'd']], [['a', 'b'], ['c', 'x']]) == pytest.approx(math.sqrt(3 / 4 * 1 / 2))


def test_instance_weights_follow_eq_12():
    freq = torch.tensor([0., 0, 0, 9999, 9999, 10, 200, 400, 100000])
    a = instance_weights(freq, beta=200, gamma=0.1)
    assert a.tolist() == pytest.approx([1, 1, 1, 1, 1, 1, 1, 0.5, 0.1])
    loss, nll = weighted_nll(torch.log(torch.full((1, 2, 9), 1 / 9)), torch.tensor([[7, 5]]), a)
    assert loss.item() == pytest.approx(0.75 * math.log(9)) and nll.item() == pytest.approx(2 * math.log(9))


def _batch(enc, n=12):
    return next(batches(enc.examples['generate', 'test'][:n], enc.ds.kg, enc.reviews, n))


@pytest.mark.parametrize('beam', [1, 3])
def test_decoding_ends_at_eos_or_cap_without_inner_pad(enc, beam):
    gen = build_generator(enc)
    out = beam_decode(gen, _batch(enc), beam=beam, max_len=7)
    assert out.shape[0] == 12 and out.shape[1] <= 7
    for row in out.tolist():
        if EOS in row:
            i = row.index(EOS)
            assert all(t == PAD for t in row[i + 1:]) and PAD not in row[:i] and BOS not in row[:i]
        else: assert len(row) == 7 and PAD not in row and BOS not in row


def test_greedy_equals_beam_of_one(enc):
    for cfg in (GeneratorConfig(), GeneratorConfig.transformer()):
        gen, b = build_generator(enc, cfg), _batch(enc)
        assert torch.equal(greedy_decode(gen, b, max_len=10), beam_decode(gen, b, beam=1, max_len=10))


def test_training_lowers_loss_and_is_deterministic(enc):
    def run():
        gen = build_generator(enc, seed=1)
        b = _batch(enc, 16)
        alpha = torch.ones(gen.vocab_size)
        first = weighted_nll(gen.eval()(b), b['response_tokens'][:, 1:], alpha)[0].item()
        hist = train_generator(gen, enc, ConverseConfig(epochs=1, batch_size=32, seed=1))
        last = weighted_nll(gen.eval()(b), b['response_tokens'][:, 1:], alpha)[0].item()
        return first, last, hist, greedy_decode(gen, b, max_len=10)
    first, last, hist, out = run()
    assert last < first
    first2, last2, hist2, out2 = run()
    assert (first, last) == (first2, last2) and torch.equal(out, out2)
    assert [{k: v for k, v in h.items() if k != 'seconds'} for h in hist] == \
           [{k: v for k, v in h.items() if k != 'seconds'} for h in hist2]


def test_target_logp_equals_the_full_mixture_also_without_knowledge(enc):
    "The loss path (copy softmax over knowledge words only) equals reading the target off the (B, T, V) mixture."
    b = _batch(enc)
    bare = dict(b, context_entities_mask=torch.zeros_like(b['context_entities_mask']),
                review_tokens=torch.zeros_like(b['review_tokens']))              # no row has a knowledge word
    targets = b['response_tokens'][:, 1:]
    real = targets != PAD                                                         # padding is not scored
    assert (~real).any()
    for cfg in (GeneratorConfig(), GeneratorConfig.transformer()):
        gen = build_generator(enc, cfg).eval()
        for batch in (b, bare):
            dense = gen(batch).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            sparse = gen.target_logp(batch)
            assert sparse.isfinite().all()
            assert torch.allclose(sparse[real], dense[real], atol=1e-4)

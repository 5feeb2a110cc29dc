"The demo agent: answers (hostile inputs included), stages, run-folder round trip, widget escaping, the chat and demo scripts."
import json, shutil, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from c2crs.core import DataError
from c2crs.data import Turn
from c2crs.demo import (MAX_CHARS, STAGES, CRSAgent, chat, context_batch, demo_ui, load_recommender, quick_run,
                        save_component)
from c2crs.encoders import EncoderConfig
from c2crs.pretrain import PretrainConfig
from c2crs.recommend import RecommendConfig

TINY = EncoderConfig(word_dim=16, kg_dim=16, ffn_dim=32, n_bases=3, proj_dim=8)
BIN = Path(sys.executable).parent
ACTOR = 'Nadia Kowalski'   # an actor of the default MovieWorld (seed 0): entity 320


def tiny_run(out: Path) -> Path:
    "A small trained run folder in c2crs_run's layout (about 20 s on a laptop CPU)."
    return quick_run(out, n_dialogs=150, enc_cfg=TINY, pretrain_cfg=PretrainConfig(coarse_epochs=1, fine_epochs=1),
                     rec_cfg=RecommendConfig(epochs=3, patience=3))


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp('demo') / 'run')


@pytest.fixture(scope='module')
def agent(run):
    return CRSAgent.from_run(run, k=5)


HOSTILE = ['', '   ', 'x' * 100_000, 'qwertyuiop asdfghjkl zxcvbnm', '🍿🎬 ¿qué película? 日本語の映画 مرحبا',
           '<script>alert(1)</script><b>bold</b>', '@999999999999999999999 @-1 @ @@', '\x00\x1b[31m\r\n\t']


@pytest.mark.parametrize('text', HOSTILE, ids=['empty', 'blank', '100k', 'unknown', 'non-ascii', 'html', 'mentions', 'control'])
def test_hostile_input_gets_popular_items(agent, text, recovery):
    with recovery.run('hostile chat input -> CRSAgent.answer'): check_hostile_answer(agent, text)


def check_hostile_answer(agent, text):
    a = agent.answer([text])
    assert [m['rank'] for m in a.movies] == [1, 2, 3, 4, 5]
    assert all(x['score'] >= y['score'] for x, y in zip(a.movies, a.movies[1:]))
    assert a.no_entities and a.entity_attention == [] and a.links == []
    assert isinstance(a.reply, str) and '<item>' not in a.reply
    assert a.movies == agent.answer(['']).movies            # nothing linked: the same item-bias ranking


def test_long_turn_is_cut_to_its_end(agent):
    turns, _ = agent.reader.as_turns(['y' * 100_000 + f' i like {ACTOR}'])
    assert len(turns[0].text) == MAX_CHARS and turns[0].entities == [320]
    batch, _ = context_batch(turns * 50, agent.enc)
    assert batch['context_tokens'].shape[1] <= 256
    a = agent.answer(['z' * 100_000, 'ok', f'{ACTOR} ' * 20_000])
    assert not a.no_entities and a.links[0].label == ACTOR


def test_answer_explains_itself(agent):
    a = agent.answer([f'i loved the velvet island, anything with {ACTOR}? something scary'])
    assert [(l.words, l.entity, l.is_item) for l in a.links] == [('the velvet island', 5, True), ('nadia kowalski', 320, False)]
    assert [e['entity'] for e in a.entity_attention] == [320, 5]
    assert sum(e['weight'] for e in a.entity_attention) == pytest.approx(1, abs=1e-3)
    assert len(a.review_attention) > 0 and sum(r['weight'] for r in a.review_attention) == pytest.approx(1, abs=1e-3)
    if '<item>' in a.reply_tokens: assert agent.title(a.movies[0]['entity']) in a.reply


def test_turn_objects_and_reply_turns(agent):
    first = agent.answer([f'i like {ACTOR}'])
    reply = agent.reply_turn(first)
    assert reply.role == 'recommender'
    bad = Turn('seeker', 'hello', movies=[10**12, -3], entities=[10**12, 'x'])
    a = agent.answer([agent.reader.read(f'i like {ACTOR}')[0], reply, bad])
    assert len(a.movies) == 5


def test_latency(agent):
    history = [f'hi! i like {ACTOR}', 'what mood?', 'something scary ' * 200]
    agent.answer(history)
    times = sorted(agent.answer(history).seconds for _ in range(7))
    print(f'median answer latency: {times[3] * 1000:.0f} ms')
    assert times[3] < 0.5          # about 10-60 ms here; generous for a busy CI machine


def test_stages(agent):
    assert agent.stages == list(STAGES)
    answers = {s: agent.answer([f'i like {ACTOR}'], stage=s) for s in STAGES}
    scores = {s: [m['score'] for m in a.movies] for s, a in answers.items()}
    assert scores['random'] != scores['fine-tuned'] and scores['coarse'] != scores['fine']
    with pytest.raises(ValueError, match='unknown stage'): agent.answer(['hi'], stage='best')


def test_widget_escapes_user_text(agent):
    ui = demo_ui(agent)
    app = ui.app
    app.send('<script>alert(1)</script> <img src=x onerror=alert(2)> & "quotes"')
    page = ''.join(w.value for w in app.out.values())
    assert '<script' not in page and '<img' not in page
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page and '&amp;' in page
    assert app.out['topk'].value.count('<tr>') == 6
    app.text.value = f'i like {ACTOR}'             # Enter in the text box: sent, then cleared
    assert app.text.value == '' and len(app.turns) == 4
    app.stage.value = 'random'
    assert app.answer.stage == 'random' and len(app.turns) == 4
    app.replay(next(iter(app.dialogs)))
    assert app.turns[-1].role == 'recommender' and 'in the dataset' in app.out['transcript'].value
    app.reset()
    assert app.turns == [] and app.out['topk'].value == ''


def test_from_run_round_trip(run, agent, tmp_path):
    again = CRSAgent.from_run(run, k=5)
    history = [f'i like {ACTOR}', 'ok', 'something scary']
    assert again.answer(history).movies == agent.answer(history).movies
    assert again.answer(history).reply == agent.answer(history).reply
    ckpt = torch.load(run / 'checkpoints' / 'recommender.pt', weights_only=True)
    assert ckpt['kind'] == 'recommender' and ckpt['vocab'] == agent.enc.vocab.itos
    assert set(ckpt) >= {'encoder_config', 'config', 'state_dict', 'history'}
    path = save_component(tmp_path / 'rec.pt', 'recommender', agent.recommender, TINY, RecommendConfig(), agent.enc.vocab, [])
    rec = load_recommender(path, agent.enc)
    assert all(torch.equal(v, agent.recommender.state_dict()[k]) for k, v in rec.state_dict().items())


def copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest); return dest


def test_from_run_refuses_another_dataset(run, tmp_path):
    other = copy_run(run, tmp_path / 'other')
    config = json.loads((other / 'config.json').read_text()) | {'n_dialogs': 90}
    (other / 'config.json').write_text(json.dumps(config))
    with pytest.raises(DataError, match='vocabulary'): CRSAgent.from_run(other)


def test_from_run_partial_and_broken_folders(run, tmp_path):
    partial = copy_run(run, tmp_path / 'partial')
    (partial / 'checkpoints' / 'random.pt').unlink(); (partial / 'checkpoints' / 'generator.pt').unlink()
    a = CRSAgent.from_run(partial)
    assert len(a.notes) == 2 and a.stages == list(STAGES)
    assert a.answer(['hi']).reply_tokens == ['how', 'about', '<item>', '?']
    (partial / 'checkpoints' / 'recommender.pt').unlink()
    with pytest.raises(FileNotFoundError, match='recommender.pt'): CRSAgent.from_run(partial)
    with pytest.raises(FileNotFoundError, match='no config.json'): CRSAgent.from_run(tmp_path)
    broken = copy_run(run, tmp_path / 'broken')
    (broken / 'checkpoints' / 'generator.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(DataError, match='generator.pt'): CRSAgent.from_run(broken)
    torch.save({'kind': 'generator', 'vocab': []}, broken / 'checkpoints' / 'generator.pt')
    with pytest.raises(DataError, match='vocabulary'): CRSAgent.from_run(broken)


def test_chat_function(agent):
    said = []
    chat(agent, [f'i like {ACTOR}', '/stage fine', '/stage nonsense', '', '/reset', '/help', '/quit', 'unread'], said.append, k=3)
    assert sum('top-3' in s for s in said) == 2 and '(new conversation)' in said
    assert said[2].startswith("(unknown stage 'nonsense', still: fine") and '(fine)' in said[3]
    assert said[-1].startswith('type as the seeker')


def test_chat_script_piped(run, recovery):
    with recovery.run('hostile chat input -> piped c2crs_chat session'): check_piped_chat(run)


def check_piped_chat(run):
    lines = f'hi! i like {ACTOR}\n/stage coarse\n🍿 <b>hé</b>\n' + 'x' * 100_000 + '\n/reset\nsomething scary\n'   # ends at EOF
    start = time.perf_counter()
    out = subprocess.run([BIN / 'c2crs_chat', '--run_dir', run, '--k', '4'], input=lines, capture_output=True,
                         text=True, encoding='utf-8', timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count('top-4') == 4 and out.stdout.count('agent> ') == 4
    assert 'linked: nadia kowalski -> Nadia Kowalski' in out.stdout and '(new conversation)' in out.stdout
    print(f'c2crs_chat, 4 answers: {time.perf_counter() - start:.1f} s')
    quit = subprocess.run([BIN / 'c2crs_chat', '--run_dir', run], input='/quit\nhello\n', capture_output=True, text=True, timeout=300)
    assert quit.returncode == 0 and 'agent>' not in quit.stdout


def test_scripts_refuse_missing_run_folder(tmp_path):
    for script in ('c2crs_chat', 'c2crs_demo'):
        out = subprocess.run([BIN / script, '--run_dir', tmp_path / 'nope'], capture_output=True, text=True, timeout=120)
        assert out.returncode != 0 and 'run c2crs_run first' in out.stderr and 'Traceback' not in out.stderr


@pytest.mark.parametrize('script,flags', [('c2crs_chat', ('--run_dir', '--stage', '--k')),
                                          ('c2crs_demo', ('--run_dir', '--port', '--no_browser', '--stage'))])
def test_script_help(script, flags):
    out = subprocess.run([BIN / script, '--help'], capture_output=True, text=True, check=True, timeout=120).stdout
    for flag in flags: assert flag in out

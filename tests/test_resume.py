"""Crash safety of pre-training (chapter 06): a `kill -9` mid-epoch or in the middle of writing a checkpoint loses at most
the epoch in flight, the resumed run is bit for bit the run that never stopped, and two same-seed runs are identical.
Every scenario is counted in the session's recovery table (conftest.py), printed at the end of the run."""
import dataclasses, hashlib, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from conftest import TINY
from c2crs.core import DataError, load_checkpoint
from c2crs.data import encode_dataset
from c2crs.learner import Learner
from c2crs.movieworld import MovieWorldConfig, generate_movieworld
from c2crs.pretrain import PretrainConfig, pretrain

# About 8 s uninterrupted on an idle 2-core machine: 173 training contexts, 11 batches per epoch, 3 coarse + 2 fine epochs.
CFG = PretrainConfig(coarse_epochs=3, fine_epochs=2, batch_size=16)


def world():
    "The 150-dialog MovieWorld every run here trains on (generated from its fixed seed, so every process gets the same)."
    return encode_dataset(generate_movieworld(MovieWorldConfig(n_movies=40, n_actors=20, n_directors=8, n_dialogs=150)))


def run(out, resume=False, enc=None):
    "Pre-train the tiny views on `world()` with `CFG`, checkpoints into `out`."
    return pretrain(enc or world(), TINY, CFG, out_dir=out, resume=resume)


# The child process: trains into a folder and, by `mode`, drops a marker at a chosen moment for the parent to kill it.
CHILD = r'''
import hashlib, os, signal, sys, torch
mode, out, tests = sys.argv[1:4]
torch.set_num_threads(1)                     # every child alike: CPU reductions are split per thread
sys.path.insert(0, tests)
from c2crs import pretrain as P
import test_resume as T
enc = T.world()
def mark(name, text=''): open(os.path.join(out, name), 'w').write(text)
if mode == 'mark-mid-epoch':                 # a marker at the 2nd batch of coarse epoch 2; training goes on
    real_loss, calls, per_epoch = P.stage_loss, [0], -(-len(enc.examples['recommend', 'train']) // T.CFG.batch_size)
    def marking_loss(*args):
        calls[0] += 1
        if calls[0] == per_epoch + 2: mark('mid-epoch')
        return real_loss(*args)
    P.stage_loss = marking_loss
if mode == 'hang-in-write':                  # the 7th write of training.pt (after fine epoch 2) stops half-way
    real_fsync, writes = os.fsync, [0]
    def torn_fsync(fd):
        if '.training.pt.' in os.readlink(f'/proc/self/fd/{fd}'):
            writes[0] += 1
            if writes[0] == 7:
                os.ftruncate(fd, os.fstat(fd).st_size // 2)      # as if the kill landed half-way through the bytes
                with open(os.path.join(out, 'training.pt'), 'rb') as f: mark('in-write', hashlib.sha256(f.read()).hexdigest())
                signal.pause()                                   # wait here for the SIGKILL
        return real_fsync(fd)
    os.fsync = torn_fsync
T.run(out, resume=mode == 'resume', enc=enc)             # mode 'plain': the uninterrupted run
'''


def child_args(mode, out):
    "The command line of a child process training into `out` in `mode` ('plain', 'mark-mid-epoch', 'hang-in-write', 'resume')."
    out.mkdir(exist_ok=True)
    return [sys.executable, '-c', CHILD, mode, str(out), str(Path(__file__).parent)]


def child(mode, out, log):
    "Start the child process of `mode`, its stderr (tqdm, tracebacks) appended to `log`."
    with open(log, 'ab') as err: return subprocess.Popen(child_args(mode, out), stdout=subprocess.DEVNULL, stderr=err)


def finish(mode, out, log):
    "Run the child process of `mode` to its end; fail with the tail of its stderr if it fails."
    proc = child(mode, out, log)
    assert proc.wait(timeout=300) == 0, f'child {mode} exited with {proc.returncode}: {Path(log).read_text()[-3000:]}'


def wait_for(marker: Path, proc, log, timeout=150):
    "Wait until the child drops `marker`; fail if it exits first or takes longer than `timeout` s."
    end = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, f'child exited with {proc.returncode}: {Path(log).read_text()[-3000:]}'
        assert time.monotonic() < end, 'child never reached the marker'
        time.sleep(0.02)


def kill_9(proc):
    os.kill(proc.pid, signal.SIGKILL); proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def assert_same_run(out: Path, ref: Path):
    "The run in `out` ended exactly as the uninterrupted one in `ref`: weights bit for bit, history, metrics, held-out vectors."
    a, b = load_checkpoint(out / 'fine.pt')['state_dict'], load_checkpoint(ref / 'fine.pt')['state_dict']
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in b)
    ra, rb = load_checkpoint(out / 'training.pt')['report'], load_checkpoint(ref / 'training.pt')['report']
    assert ra['history'] == rb['history'] and len(rb['history']) == CFG.coarse_epochs + CFG.fine_epochs
    assert ra['metrics'] == rb['metrics'] and set(rb['metrics']) == {'random', 'coarse', 'fine'}
    for stage in rb['vectors']:
        assert all(torch.equal(ra['vectors'][stage]['pooled'][v], rb['vectors'][stage]['pooled'][v]) for v in rb['vectors'][stage]['pooled'])


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """The folder of the uninterrupted run, made by a child process like the runs it is compared with: a fresh process,
    one thread, nothing left behind by the tests that ran before in this one."""
    out = tmp_path_factory.mktemp('reference')
    finish('plain', out, out.parent / 'reference.log')
    return out


def test_kill_9_mid_epoch_then_resume(reference, tmp_path, recovery):
    "SIGKILL inside coarse epoch 2 (epoch 1 saved); a new process resumes and ends exactly where the uninterrupted run did."
    out, log = tmp_path / 'run', tmp_path / 'child.log'
    with recovery.run('kill -9 mid-epoch -> resume'):
        proc = child('mark-mid-epoch', out, log)
        wait_for(out / 'mid-epoch', proc, log)
        kill_9(proc)
        state = load_checkpoint(out / 'training.pt')
        assert (state['stage'], state['epoch'], state['measured']) == ('coarse', 1, False)   # killed inside epoch 2
        assert not (out / 'fine.pt').exists()
        finish('resume', out, log)
        assert_same_run(out, reference)


def test_kill_during_checkpoint_write_keeps_the_previous_one(reference, tmp_path, recovery):
    """SIGKILL while `training.pt` is being rewritten (half its bytes in the temporary file): the previous state is
    untouched and loads, the torn temporary file is never read as a checkpoint, and resuming from it ends exactly as
    the uninterrupted run."""
    out, log = tmp_path / 'run', tmp_path / 'child.log'
    with recovery.run('kill -9 during checkpoint write -> resume'):
        proc = child('hang-in-write', out, log)
        wait_for(out / 'in-write', proc, log)
        kill_9(proc)
        before = (out / 'in-write').read_text()
        assert hashlib.sha256((out / 'training.pt').read_bytes()).hexdigest() == before       # byte for byte as before
        state = load_checkpoint(out / 'training.pt')
        assert (state['stage'], state['epoch'], len(state['report']['history'])) == ('fine', 1, 4)
        torn = list(out.glob('.training.pt.*.tmp'))                                           # left by the kill
        assert len(torn) == 1 and sorted(p.name for p in out.glob('*.pt')) == ['coarse.pt', 'random.pt', 'training.pt']
        with pytest.raises(DataError, match='not a plain-data checkpoint'): load_checkpoint(torn[0])
        finish('resume', out, log)
        assert_same_run(out, reference)


def test_same_seed_same_run(tmp_path, recovery):
    """Two same-seed runs in one process give identical metrics, history and weights (bit for bit), with or without
    checkpoints; the two kill tests above check the same across processes.

    What makes this hold: the batch order of epoch e comes from its own NumPy generator seeded by `seed * 1000 + e`
    (`data.batches`); initialisation and dropout draw from torch's generator, seeded by `set_seed` (torch.manual_seed);
    `set_seed` also calls torch.use_deterministic_algorithms, which matters on GPUs, where the scatter/index_add sums of
    the R-GCN (torch_geometric `scatter`) and the embedding backward would otherwise add in a racy order (on the CPU
    these kernels are deterministic for a fixed thread count, hence every child above runs on one thread); and batches
    are built in the main process (no DataLoader workers), so nothing depends on worker timing. The same property for
    default-size encoders is `test_pretrain.test_same_seed_same_numbers`, for the whole pipeline
    `test_cli.test_same_seed_same_metrics`."""
    with recovery.run('same-seed determinism (CPU)'):
        enc = world()
        ref_views, ref_report = run(tmp_path, enc=enc)
        views, report = pretrain(enc, TINY, CFG)                  # no out_dir: saving must not change the numbers
        assert torch.are_deterministic_algorithms_enabled()
        assert report.history == ref_report.history and report.metrics == ref_report.metrics
        ref_state = ref_views.state_dict()
        assert all(torch.equal(v, ref_state[k]) for k, v in views.state_dict().items())


def test_resume_with_other_settings_is_refused(reference, recovery):
    "A resume with another config is a DataError naming what differs, before anything is trained or written."
    out = reference
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with recovery.run('resume with other settings -> refused'):
        with pytest.raises(DataError, match=r'training.pt: settings: .*pretrain_config.lr: saved 0.001, now 0.01'):
            pretrain(world(), TINY, dataclasses.replace(CFG, lr=0.01), out_dir=out, resume=True)
        assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamp


def test_resume_keeps_the_epoch_selected_on_dev(tmp_path, monkeypatch):
    "A run that selects its epoch on dev and crashes in the fine stage resumes to the same kept epoch and weights."
    enc, cfg = world(), dataclasses.replace(CFG, select='dev')
    whole_views, whole = pretrain(enc, TINY, cfg, out_dir=tmp_path / 'whole', eval_split='dev')
    real_epoch = Learner.one_epoch
    def crashing_epoch(learn, epoch):
        if (learn.info['stage'], epoch) == ('fine', 1): raise KeyboardInterrupt('crash in fine epoch 2')
        return real_epoch(learn, epoch)
    monkeypatch.setattr(Learner, 'one_epoch', crashing_epoch)
    with pytest.raises(KeyboardInterrupt): pretrain(enc, TINY, cfg, out_dir=tmp_path / 'cut', eval_split='dev')
    monkeypatch.setattr(Learner, 'one_epoch', real_epoch)
    views, resumed = pretrain(enc, TINY, cfg, out_dir=tmp_path / 'cut', eval_split='dev', resume=True)
    assert resumed.selected == whole.selected
    assert all(torch.equal(whole_views.state_dict()[k], v) for k, v in views.state_dict().items())
    assert all(torch.equal(resumed.selected_state[k], v) for k, v in views.state_dict().items())

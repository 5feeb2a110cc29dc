import pytest

from c2crs.core import shared_data_dir


@pytest.fixture(scope='session')
def redial_dir():
    "The ReDial-small folder, or skip the test when it is absent."
    data = shared_data_dir()
    if data is None or not (data / 'redial').is_dir():
        pytest.skip("../shared/data/redial is missing: real-data tests need the ReDial-small folder beside the project")
    return data / 'redial'


# A tiny MovieWorld and tiny encoders, shared by the unit tests of the model chapters.
from c2crs.encoders import EncoderConfig

TINY = EncoderConfig(word_dim=16, kg_dim=16, ffn_dim=32, n_bases=3, proj_dim=8)


@pytest.fixture(scope='session')
def tiny_world():
    "A 60-dialog MovieWorld and its encoding."
    from c2crs.core import set_seed
    from c2crs.data import encode_dataset
    from c2crs.movieworld import MovieWorldConfig, generate_movieworld
    set_seed(0)
    ds = generate_movieworld(MovieWorldConfig(n_movies=40, n_actors=20, n_directors=8, n_dialogs=60))
    return ds, encode_dataset(ds)


# Reliability figures: fuzz and malicious-input tests count the cases they try per loader, and the
# end of the run prints them. A failing case fails its test, so a green run shows failures 0.
import contextlib
from collections import Counter

RELIABILITY: dict[str, Counter] = {}   # loader -> Counter(cases, loaded, refused, failures)


@contextlib.contextmanager
def counted(table: dict, key: str, unit: str):
    "Count one `unit` of `table[key]`, and a failure if the body raises; yields the row's updater."
    row = table.setdefault(key, Counter())
    row[unit] += 1
    try: yield lambda what: row.update([what])
    except BaseException:
        row['failures'] += 1
        raise


class ReliabilityLog:
    "Counts cases per loader: `with log.case('loader') as outcome: ...; outcome('loaded' or 'refused')`."
    def case(self, loader: str): return counted(RELIABILITY, loader, 'cases')

    def cases(self, loader: str) -> int: return RELIABILITY.get(loader, Counter())['cases']


@pytest.fixture(scope='session')
def reliability():
    "The session's `ReliabilityLog`."
    return ReliabilityLog()


# Crash-recovery and determinism figures (tests/test_resume.py): runs per scenario; a failing run fails its test.
RECOVERY: dict[str, Counter] = {}   # scenario -> Counter(runs, failures)


class RecoveryLog:
    "Counts runs per scenario: `with log.run('kill -9 mid-epoch -> resume'): ...`."
    def run(self, scenario: str): return counted(RECOVERY, scenario, 'runs')


@pytest.fixture(scope='session')
def recovery():
    "The session's `RecoveryLog`."
    return RecoveryLog()


def recovery_summary(terminalreporter):
    width = max(len('scenario'), *map(len, RECOVERY))
    terminalreporter.section('reliability: hostile chat input, crash recovery and determinism')
    terminalreporter.write_line(f"{'scenario':<{width}} | {'runs':>8} | {'failures':>8}")
    for scenario, row in RECOVERY.items():
        terminalreporter.write_line(f"{scenario:<{width}} | {row['runs']:>8} | {row['failures']:>8}")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if RECOVERY: recovery_summary(terminalreporter)
    if not RELIABILITY: return
    cols = ('cases', 'loaded', 'refused', 'failures')
    width = max(len('loader'), *map(len, RELIABILITY))
    terminalreporter.section('reliability')
    terminalreporter.write_line(' | '.join([f"{'loader':<{width}}", *(f'{c:>8}' for c in cols)]))
    total = Counter()
    for loader, row in sorted(RELIABILITY.items()):
        total.update(row)
        terminalreporter.write_line(' | '.join([f'{loader:<{width}}', *(f'{row[c]:>8}' for c in cols)]))
    terminalreporter.write_line(' | '.join([f"{'total':<{width}}", *(f'{total[c]:>8}' for c in cols)]))

"The README's quick start: two commands, and the checks the test command makes."
import importlib.util, re, subprocess, sys

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('quickstart', ROOT / 'quickstart.py')
quickstart = importlib.util.module_from_spec(spec); spec.loader.exec_module(quickstart)


def test_readme_quick_start_is_exactly_two_commands():
    readme = (ROOT / 'README.md').read_text()
    block = re.search(r'## Quick start.*?```sh\n(.*?)```', readme, re.S).group(1)
    commands = [l.split('#')[0].strip() for l in block.splitlines() if l.strip()]
    assert commands == ['python3 quickstart.py run', 'python3 quickstart.py test']


def test_ci_calls_the_readme_test_command():
    assert 'python3 quickstart.py test' in (ROOT / '.ci' / 'run').read_text()


def test_readme_is_rendered_from_index(tmp_path):
    out = tmp_path / 'README.md'
    quickstart.render_readme(out)
    assert out.read_text() == (ROOT / 'README.md').read_text()


def test_install_is_skipped_when_settings_unchanged():
    if Path(sys.prefix).resolve() != quickstart.VENV.resolve(): pytest.skip("runs only inside the .venv that quickstart.py made")
    fingerprint = quickstart.install_fingerprint()
    assert fingerprint == quickstart.install_fingerprint()
    assert quickstart.STAMP.read_text() == fingerprint  # this test runs inside the installed .venv


def test_unknown_command_prints_usage():
    r = subprocess.run([sys.executable, ROOT / 'quickstart.py', 'frobnicate'], capture_output=True, text=True)
    assert r.returncode != 0 and 'python3 quickstart.py run' in r.stderr


def test_library_snapshot_covers_every_module():
    names = set(quickstart.library_snapshot())
    assert {'c2crs/core.py', 'c2crs/data.py', 'c2crs/movieworld.py', 'c2crs/cli.py'} <= names

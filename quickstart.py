#!/usr/bin/env python3
"""The two quick-start commands, with nothing but Python 3.10+ needed beforehand.

    python3 quickstart.py run    # install (once) and run the whole pipeline on MovieWorld
    python3 quickstart.py test   # install (once) and run every test

Installation goes into `.venv/` beside this file: the CPU build of torch first (plain `torch`
pulls a multi-GB CUDA build), then this package with its dev extras. It is redone only when
`settings.ini` or `setup.py` change, so running a command again is fast.
Extra arguments after `run` go to `c2crs_run` (try `python3 quickstart.py run --help`).
"""
import hashlib, os, subprocess, sys, tempfile, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / '.venv'
BIN = VENV / ('Scripts' if os.name == 'nt' else 'bin')
STAMP = VENV / '.c2crs-installed'
TORCH = os.environ.get('C2CRS_TORCH', 'torch==2.13.0')  # the CPU build on the project's machines


def sh(*args, **kw):
    "Run a command from the project root; stop with its exit code if it fails."
    print('$', ' '.join(map(str, args)), flush=True)
    rc = subprocess.call([str(a) for a in args], cwd=ROOT, **kw)
    if rc: sys.exit(rc)


def install_fingerprint():
    files = ('settings.ini', 'setup.py')
    return hashlib.sha256(b''.join((ROOT / f).read_bytes() for f in files) + TORCH.encode()).hexdigest()


def ensure_installed():
    "Create `.venv` and install torch (CPU) then `c2crs[dev]`, unless already done for these settings."
    if STAMP.exists() and STAMP.read_text() == install_fingerprint(): return
    if not (BIN / 'python').exists(): venv.create(VENV, with_pip=True)
    pip = [BIN / 'python', '-m', 'pip', 'install', '--disable-pip-version-check', '-q']
    sh(*pip, TORCH)
    sh(*pip, '-e', '.[dev]')
    STAMP.write_text(install_fingerprint())


def library_snapshot():
    return {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / 'c2crs').rglob('*.py')}


def check_library_in_sync():
    "Fail if `nbdev_export` changes `c2crs/`: the library must be exactly what the notebooks say."
    before = library_snapshot()
    sh(BIN / 'nbdev_export')
    after = library_snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        sys.exit('c2crs/ was not what nbs/ exports; nbdev_export rewrote: ' + ', '.join(changed)
                 + '\nCommit the exported files (and never edit c2crs/ by hand).')
    print('c2crs/ is in sync with nbs/')


def check_readme_in_sync():
    "Fail if README.md is not what `nbs/index.ipynb` renders to."
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 'README.md'
        sh(BIN / 'python', ROOT / 'quickstart.py', 'readme', out)
        if out.read_text() != (ROOT / 'README.md').read_text():
            sys.exit('README.md is out of date: run `python3 quickstart.py readme` and commit it.')
    print('README.md is in sync with nbs/index.ipynb')


def render_readme(dest):
    "Render `nbs/index.ipynb` to markdown, honouring `#| hide` and `#| echo: false`, dropping other `#|` lines."
    import nbformat
    from nbconvert import MarkdownExporter
    from traitlets.config import Config
    nb = nbformat.read(ROOT / 'nbs' / 'index.ipynb', as_version=4)
    cells = []
    for cell in nb.cells:
        directives = {l.replace(' ', '') for l in cell.source.splitlines() if l.startswith('#|')}
        if '#|hide' in directives: continue
        if '#|echo:false' in directives: cell.metadata['tags'] = ['remove_input']
        cell.source = '\n'.join(l for l in cell.source.splitlines() if not l.startswith('#|')).strip()
        cells.append(cell)
    nb.cells = cells
    nb.metadata['language_info'] = {'name': 'python'}      # code blocks as ```python
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    body, _ = MarkdownExporter(config=config).from_notebook_node(nb)
    Path(dest).write_text(body.strip() + '\n')


def run_tests():
    check_library_in_sync()
    check_readme_in_sync()
    sh(BIN / 'nbdev_test', '--do_print', '--timing')
    rc = subprocess.call([str(BIN / 'python'), '-m', 'pytest', 'tests', '-q', '-rs'], cwd=ROOT)
    if rc == 5: sys.exit('pytest collected no tests')
    if rc: sys.exit(rc)


def main(argv):
    cmd, rest = (argv[0], argv[1:]) if argv else ('help', [])
    if cmd == 'readme':
        if Path(sys.prefix).resolve() == VENV.resolve(): return render_readme(rest[0] if rest else ROOT / 'README.md')
        ensure_installed()
        return sh(BIN / 'python', ROOT / 'quickstart.py', 'readme', *rest)
    if cmd not in ('run', 'test', 'install'): sys.exit(__doc__)
    ensure_installed()
    if cmd == 'run': sh(BIN / 'c2crs_run', *rest)
    if cmd == 'test': run_tests()


if __name__ == '__main__': main(sys.argv[1:])

import functools
import http.server
import threading

import pytest

from c2crs.core import DataError
from c2crs.redial import REDIAL_SMALL_FILES, download, fetch_redial_small, load_kgsf_kg, sha256_file


@pytest.fixture
def server(redial_dir):
    "An HTTP server on 127.0.0.1 serving the shared data folder; yields (base url, list of requested paths)."
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            return super().do_GET()
        def log_message(self, *args): pass

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(redial_dir.parent)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}/redial', requests
    finally:
        httpd.shutdown(); httpd.server_close(); thread.join(5)


def test_fetch_redial_small(server, tmp_path):
    base, requests = server
    dest = fetch_redial_small(base, tmp_path / 'mirror')
    assert {str(p.relative_to(dest)): sha256_file(p) for p in dest.rglob('*') if p.is_file()} == REDIAL_SMALL_FILES
    assert len(requests) == len(REDIAL_SMALL_FILES)
    kg = load_kgsf_kg(dest / 'kg')
    assert (kg.n_entities, kg.n_items) == (64362, 6924)
    fetch_redial_small(base, dest)   # everything cached: no new request
    assert len(requests) == len(REDIAL_SMALL_FILES)


def test_fetched_folder_loads(server, tmp_path):
    import warnings
    from c2crs.redial import load_redial_small
    dest = fetch_redial_small(server[0], tmp_path / 'mirror')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ds = load_redial_small(dest)
    assert [len(ds.splits[s]) for s in ('train', 'dev', 'test')] == [811, 90, 1342]


def test_wrong_sha256_raises_and_leaves_nothing(server, tmp_path):
    base, requests = server
    url, wrong = f'{base}/kg/movie_ids.pkl', '0' * 64
    with pytest.raises(DataError) as err:
        download(url, tmp_path / 'dl', wrong)
    msg = str(err.value)
    assert url in msg and wrong in msg and REDIAL_SMALL_FILES['kg/movie_ids.pkl'] in msg
    assert list((tmp_path / 'dl').iterdir()) == []


def test_cached_file_is_not_downloaded_twice(server, tmp_path):
    base, requests = server
    url, digest = f'{base}/kg/movie_ids.pkl', REDIAL_SMALL_FILES['kg/movie_ids.pkl']
    first = download(url, tmp_path / 'dl', digest)
    second = download(url, tmp_path / 'dl', digest)
    assert first == second and sha256_file(first) == digest
    assert requests.count('/redial/kg/movie_ids.pkl') == 1
    first.write_bytes(b'corrupted')   # a damaged cache is fetched again
    download(url, tmp_path / 'dl', digest)
    assert requests.count('/redial/kg/movie_ids.pkl') == 2 and sha256_file(first) == digest


def test_default_cache_dir_from_env(monkeypatch, tmp_path):
    from c2crs.redial import cache_dir
    monkeypatch.setenv('C2CRS_CACHE', str(tmp_path / 'cache'))
    assert cache_dir() == tmp_path / 'cache'
    src = tmp_path / 'f.txt'; src.write_text('x')
    assert download(src.as_uri()).parent == tmp_path / 'cache'

"""The rating app (chapter 11b) in a real browser, served by `c2crs_study serve`: a scripted rater
rates, skips, reloads and reads the results; then twenty raters in twenty tabs (twenty kernels) rate at
once and no rating is lost. Skips like the demo's browser test when chromium is missing, unless
C2CRS_REQUIRE_BROWSER=1 (CI)."""

import time
from pathlib import Path

import pytest

from test_browser import browser, serve, stop, wait_for  # noqa: F401 (browser is a fixture)
from c2crs.humaneval import CRITERIA, Study, ratings_frame

SYSTEMS = ('transformer', 'c2crs', 'human')


def neutral_contexts(n: int) -> list[dict]:
    "Contexts whose replies say nothing of their system, so the page can be checked for leaks."
    return [
        {
            'dialog': f'd{i}',
            'turns': [
                ['seeker', f'hi! something like movie {i}? <b>bold</b>'],
                ['recommender', 'sure, what genre?'],
            ],
            'replies': {s: f'reply number {k} to context {i}' for k, s in enumerate(SYSTEMS)},
        }
        for i in range(n)
    ]


def serve_study(study: Path, log: Path):
    "`c2crs_study serve` on a free localhost port: (process, url), once the page answers."
    return serve(['c2crs_study', 'serve', '--study', study, '--no_browser'], log)


@pytest.fixture
def served(tmp_path):
    "A served study of 12 contexts, 3 per rater; yields (study path, url)."
    path = tmp_path / 'study.sqlite'
    Study.create(path, neutral_contexts(12), SYSTEMS, per_rater=3)
    proc, url = serve_study(path, tmp_path / 'serve.log')
    try:
        yield path, url
    finally:
        stop(proc)


def css(driver, selector):
    return driver.find_elements('css selector', selector)


def button(driver, label):
    "The visible, enabled button whose text is `label`, or None."
    found = [
        b
        for b in css(driver, 'button')
        if b.text.strip() == label and b.is_displayed() and b.is_enabled()
    ]
    return found[0] if found else None


def rate_page(driver, score_of) -> bool:
    """Press an unpressed score on every reply and criterion of the shown context; True when every
    group has a pressed button (the page shows it back)."""
    complete = True
    for i in range(len(SYSTEMS)):
        for c in CRITERIA:
            group = css(driver, f'.c2crs-reply-{i}.c2crs-{c} button')
            if not group:
                return False
            if not any('mod-active' in b.get_attribute('class') for b in group):
                complete = False
                group[score_of(i, c)].click()
    return complete


def body(driver) -> str:
    return driver.find_element('tag name', 'body').text


def start(driver, url, name):
    driver.get(url)
    box = wait_for(lambda: css(driver, '.widget-text input'), 180, 'the name box')[0]
    box.send_keys(name + '\n')


def test_a_rater_rates_skips_reloads_and_sees_the_results(browser, served, capsys):
    path, url = served
    begin = time.perf_counter()
    start(browser, url, 'Scripted Rater')
    wait_for(lambda: 'Context 1 of 3' in body(browser), 60, 'the first context')
    shown_in = time.perf_counter() - begin
    text = body(browser)
    assert 'Reply A:' in text and 'Reply C:' in text and 'How to rate' in text
    assert '<b>bold</b>' in css(browser, '.c2crs-context')[0].text  # markup shown as text
    assert not any(
        s in ' '.join(e.text for e in css(browser, '.c2crs-reply, .c2crs-context')) for s in SYSTEMS
    )
    for n in (1, 2):
        wait_for(
            lambda: rate_page(browser, lambda i, c: (i + len(c)) % 3), 60, f'context {n} rated'
        )
        wait_for(lambda: button(browser, 'Next'), 30, 'Next enabled').click()
        wait_for(lambda: f'Context {n + 1} of 3' in body(browser), 30, f'context {n + 1}')
    button(browser, 'Skip').click()
    wait_for(lambda: 'All 3 contexts done' in body(browser), 30, 'the end page')
    button(browser, 'Show results (organiser)').click()
    results = wait_for(lambda: css(browser, 'pre.c2crs-results'), 60, 'the results')[0].text
    assert (
        'study.sqlite: 12 ratings by 1 raters of 2 contexts' in results
        and "Krippendorff's alpha" in results
    )
    study = Study(path)
    ratings = ratings_frame(study)
    assert len(ratings) == 12 and set(ratings.context) == set(
        study.contexts_of('Scripted Rater')[:2]
    )
    assert study.db.execute('SELECT COUNT(*) FROM skips').fetchone()[0] == 1
    # a reload resumes at the end, and nothing was counted twice
    start(browser, url, 'Scripted Rater')
    wait_for(lambda: 'All 3 contexts done' in body(browser), 60, 'the resumed end page')
    assert len(ratings_frame(Study(path))) == 12
    with capsys.disabled():
        print(f'\nfirst context shown {shown_in:.1f} s after opening the page')


def test_twenty_raters_at_once_lose_no_rating(browser, tmp_path, capsys):
    "20 tabs, each its own Voila kernel, rate 2 contexts each, interleaved; bounded at 7 minutes."
    n_raters, per_rater = 20, 2
    path = tmp_path / 'study.sqlite'
    Study.create(path, neutral_contexts(40), SYSTEMS, per_rater=per_rater)
    proc, url = serve_study(path, tmp_path / 'serve.log')
    try:
        begin = time.perf_counter()
        first = browser.current_window_handle
        for _ in range(n_raters):
            browser.execute_script('window.open(arguments[0])', url)  # load concurrently
        tabs = [h for h in browser.window_handles if h != first]
        assert len(tabs) == n_raters
        state = {t: 'loading' for t in tabs}

        def step():
            for r, tab in enumerate(tabs):
                if state[tab] == 'done':
                    continue
                browser.switch_to.window(tab)
                if state[tab] == 'loading' and (box := css(browser, '.widget-text input')):
                    box[0].send_keys(f'rater {r}\n')
                    state[tab] = 'rating'
                elif state[tab] == 'rating':
                    if f'All {per_rater} contexts done' in body(browser):
                        state[tab] = 'done'
                    elif rate_page(browser, lambda i, c: (r + i) % 3) and (
                        b := button(browser, 'Next')
                    ):
                        b.click()
            return all(s == 'done' for s in state.values())

        wait_for(step, 420, 'twenty raters to finish', every=0.2)
        seconds = time.perf_counter() - begin
    finally:
        stop(proc)
    study = Study(path)
    ratings = ratings_frame(study)
    assert len(ratings) == n_raters * per_rater * len(SYSTEMS) * len(CRITERIA)
    assert sorted(study.slot(f'rater {r}') for r in range(n_raters)) == list(range(n_raters))
    for r in range(n_raters):
        mine = ratings[ratings.rater == f'rater {r}']
        assert set(mine.context) == set(study.contexts_of(f'rater {r}'))
    with capsys.disabled():
        print(f'\n{n_raters} raters rated {len(ratings)} scores in {seconds:.0f} s')

"MovieWorld: seeded, leak-free splits, and views that carry signal."
from c2crs.movieworld import MovieWorldConfig, generate_movieworld, view_signal_probe


def test_movieworld_is_seeded():
    cfg = MovieWorldConfig(n_dialogs=300, seed=5)
    a, b = generate_movieworld(cfg), generate_movieworld(cfg)
    assert a.splits == b.splits and a.reviews == b.reviews
    assert bool((a.kg.edge_index == b.kg.edge_index).all())
    c = generate_movieworld(MovieWorldConfig(n_dialogs=300, seed=6))
    assert c.splits != a.splits


def test_targets_are_items_and_mentions_are_annotated():
    ds = generate_movieworld(MovieWorldConfig(n_dialogs=200))
    items = set(ds.kg.item_ids.tolist())
    for d in ds.dialogs():
        assert d.turns[-1].role in ('seeker', 'recommender') and len(d.turns) >= 5
        for t in d.turns:
            assert set(t.movies) <= items and t.text.count('@') == len(t.movies)


def test_only_the_reviews_carry_the_taste_on_test_split():
    ds = generate_movieworld()
    probe, chance = view_signal_probe(ds), 10 / ds.kg.n_items
    assert probe['conversation only']['R@10'] < 2 * chance and probe['+ KG']['R@10'] < 2 * chance
    assert probe['+ KG + reviews']['R@10'] > 3 * probe['+ KG']['R@10']


def test_targets_share_the_hooks_mood_and_moods_live_only_in_reviews():
    ds = generate_movieworld(MovieWorldConfig(n_dialogs=200))
    for d in ds.dialogs():
        hook, target = d.turns[2].movies[0], d.turns[3].movies[0]
        assert hook != target and ds.moods[hook] == ds.moods[target]
    assert not {m for m in ds.moods} & {w.lower() for w in ds.kg.entity_labels}   # no mood is a KG entity

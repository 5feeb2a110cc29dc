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

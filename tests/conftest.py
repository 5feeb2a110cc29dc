import pytest

from c2crs.core import shared_data_dir


@pytest.fixture(scope='session')
def redial_dir():
    "The ReDial-small folder, or skip the test when it is absent."
    data = shared_data_dir()
    if data is None or not (data / 'redial').is_dir():
        pytest.skip("../shared/data/redial is missing: real-data tests need the ReDial-small folder beside the project")
    return data / 'redial'

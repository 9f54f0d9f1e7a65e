import pytest

from support import sla


@pytest.fixture
def default_policy():
    """The default SLA policy as migration 0004 seeds it. A transactional test elsewhere in
    the run empties every table (Django's flush), the seed included; tests that read the
    policy table itself get it back first."""
    return sla.seeded_default()

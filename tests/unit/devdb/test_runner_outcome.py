"""What a program-code migration run that failed says: a migration that failed is the user's to
fix; a service the project's code could not reach as it migrated (paperless-ngx invalidates its
cache in Redis on every write: "Error 111 connecting to localhost:6379. Connection refused.") is
not the migration's fault, and the line says to start it."""

import pytest

from flux_agent.devdb.runners._python import outcome
from flux_agent.errors import FluxInputError


@pytest.mark.parametrize("message, says", [
    ("migration socialaccount.0006_alter_socialaccount_extra_data failed: ConnectionError: Error 111 connecting "
     "to localhost:6379. Connection refused.", "could not reach a service it needs"),
    ("migration shop.0002 failed: connect ECONNREFUSED 127.0.0.1:6379", "could not reach a service it needs"),
    ("migration shop.0002 failed: IntegrityError: duplicate key value", "fix the migration"),
])
def test_a_failed_run_says_whose_to_mend(message, says):
    with pytest.raises(FluxInputError) as err:
        outcome({"status": "failed", "message": message, "python": "python"}, "Django")
    assert says in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)

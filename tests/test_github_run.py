"""``--scenario github`` end to end against a GitHub endpoint judged by
``githubkit`` only (tests/receivers/github_receiver.py): ``webhooks.verify``
and every payload validated into githubkit's typed model of its event and
action. One run (a 1 s load, a grace that lets nothing be cut) carries
duplicates, reordering and the receiver's first 500s sent again: 0 rejected,
the counts agree. GitHub retries nothing, so under the scenario's ``github``
policy ``--retries`` plays the redeliveries its docs tell a hook's owner to ask
for (every 6 h, hurried here), each with the same ``X-GitHub-Delivery``. This
file's cost is githubkit's models, built once (~7 s of CPU; pull_request's union
alone ~5 s): no smaller githubkit check exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.receivers.github_receiver import GithubReceiver, models
from tests.receivers.loopback import (
    Rejected,
    assert_counts_agree,
    faulted_run,
    signed_samples,
)

SECRET = "It's a Secret to Everybody"  # GitHub's docs' example secret
TYPES = {
    "push": ("push", "started"),
    "pull_request.opened": ("pull_request", "started"),
    "pull_request.synchronize": ("pull_request", "synchronize"),
    "pull_request.closed.merged": ("pull_request", "merged"),
    "pull_request.closed": ("pull_request", "unmerged"),
    "issues.opened": ("issues", "started"),
    "issues.closed": ("issues", "closed"),
}


def test_a_run_with_faults_and_retries_is_all_accepted_by_githubkit(tmp_path: Path) -> None:
    models()
    receiver = GithubReceiver(secret=SECRET, fail_first=2, fail_types=frozenset({"push"}))
    doc = faulted_run(receiver, "github", [SECRET], tmp_path / "s.json")
    assert_counts_agree(receiver, doc, TYPES)
    # the 500s were sent again as redeliveries (counted as retries) on GitHub's policy
    provider = doc["provider"]
    assert provider["policy"] == "github" and provider["retry_schedule_s"] == []
    assert provider["redelivery_schedule_s"] == [6 * 3600.0] * 12


def test_every_sample_journey_passes_and_a_wrong_secret_is_rejected() -> None:
    """Every event of 40 sample journeys, signed as a run signs it, passes
    githubkit; signed with another secret, it is refused."""
    models()
    receiver = GithubReceiver(secret=SECRET)
    url = "http://127.0.0.1:8080"
    types = {receiver.check(h, b)[1] for h, b in signed_samples("github", 40, url, SECRET)}
    assert types == set(TYPES)
    for headers, body in signed_samples("github", 2, url, "not the secret"):
        with pytest.raises(Rejected, match="X-Hub-Signature-256"):
            receiver.check(headers, body)

"""Independent review rounds: answers written by reviewers who saw only
``release/``, graded for real by ``python -m tests.reviews`` (see
:mod:`tests.reviews.rates`)."""

"""SQLModel families, a module an entity: its table model plus the API shapes around it.

Import a model from the module that defines it (`experiments.models.experiment`, ...).
Importing this package loads every module, so `SQLModel.metadata` knows every table.
"""

from experiments.models import (  # noqa: F401  (each module registers its tables)
    api_key,
    audit,
    bandit,
    event,
    experiment,
    holdout,
    metric,
    page_session,
    pasted_counts,
    snapshot,
    user,
    webhook,
)

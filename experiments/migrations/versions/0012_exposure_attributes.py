"""Segments: what an exposure says about its unit, and what an experiment breaks results down by.

`exposures.attributes` holds the unit's values of the experiment's dimensions when the exposure
was sent (JSON object; NULL: none, and every exposure stored before). `experiments.dimensions`
lists the attribute names an experiment keeps with its exposures (JSON array of at most 5 names;
`[]` for every experiment defined before). Created 2026-12-05.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional, required

revision, down_revision = "0012_exposure_attributes", "0011_metric_facts"


def upgrade() -> None:
    op.add_column("exposures", optional("attributes", sa.JSON()))
    op.add_column("experiments", required("dimensions", sa.JSON(), server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("experiments") as experiments:
        experiments.drop_column("dimensions")
    with op.batch_alter_table("exposures") as exposures:
        exposures.drop_column("attributes")

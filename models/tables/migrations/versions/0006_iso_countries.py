"""Warehouses and orders hold assigned ISO 3166-1 alpha-2 country codes only

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The codes assigned when this revision was written; a code ISO assigns later needs a
# revision of its own, as it needs an entry in models/domain/countries.py.
_ASSIGNED = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
    JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ASSIGNED = sorted(_ASSIGNED.split())
CODES = ", ".join(f"'{code}'" for code in ASSIGNED)
CHECKS = {
    "warehouse": ("country", "ck_warehouse_country_iso_3166"),
    "order": ("ship_country", "ck_order_ship_country_iso_3166"),
}


def _refuse_unknown_codes() -> None:
    # Guessing what `UK` or `XX` meant is not a migration's job: the operator corrects the
    # rows (PATCH /admin/warehouses/<code> {"country": ...}) and runs it again.
    found = []
    for table, (column, _) in CHECKS.items():
        country = sa.table(table, sa.column(column)).c[column]
        rows = op.get_bind().execute(
            sa.select(country, sa.func.count())
            .where(country.not_in(ASSIGNED))
            .group_by(country)
            .order_by(country)
        )
        found += [f"{table}.{column} = {code!r} ({count} rows)" for code, count in rows]
    if found:
        raise RuntimeError(
            "correct these country codes to ISO 3166-1 alpha-2 first: " + "; ".join(found)
        )


def upgrade() -> None:
    _refuse_unknown_codes()
    for table, (column, name) in CHECKS.items():
        op.create_check_constraint(op.f(name), table, f"{column} IN ({CODES})")


def downgrade() -> None:
    for table, (_, name) in CHECKS.items():
        op.drop_constraint(op.f(name), table, type_="check")

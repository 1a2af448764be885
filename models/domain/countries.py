"""ISO 3166-1 alpha-2 country codes: the one list, and the one way to read a code from input."""

from __future__ import annotations

# As assigned (249 codes); inlined because the domain uses only the standard library.
# `UK`, `EU`, `EL`, `XK` and the user-assigned codes such as `XX` are deliberately absent:
# no carrier routes to them and no postal data is filed under them.
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
ISO_COUNTRIES = frozenset(_ASSIGNED.split())

COUNTRY_REASON = "must be an ISO 3166-1 alpha-2 country code like US or SE (GB, not UK)"


def country_code(text: str) -> str:
    """`text` trimmed and upper-cased if it is an assigned code; ValueError saying so if not."""
    code = text.strip()
    # Unicode upper-casing maps long s (U+017F) onto `S` and dotless i (U+0131) onto `I`,
    # so only ASCII input may be upper-cased into a code.
    if code.isascii():
        code = code.upper()
    if code not in ISO_COUNTRIES:
        raise ValueError(COUNTRY_REASON)
    return code

"""Country names as identity providers write them (Okta, MaxMind English names) -> ISO 3166-1 alpha-2.

Okta's ``client.geographicalContext.country`` is an English name ("United States"), while the
canonical ``country`` column holds alpha-2 codes like Entra's ``countryOrRegion``. The table
is turned into one DuckDB MAP literal (macro ``vigil_country``), looked up per record in SQL.
"""
from __future__ import annotations

from vigil.store import literal

_TABLE = """
AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania|AM Armenia
AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria|AU Australia|AW Aruba|AX Aland Islands
AZ Azerbaijan|BA Bosnia and Herzegovina|BB Barbados|BD Bangladesh|BE Belgium|BF Burkina Faso|BG Bulgaria
BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthelemy|BM Bermuda|BN Brunei|BO Bolivia|BQ Bonaire, Sint Eustatius and Saba
BR Brazil|BS Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada
CC Cocos (Keeling) Islands|CD Congo (Kinshasa)|CF Central African Republic|CG Congo (Brazzaville)|CH Switzerland
CI Ivory Coast|CK Cook Islands|CL Chile|CM Cameroon|CN China|CO Colombia|CR Costa Rica|CU Cuba|CV Cape Verde
CW Curacao|CX Christmas Island|CY Cyprus|CZ Czechia|DE Germany|DJ Djibouti|DK Denmark|DM Dominica
DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia
FI Finland|FJ Fiji|FK Falkland Islands|FM Micronesia|FO Faroe Islands|FR France|GA Gabon|GB United Kingdom
GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|GM Gambia|GN Guinea
GP Guadeloupe|GQ Equatorial Guinea|GR Greece|GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam
GW Guinea-Bissau|GY Guyana|HK Hong Kong|HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti
HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India|IO British Indian Ocean Territory|IQ Iraq
IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica|JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia
KI Kiribati|KM Comoros|KN Saint Kitts and Nevis|KP North Korea|KR South Korea|KW Kuwait|KY Cayman Islands
KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania
LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco|MD Moldova|ME Montenegro|MF Saint Martin|MG Madagascar
MH Marshall Islands|MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia|MO Macao|MP Northern Mariana Islands
MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico|MY Malaysia
MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua|NL Netherlands
NO Norway|NP Nepal|NR Nauru|NU Niue|NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia
PG Papua New Guinea|PH Philippines|PK Pakistan|PL Poland|PM Saint Pierre and Miquelon|PN Pitcairn
PR Puerto Rico|PS Palestine|PT Portugal|PW Palau|PY Paraguay|QA Qatar|RE Reunion|RO Romania|RS Serbia
RU Russia|RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden|SG Singapore
SH Saint Helena|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia|SL Sierra Leone|SM San Marino|SN Senegal
SO Somalia|SR Suriname|SS South Sudan|ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten|SY Syria
SZ Eswatini|TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand
TJ Tajikistan|TK Tokelau|TL Timor-Leste|TM Turkmenistan|TN Tunisia|TO Tonga|TR Turkey|TT Trinidad and Tobago
TV Tuvalu|TW Taiwan|TZ Tanzania|UA Ukraine|UG Uganda|UM United States Minor Outlying Islands|US United States
UY Uruguay|UZ Uzbekistan|VA Vatican City|VC Saint Vincent and the Grenadines|VE Venezuela
VG British Virgin Islands|VI U.S. Virgin Islands|VN Vietnam|VU Vanuatu|WF Wallis and Futuna|WS Samoa
XK Kosovo|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe
"""

# Other spellings seen in IdP and GeoIP databases (ISO short names, MaxMind, Okta, Google).
_ALIASES = {
    "united states of america": "US", "usa": "US", "u.s.": "US", "great britain": "GB", "uk": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "united kingdom of great britain and northern ireland": "GB", "russian federation": "RU",
    "republic of korea": "KR", "korea, republic of": "KR", "korea": "KR",
    "democratic people's republic of korea": "KP", "czech republic": "CZ", "viet nam": "VN",
    "iran, islamic republic of": "IR", "republic of moldova": "MD", "moldova, republic of": "MD",
    "the netherlands": "NL", "holland": "NL", "cote d'ivoire": "CI", "côte d'ivoire": "CI",
    "åland islands": "AX", "saint barthélemy": "BL", "curaçao": "CW", "réunion": "RE",
    "são tomé and príncipe": "ST", "macau": "MO", "hong kong sar": "HK", "taiwan, province of china": "TW",
    "republic of the congo": "CG", "congo": "CG", "democratic republic of the congo": "CD",
    "dr congo": "CD", "congo, the democratic republic of the": "CD", "swaziland": "SZ", "macedonia": "MK",
    "republic of north macedonia": "MK", "burma": "MM", "cabo verde": "CV", "türkiye": "TR",
    "turkiye": "TR", "brunei darussalam": "BN", "lao people's democratic republic": "LA",
    "syrian arab republic": "SY", "tanzania, united republic of": "TZ", "bolivia, plurinational state of": "BO",
    "venezuela, bolivarian republic of": "VE", "palestine, state of": "PS", "palestinian territory": "PS",
    "holy see": "VA", "vatican": "VA", "east timor": "TL", "federated states of micronesia": "FM",
    "micronesia, federated states of": "FM", "virgin islands, u.s.": "VI", "virgin islands, british": "VG",
    "libyan arab jamahiriya": "LY", "the bahamas": "BS", "the gambia": "GM",
}


def country_names() -> dict[str, str]:
    """Lower-cased name -> alpha-2."""
    out: dict[str, str] = {}
    for item in _TABLE.replace("\n", "|").split("|"):
        item = item.strip()
        if item:
            code, name = item.split(" ", 1)
            out[name.lower()] = code
    out.update(_ALIASES)
    return out


def country_macro() -> str:
    """``vigil_country(x)``: alpha-2 from a 2-letter code or an English country name, else NULL."""
    pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(country_names().items()))
    return (
        "CREATE OR REPLACE TEMP MACRO vigil_country(x) AS ("
        "CASE WHEN x IS NULL OR trim(x) = '' OR lower(trim(x)) IN ('null', 'unknown') THEN NULL "
        "WHEN length(trim(x)) = 2 THEN upper(trim(x)) "
        f"ELSE MAP {{{pairs}}}[lower(trim(x))] END)"
    )

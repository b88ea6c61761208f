"""Money as exact decimals: ISO 4217 currencies with their minor units, and rounding to them.

Amounts are ``Decimal`` from input to storage to answer (decimal strings in JSON, as a deal's ``amount``),
never ``float``. A currency's minor unit is how many decimal places its amounts have: JPY 0, EUR 2, KWD 3.
Rounding is half-even ("banker's rounding"): 0.125 USD is 0.12, 0.135 is 0.14.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def _codes(text: str) -> list[str]:
    return text.split()


# Active ISO 4217 codes (list one, 2024) by their minor unit.
_MINOR_0 = _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF")
_MINOR_3 = _codes("BHD IQD JOD KWD LYD OMR TND")
_MINOR_4 = _codes("CLF UYW")
_MINOR_2 = _codes(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD "
    "CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
    "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
    "TZS UAH USD USN UYU UZS VED VES WST XCD YER ZAR ZMW ZWG"
)

MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_MINOR_2, 2),
    **dict.fromkeys(_MINOR_0, 0),
    **dict.fromkeys(_MINOR_3, 3),
    **dict.fromkeys(_MINOR_4, 4),
}


def is_currency(code: str) -> bool:
    """An active ISO 4217 code (upper case)."""
    return code in MINOR_UNITS


def minor_unit(currency: str) -> int:
    """Decimal places of ``currency``'s amounts; KeyError for a code that is not ISO 4217."""
    return MINOR_UNITS[currency]


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-even to the currency's minor unit (exactly that many places: 5 USD is 5.00)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_EVEN)


def money_text(amount: Decimal) -> str:
    """As the API writes an amount: plain digits, never an exponent ("0.00", "1250.5")."""
    return format(amount, "f")


def iso_currency(value: str) -> str:
    """A pydantic validator: an ISO 4217 code."""
    if not is_currency(value):
        raise ValueError("must be an ISO 4217 currency code, such as EUR or USD")
    return value

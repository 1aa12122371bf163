"""String formats a CRD schema asserts, as the API server checks them.

The API server keeps a CRD's ``format`` only where it is one it supports
(``StripUnsupportedFormatsPostProcessorForVersion`` in apiextensions-apiserver) and checks
it on strings with kube-openapi's ``strfmt`` registry (names compared without ``-``). The
formats below are those checks, read from ``kube-openapi/pkg/validation/strfmt`` and its
vendored govalidator; a format not listed is not asserted (as before), which can only
accept more than the API server, never less. Integer and number formats (``int32``,
``double``) are never checked by the API server. Go's ``$`` anchors at the very end of the
text, hence ``fullmatch``.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable

__all__ = ["FORMAT_CHECKS", "format_check"]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))")
_BASE64 = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})"
)
_UUID = {
    "uuid": re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I),
    "uuid3": re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I),
    "uuid4": re.compile(
        r"[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}", re.I
    ),
    "uuid5": re.compile(
        r"[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}", re.I
    ),
}
_HEXCOLOR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_BYTE = r"(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])"
_RGBCOLOR = re.compile(rf"rgb\(\s*{_BYTE}\s*,\s*{_BYTE}\s*,\s*{_BYTE}\s*\)")
_SCHEME_CHARS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_USERINFO = re.compile(r"[A-Za-z0-9\-._:~!$&'()*+,;=%@]*")
_HOST_ALLOWED = frozenset("-_.~!$&'()*+,;=:[]<>\"%")


def is_date(value: str) -> bool:
    """Go's ``time.Parse("2006-01-02", ...)``: exact digits, a real calendar day."""
    if not _DATE.fullmatch(value):
        return False
    try:
        datetime.date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


def is_date_time(value: str) -> bool:
    """strfmt ``IsDateTime``: a date, ``T``, and a time with a zone, hours <= 23."""
    if len(value) < 4:
        return False
    parts = value.lower().split("t")
    if len(parts) < 2 or not is_date(parts[0]):
        return False
    match = _TIME.fullmatch(parts[1])
    if match is None:
        return False
    return match.group(1) <= "23" and match.group(2) <= "59" and match.group(3) <= "59"


def is_base64(value: str) -> bool:
    return _BASE64.fullmatch(value) is not None


def _valid_escapes(text: str) -> bool:
    return all(
        len(part) >= 2 and all(c in "0123456789abcdefABCDEF" for c in part[:2])
        for part in text.split("%")[1:]
    )


def _valid_host(host: str) -> bool:
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return False
        port = host[end + 1 :]
        if port and not ((port.startswith(":") and port[1:].isdigit()) or port == ":"):
            return False
        return _valid_escapes(host[1:end])
    if ":" in host:
        port = host[host.rindex(":") + 1 :]
        if port and not (port.isascii() and port.isdigit()):
            return False
    if not _valid_escapes(host):
        return False
    return all(c.isalnum() or c in _HOST_ALLOWED or ord(c) >= 0x80 for c in host)


def is_request_uri(value: str) -> bool:
    """Go's ``net/url.ParseRequestURI`` succeeds: an absolute URI or an absolute path."""
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return False
    if value == "*":
        return True
    rest, scheme = value, ""
    colon = value.find(":")
    if colon == 0:
        return False  # missing protocol scheme
    if colon > 0 and _SCHEME_CHARS.fullmatch(value[:colon]):
        scheme, rest = value[:colon], value[colon + 1 :]
    rest = rest.split("?", 1)[0]  # the query is not checked
    if not rest.startswith("/"):
        return bool(scheme)  # opaque ("mailto:x") is fine, a relative path is not
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        if at and not (_USERINFO.fullmatch(userinfo) and _valid_escapes(userinfo)):
            return False
        if not _valid_host(host):
            return False
    return _valid_escapes(rest)


def _ipv4(text: str, *, sloppy: bool) -> bool:
    """Go's IPv4 parser; ``sloppy`` (k8s.io/utils/net): leading zeros are decimal."""
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part or not part.isascii() or not part.isdigit() or int(part) > 255:
            return False
        if not sloppy and len(part) > 1 and part[0] == "0":
            return False
    return True


def _ip(text: str, *, sloppy: bool) -> bool:
    """Go's ``net.ParseIP`` (no zone, embedded IPv4 allowed), or its sloppy variant."""
    if ":" not in text:
        return _ipv4(text, sloppy=sloppy)
    if "%" in text or not text.isascii():
        return False
    head, _, tail = text.rpartition(":")
    if "." in tail:
        if not _ipv4(tail, sloppy=sloppy):
            return False
        text = head + ":" + ".".join(str(int(p)) for p in tail.split("."))
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def is_ipv4(value: str) -> bool:
    """strfmt ``isIPv4``: any address ``ParseIPSloppy`` reads, written with a dot."""
    return "." in value and _ip(value, sloppy=True)


def is_ipv6(value: str) -> bool:
    """govalidator ``IsIPv6``: any address ``net.ParseIP`` reads, written with a colon."""
    return ":" in value and _ip(value, sloppy=False)


def is_cidr(value: str) -> bool:
    """``ParseCIDRSloppy``: an address, ``/``, a decimal prefix length within its bits."""
    address, slash, length = value.partition("/")
    if not slash or not length.isascii() or not length.isdigit():
        return False
    if len(length) > 1 and length[0] == "0":
        return False
    bits = 128 if ":" in address else 32
    return int(length) <= bits and _ip(address, sloppy=True)


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "datetime": is_date_time,
    "date": is_date,
    "byte": is_base64,
    "uri": is_request_uri,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "cidr": is_cidr,
    "password": lambda _value: True,
    **{name: _matches(pattern) for name, pattern in _UUID.items()},
    "hexcolor": _matches(_HEXCOLOR),
    "rgbcolor": _matches(_RGBCOLOR),
}


def format_check(name: object) -> Callable[[str], bool] | None:
    """The check of a schema's ``format`` value, or None when it is not asserted."""
    if not isinstance(name, str):
        return None
    return FORMAT_CHECKS.get(name.replace("-", ""))

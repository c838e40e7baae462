"""Name, label key and label value rules, with the apiserver's messages.

``content.IsDNS1123Subdomain``, ``IsLabelKey`` and ``IsLabelValue`` of
k8s.io/apimachinery: object names, label selectors and object labels are all
checked with these, and the texts are what clients print.
"""

from __future__ import annotations

import re

_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)

_LABEL_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def subdomain_errors(value: str) -> list[str]:
    return _errors(value, most=253, form=_DNS1123_SUBDOMAIN, message=SUBDOMAIN_MSG)


def label_key_errors(key: str) -> list[str]:
    """``content.IsLabelKey``: optional DNS-subdomain prefix, ``/``, a name part."""
    parts = key.split("/")
    errors: list[str] = []
    if len(parts) > 2:
        return [
            "a valid label key "
            + _LABEL_NAME_MSG
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + message for message in subdomain_errors(parts[0]))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 bytes")
    if not _LABEL_NAME.match(name):
        errors.append("name part " + _LABEL_NAME_MSG)
    return errors


def label_value_errors(value: str) -> list[str]:
    return _errors(value, most=63, form=_LABEL_VALUE, message=_LABEL_VALUE_MSG)


def _errors(value: str, *, most: int, form: re.Pattern[str], message: str) -> list[str]:
    """apimachinery's two checks, in its order: the length (``MaxLenError``), the form."""
    errors = [f"must be no more than {most} bytes"] if len(value) > most else []
    if not form.match(value):
        errors.append(message)
    return errors

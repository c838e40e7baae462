"""Label and field selectors: grammar, matching and the real server's errors.

Covers: every label operator (=, ==, !=, in, notin, exists, !exists, gt, lt) matched
against label sets; selectors over HTTP through the kubernetes client, including
remedy's ``task-id=3,github-app in (...)``; the apiserver's exact 400 messages for
malformed selectors (labels.Parse) and unsupported field labels (per-kind field
label conversion); field selectors on metadata.name/namespace with escapes.
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from remedy.local.emulators.kube.errors import ApiError
from remedy.local.emulators.kube.fields import parse_fields
from remedy.local.emulators.kube.selectors import parse_labels
from tests.emulators.kube.support import GROUP, PLURAL, VERSION, coderun

LABELS = {"task-id": "3", "github-app": "5DLabs-Cleo", "tier": "7"}
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("task-id=3", True),
        ("task-id==3", True),
        ("task-id!=3", False),
        ("task-id!=4", True),
        ("missing!=x", True),
        ("github-app in (5DLabs-Cleo,5DLabs-Tess)", True),
        ("github-app in (5DLabs-Rex)", False),
        ("github-app notin (5DLabs-Rex)", True),
        ("missing notin (a)", True),
        ("task-id", True),
        ("missing", False),
        ("!missing", True),
        ("!task-id", False),
        ("tier>5", True),
        ("tier<5", False),
        ("task-id=3,github-app in (5DLabs-Cleo,5DLabs-Tess)", True),
        ("task-id=3,!tier", False),
        ("", True),
    ],
)
def test_label_matching(selector: str, matches: bool) -> None:
    assert parse_labels(selector).matches(LABELS) is matches


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            "app:monolith",
            f'unable to parse requirement: <nil>: Invalid value: "app:monolith": {NAME_PART}',
        ),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("x in y", "unable to parse requirement: found 'y' expected: '('"),
        ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        (
            "tier>x",
            'unable to parse requirement: values[0]: Invalid value: "x": for '
            "'Gt', 'Lt' operators, the value must be an integer",
        ),
    ],
)
def test_label_selector_errors(selector: str, message: str) -> None:
    with pytest.raises(ApiError) as error:
        parse_labels(selector)
    assert (error.value.code, error.value.reason, error.value.message) == (
        400,
        "BadRequest",
        message,
    )


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("spec.model=x", "field label not supported: spec.model"),
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("metadata.name=a\\b", "invalid field selector: invalid escape sequence: \\b"),
    ],
)
def test_field_selector_errors_for_custom_resources(selector: str, message: str) -> None:
    with pytest.raises(ApiError) as error:
        parse_fields(selector, group=GROUP, plural=PLURAL, builtin=False, namespaced=True)
    assert error.value.message == message


def test_field_selector_errors_for_builtins() -> None:
    with pytest.raises(ApiError) as error:
        parse_fields("data.a=b", group="", plural="configmaps", builtin=True, namespaced=True)
    assert (
        error.value.message
        == '"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_remedy_selector_over_http(kube: KubeEmulator, custom: client.CustomObjectsApi) -> None:
    for name, task, app in [
        ("cleo-3", 3, "5DLabs-Cleo"),
        ("tess-3", 3, "5DLabs-Tess"),
        ("rex-3", 3, "5DLabs-Rex"),
        ("cleo-4", 4, "5DLabs-Cleo"),
    ]:
        kube.apply(coderun(name, task=task, app=app))
    found = custom.list_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        label_selector="task-id=3,github-app in (5DLabs-Cleo,5DLabs-Tess)",
    )
    assert [item["metadata"]["name"] for item in found["items"]] == ["cleo-3", "tess-3"]
    by_name = custom.list_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, field_selector="metadata.name=rex-3"
    )
    assert [item["metadata"]["name"] for item in by_name["items"]] == ["rex-3"]
    not_default = custom.list_cluster_custom_object(
        GROUP, VERSION, PLURAL, field_selector="metadata.namespace!=default"
    )
    assert not_default["items"] == []


def test_bad_selector_over_http(custom: client.CustomObjectsApi) -> None:
    with pytest.raises(ApiException) as error:
        custom.list_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, label_selector="task id=3"
        )
    body = json.loads(error.value.body)
    assert (error.value.status, body["reason"]) == (400, "BadRequest")
    assert (
        body["message"]
        == "unable to parse requirement: found 'id', expected: in, notin, =, ==, !=, gt, lt"
    )

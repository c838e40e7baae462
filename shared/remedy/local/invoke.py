"""``remedy invoke``: send an event to remedy, as ``kn func invoke`` does, or a webhook.

``remedy invoke`` mirrors ``kn func invoke``: ``--target local`` (the broker ingress of the
running ``remedy up``, from its state file, so the event is routed like in production;
``--function NAME`` sends it straight to one function instead) or ``--target URL``;
``--type``, ``--source``, ``--id``, ``--data`` or ``--file``, ``--content-type``, and
``--format cloudevent`` (binary CloudEvent) or ``http`` (a plain POST of the data).

``remedy invoke webhook --event push --file payload.json`` signs the payload with the
webhook secret and posts it to webhook-gateway as GitHub would, then follows the chain's
effects in the task's remediation state until the workflow is resumed (or ``--wait``
runs out), printing each step as it lands.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from cloudevents.http import CloudEvent

from remedy.domain.branches import TaskBranchPattern
from remedy.domain.signatures import sign
from remedy.events.codec import encode_binary
from remedy.local.up import DEFAULT_WORKDIR


class InvokeError(RuntimeError):
    pass


def _state(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvokeError(f"no state file at {path}: is `remedy up` running?") from None
    return state


def _data(args: argparse.Namespace) -> bytes:
    if args.file is not None:
        return Path(args.file).read_bytes()
    return (args.data or "").encode()


def _target(args: argparse.Namespace, state_path: Path) -> str:
    if args.target != "local":
        return str(args.target)
    state = _state(state_path)
    if args.function:
        try:
            return str(state["functions"][args.function])
        except KeyError:
            raise InvokeError(f"no function {args.function!r} in {state_path}") from None
    return str(state["broker_url"])


def invoke_event(args: argparse.Namespace) -> int:
    url = _target(args, args.state_file)
    body = _data(args)
    if args.format == "http":
        headers = {"Content-Type": args.content_type}
    else:
        event = CloudEvent(
            {
                "type": args.type,
                "source": args.source,
                "id": args.id or str(uuid.uuid4()),
                "datacontenttype": args.content_type,
            },
            body,
        )
        headers, body = encode_binary(event)
    response = requests.post(url, data=body, headers=headers, timeout=30)
    print(f"{response.status_code} {response.reason} from {url}")
    for name, value in sorted(response.headers.items()):
        if name.lower().startswith("ce-"):
            print(f"{name}: {value}")
    if response.content:
        print(response.text)
    return 0 if response.ok else 1


def invoke_webhook(args: argparse.Namespace) -> int:
    state = _state(args.state_file)
    url = args.target if args.target != "local" else state["gateway_url"]
    body = _data(args)
    delivery = args.id or str(uuid.uuid4())
    headers = {
        "X-GitHub-Event": args.event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(state["webhook_secret"].split(",")[0].encode(), body),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/remedy-invoke",
    }
    started = time.monotonic()
    response = requests.post(url, data=body, headers=headers, timeout=30)
    print(f"→ {args.event} webhook, delivery {delivery}: {response.status_code} {response.text}")
    if not response.ok or args.event != "push" or args.wait <= 0:
        return 0 if response.ok else 1
    task_id = _task_of(body)
    if task_id is None:
        print("  (the push names no task branch: nothing to follow)")
        return 0
    return _follow(state, task_id=task_id, delivery=delivery, wait_s=args.wait, started=started)


def _task_of(body: bytes) -> int | None:
    try:
        ref = str(json.loads(body).get("ref", ""))
    except ValueError:
        return None
    return TaskBranchPattern.compile().task_id(ref.removeprefix("refs/heads/"))


def _follow(
    state: dict[str, Any], *, task_id: int, delivery: str, wait_s: float, started: float
) -> int:
    from remedy.adapters.kube.api import KubeRemediationStates, api_client  # noqa: PLC0415

    states = KubeRemediationStates(api_client(state["kubeconfig"]), namespace="remedy")
    shown = 0
    print(f"… following task {task_id}'s remediation state")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        current, _ = states.load(task_id)
        epoch = (
            next((h.epoch for h in current.heads if h.delivery == delivery), None)
            if current
            else None
        )
        if current is not None and epoch is not None:
            events = [e for e in current.history if e.epoch == epoch]
            for event in events[shown:]:
                elapsed = (time.monotonic() - started) * 1000
                print(f"  ✓ {elapsed:7.0f} ms  {event.step}: {event.outcome}")
            shown = len(events)
            if current.resumed_epoch >= epoch:
                print(f"done: workflow resumed for epoch {epoch}")
                return 0
            if any("superseded" in e.outcome for e in events):
                print("done: superseded by a newer push")
                return 0
        time.sleep(0.1)
    print(f"gave up after {wait_s:.0f}s: the chain has not finished (see `remedy up`'s log)")
    return 1


def run(args: argparse.Namespace) -> int:
    try:
        return invoke_webhook(args) if args.kind == "webhook" else invoke_event(args)
    except (InvokeError, OSError, requests.RequestException) as exc:
        print(f"remedy invoke: {exc}", file=sys.stderr)
        return 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("invoke", help="send an event or a signed webhook to remedy")
    parser.add_argument("kind", nargs="?", choices=["webhook"], help="send a GitHub webhook")
    parser.add_argument("--target", default="local", help="'local' (remedy up) or a URL")
    parser.add_argument("--function", help="with --target local: this function, not the broker")
    parser.add_argument("--type", default="dev.remedy.invoke", help="CloudEvent type")
    parser.add_argument("--source", default="/remedy/invoke", help="CloudEvent source")
    parser.add_argument("--id", help="CloudEvent id / X-GitHub-Delivery (default: random)")
    payload = parser.add_mutually_exclusive_group()
    payload.add_argument("--data", help="the event data")
    payload.add_argument("--file", type=Path, help="read the event data from a file")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--format", choices=["cloudevent", "http"], default="cloudevent")
    parser.add_argument("--event", default="push", help="webhook: the X-GitHub-Event")
    parser.add_argument("--wait", type=float, default=30.0, help="webhook: seconds to follow")
    parser.add_argument("--state-file", type=Path, default=DEFAULT_WORKDIR / "state.json")
    parser.set_defaults(func=run)

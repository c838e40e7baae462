"""The composition root: builds each function's handler from the environment.

The only place that knows which adapter serves which port. Function entry points call
one factory here, lazily, on their first request. The clients are built once per
process (``_redis``, ``_kube``) and shared by whatever the function builds.

Adapters are imported inside the factories and helpers that use them, never at the top:
on Knative a function scaled to zero pays for its imports on the request a user waits on,
so webhook-gateway and push-intake must not load the Kubernetes client or PyGithub, and
a function that never calls GitHub must not load PyGithub (tests/knative/
test_import_closure.py checks each function's closure). What the handlers decide is
counted into :data:`remedy.metrics.TALLY` (the Tally port), which every function's edge
has loaded already.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from remedy import config, logs, metrics

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from remedy.adapters.kube.events import KubeAuditTrail
    from remedy.adapters.redis.idempotency import LedgerIdempotency
    from remedy.adapters.redis.redlock import Redlock
    from remedy.handlers.chain.agent_cancel import AgentCancel
    from remedy.handlers.chain.label_update import LabelUpdate
    from remedy.handlers.chain.push_intake import PushIntake
    from remedy.handlers.chain.workflow_resume import WorkflowResume
    from remedy.handlers.common.cancelling import Canceller
    from remedy.handlers.common.tasks import TaskSteps
    from remedy.handlers.control.api import ControlApi
    from remedy.handlers.feedback.intake import FeedbackIntake
    from remedy.handlers.gateway import Gateway
    from remedy.handlers.reconciler.reconciler import Reconciler
    from remedy.ports import Clock, EventSink

# Each import below the top of a function is deliberate (see the module docstring).
# ruff: noqa: PLC0415


def gateway() -> Gateway:
    from remedy.adapters.event_sink import HttpEventSink
    from remedy.handlers.gateway import Gateway

    secrets = config.webhook_secrets()
    for secret in secrets:
        logs.register_secret(secret.decode())
    return Gateway(secrets=secrets, sink=HttpEventSink(config.sink_url()))


def push_intake() -> PushIntake:
    from remedy.adapters.redis.push_log import RedisPushLogs
    from remedy.domain.pushes import PushPolicy
    from remedy.handlers.chain.push_intake import PushIntake

    locks, idempotency = _redis()
    return PushIntake(
        policy=PushPolicy(
            implementation_agents=config.implementation_agents(),
            branches=config.task_branch_pattern(),
        ),
        idempotency=idempotency,
        pushes=RedisPushLogs(locks),
        tally=metrics.TALLY,
    )


def _redis() -> tuple[Redlock, LedgerIdempotency]:
    """One set of Redis connections per process and REDIS_URLS."""
    return _redis_for(tuple(config.redis_urls()))


@functools.cache
def _redis_for(urls: tuple[str, ...]) -> tuple[Redlock, LedgerIdempotency]:
    from remedy.adapters.redis.idempotency import LedgerIdempotency
    from remedy.adapters.redis.ledger import Ledger
    from remedy.adapters.redis.redlock import Redlock

    lease = config.ledger_lease_seconds()
    locks = Redlock.from_urls(list(urls), socket_timeout_s=config.redis_node_timeout_seconds())
    return locks, LedgerIdempotency(Ledger.from_urls(list(urls), lease_s=lease), lease_s=lease)


def _kube() -> ApiClient:
    """One Kubernetes client per process and kubeconfig."""
    return _kube_for(config.kubeconfig())


@functools.cache
def _kube_for(kubeconfig: str | None) -> ApiClient:
    from remedy.adapters.kube.api import api_client

    return api_client(kubeconfig)


def _audit(function: str) -> KubeAuditTrail:
    """Kubernetes Events from ``function`` (its pod's name is its HOSTNAME)."""
    from remedy.adapters.kube.events import KubeAuditTrail, reporting_instance

    return KubeAuditTrail(
        _kube(), instance=reporting_instance(function, os.environ.get("HOSTNAME"))
    )


def _tasks(function: str) -> TaskSteps:
    from remedy.adapters.kube.api import KubeRemediationStates
    from remedy.handlers.common.tasks import TaskSteps
    from remedy.ports import utcnow

    locks, _ = _redis()
    return TaskSteps(
        locks=locks,
        states=KubeRemediationStates(_kube(), namespace=config.state_namespace()),
        clock=utcnow,
        audit=_audit(function),
        tally=metrics.TALLY,
    )


def agent_cancel() -> AgentCancel:
    from remedy.handlers.chain.agent_cancel import AgentCancel

    return AgentCancel(
        canceller=_canceller(), tasks=_tasks("agent-cancel"), idempotency=_redis()[1]
    )


def _canceller() -> Canceller:
    from remedy.adapters.kube.api import KubeAgentRuns
    from remedy.domain.agents import AgentPolicy
    from remedy.handlers.common.cancelling import Canceller, CancelSettings

    return Canceller(
        runs=KubeAgentRuns(_kube(), namespaces=config.coderun_namespaces()),
        settings=CancelSettings(
            policy=AgentPolicy(
                downstream=config.downstream_agents(),
                implementation=config.implementation_agents(),
            ),
            grace_s=config.cancel_grace_seconds(),
        ),
    )


def label_update() -> LabelUpdate:
    from remedy.adapters.github.prs import PullRequestsClient
    from remedy.handlers.chain.label_update import LabelSettings, LabelUpdate

    return LabelUpdate(
        prs=PullRequestsClient.from_env(),
        tasks=_tasks("label-update"),
        idempotency=_redis()[1],
        labels=LabelSettings(
            remove=_removed_labels(),
            add=config.label_list(None, "REMEDY_LABELS_ADD", "remediation-in-progress"),
        ),
    )


def workflow_resume() -> WorkflowResume:
    from remedy.adapters.kube.api import KubeWorkflows
    from remedy.domain.stage_events import StagePolicy
    from remedy.handlers.chain.workflow_resume import WorkflowResume
    from remedy.handlers.common.resumes import ResumeApplier
    from remedy.handlers.common.stage_resumes import StageResumer

    workflows = KubeWorkflows(_kube(), namespace=config.workflow_namespace())
    return WorkflowResume(
        applier=ResumeApplier(workflows),
        stages=StageResumer(workflows),
        policy=StagePolicy(
            branches=config.task_branch_pattern(),
            quality_agents=config.logins(
                None, "REMEDY_QUALITY_AGENTS", "5DLabs-Cleo,5DLabs-Cleo[bot]"
            ),
            qa_agents=config.logins(None, "REMEDY_QA_AGENTS", "5DLabs-Tess,5DLabs-Tess[bot]"),
            ready_label=config.label_list(None, "REMEDY_LABEL_READY_FOR_QA", "ready-for-qa")[0],
        ),
        tasks=_tasks("workflow-resume"),
        idempotency=_redis()[1],
    )


def control_api() -> ControlApi:
    """control-api: REMEDY_API_TOKENS (principal=token pairs) and K_SINK besides the rest."""
    from remedy.adapters.event_sink import HttpEventSink
    from remedy.adapters.kube.api import KubeAgentRuns, KubeWorkflows
    from remedy.handlers.control.api import ControlApi
    from remedy.handlers.control.auth import Tokens, TokensError, token_values

    raw = os.environ.get("REMEDY_API_TOKENS", "")
    for token in token_values(raw):
        logs.register_secret(token)
    try:
        tokens = Tokens.parse(raw)
    except TokensError as exc:
        raise config.ConfigError(f"REMEDY_API_TOKENS: {exc}") from None
    tasks = _tasks("control-api")
    return ControlApi(
        runs=KubeAgentRuns(_kube(), namespaces=config.coderun_namespaces()),
        tasks=tasks,
        states=tasks.states,
        workflows=KubeWorkflows(_kube(), namespace=config.workflow_namespace()),
        sink=HttpEventSink(config.sink_url()),
        tokens=tokens,
    )


RECONCILER_LOCK_WAIT_S = 0.2
"""A task lock the reconciler cannot get this fast is someone else's this tick."""


def reconciler(*, clock: Clock | None = None, sink: EventSink | None = None) -> Reconciler:
    """reconciler: K_SINK besides the rest; REMEDY_FORCE_GRACE_SECONDS (10),
    REMEDY_SAGA_DEADLINE_SECONDS (60), REMEDY_MAX_REDRIVES (5)."""
    from remedy.ports import utcnow

    clock = clock or utcnow
    from remedy.adapters.event_sink import HttpEventSink
    from remedy.adapters.kube.api import KubeAgentRuns, KubeRemediationStates, KubeWorkflows
    from remedy.adapters.redis.redlock import Redlock
    from remedy.handlers.common.resumes import ResumeApplier
    from remedy.handlers.common.stage_resumes import StageResumer
    from remedy.handlers.common.tasks import TaskSteps
    from remedy.handlers.reconciler.reconciler import Reconciler, ReconcileSettings
    from remedy.handlers.reconciler.resumes import KeptResumes

    locks, _ = _redis()
    states = KubeRemediationStates(_kube(), namespace=config.state_namespace())
    workflows = KubeWorkflows(_kube(), namespace=config.workflow_namespace())
    short_locks = Redlock(locks.nodes, ttl_s=locks.ttl_s, acquire_timeout_s=RECONCILER_LOCK_WAIT_S)
    actor = "remedy/reconciler"
    return Reconciler(
        runs=KubeAgentRuns(_kube(), namespaces=config.coderun_namespaces()),
        states=states,
        tasks=TaskSteps(
            locks=short_locks,
            states=states,
            clock=clock,
            audit=_audit("reconciler"),
            tally=metrics.TALLY,
        ),
        resumes=KeptResumes(
            applier=ResumeApplier(workflows, actor=actor),
            stages=StageResumer(workflows, actor=actor),
            workflows=workflows,
        ),
        ledger=_redis()[1],
        sink=sink or HttpEventSink(config.sink_url()),
        clock=clock,
        settings=ReconcileSettings.from_env(),
    )


def feedback_intake() -> FeedbackIntake:
    """feedback-intake: REMEDY_QA_AGENTS, REMEDY_FEEDBACK_MARKER, REMEDY_MAX_ITERATIONS (10),
    REMEDY_LABEL_REMEDIATION, REMEDY_LABEL_FAILED, REMEDY_LABELS_REMOVE (label-update's),
    REMEDY_REX_* besides the rest."""
    from remedy.adapters.github.prs import PullRequestsClient
    from remedy.adapters.github.pull_heads import PullHeadsClient
    from remedy.adapters.kube.runs import KubeRemediationRuns
    from remedy.domain.feedback import DEFAULT_QA_AGENTS
    from remedy.handlers.feedback.intake import FeedbackIntake
    from remedy.handlers.feedback.settings import feedback_settings

    return FeedbackIntake(
        settings=feedback_settings(
            os.environ,
            qa_agents=config.logins(None, "REMEDY_QA_AGENTS", DEFAULT_QA_AGENTS),
            implementation_agents=config.implementation_agents(),
            max_iterations=config.max_iterations(),
            remediation_label=_one_label("REMEDY_LABEL_REMEDIATION", "remediation-in-progress"),
            failed_label=_one_label("REMEDY_LABEL_FAILED", "failed-remediation"),
            remove_labels=_removed_labels(),
        ),
        runs=KubeRemediationRuns(_kube(), namespace=config.coderun_namespaces()[0]),
        heads=PullHeadsClient.from_env(),
        prs=PullRequestsClient.from_env(),
        canceller=_canceller(),
        tasks=_tasks("feedback-intake"),
        idempotency=_redis()[1],
        branches=config.task_branch_pattern(),
    )


def _removed_labels() -> tuple[str, ...]:
    """What a remediation takes off the PR: label-update for a push, feedback-intake for QA."""
    return config.label_list(None, "REMEDY_LABELS_REMOVE", "ready-for-qa")


def _one_label(name: str, default: str) -> str:
    labels = config.label_list(None, name, default)
    if len(labels) != 1:
        raise config.ConfigError(f"{name} must name exactly one label")
    return labels[0]

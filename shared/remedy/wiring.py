"""The composition root: builds each function's handler from the environment.

The only place that knows which adapter serves which port. Function entry points call
one factory here, lazily, on their first request.
"""

from __future__ import annotations

import functools

from kubernetes.client import ApiClient

from remedy import config, logs
from remedy.adapters.event_sink import HttpEventSink
from remedy.adapters.github_prs import PullRequestsClient
from remedy.adapters.idempotency import LedgerIdempotency
from remedy.adapters.kube import KubeAgentRuns, KubeRemediationStates, KubeWorkflows, api_client
from remedy.adapters.ledger import Ledger
from remedy.adapters.redis_epochs import EpochCounter
from remedy.adapters.redlock import Redlock
from remedy.domain.agents import AgentPolicy
from remedy.domain.pushes import PushPolicy
from remedy.handlers.agent_cancel import AgentCancel, CancelSettings
from remedy.handlers.gateway import Gateway
from remedy.handlers.label_update import LabelSettings, LabelUpdate
from remedy.handlers.push_intake import PushIntake
from remedy.handlers.resumes import ResumeApplier
from remedy.handlers.tasks import TaskSteps
from remedy.handlers.workflow_resume import WorkflowResume
from remedy.ports import utcnow


def gateway() -> Gateway:
    secrets = config.webhook_secrets()
    for secret in secrets:
        logs.register_secret(secret.decode())
    return Gateway(secrets=secrets, sink=HttpEventSink(config.sink_url()))


def push_intake() -> PushIntake:
    locks, idempotency = _redis()
    return PushIntake(
        policy=PushPolicy(
            implementation_agents=config.implementation_agents(),
            branches=config.task_branch_pattern(),
        ),
        idempotency=idempotency,
        epochs=EpochCounter(locks),
    )


def _redis() -> tuple[Redlock, LedgerIdempotency]:
    """One set of Redis connections per process and REDIS_URLS."""
    return _redis_for(tuple(config.redis_urls()))


@functools.cache
def _redis_for(urls: tuple[str, ...]) -> tuple[Redlock, LedgerIdempotency]:
    return Redlock.from_urls(list(urls)), LedgerIdempotency(Ledger.from_urls(list(urls)))


def _kube() -> ApiClient:
    """One Kubernetes client per process and kubeconfig."""
    return _kube_for(config.kubeconfig())


@functools.cache
def _kube_for(kubeconfig: str | None) -> ApiClient:
    return api_client(kubeconfig)


def _tasks() -> TaskSteps:
    locks, _ = _redis()
    return TaskSteps(
        locks=locks,
        states=KubeRemediationStates(_kube(), namespace=config.state_namespace()),
        clock=utcnow,
    )


def agent_cancel() -> AgentCancel:
    return AgentCancel(
        runs=KubeAgentRuns(_kube(), namespaces=config.coderun_namespaces()),
        tasks=_tasks(),
        idempotency=_redis()[1],
        settings=CancelSettings(
            policy=AgentPolicy(
                downstream=config.downstream_agents(),
                implementation=config.implementation_agents(),
            ),
            grace_s=config.cancel_grace_seconds(),
        ),
    )


def label_update() -> LabelUpdate:
    return LabelUpdate(
        prs=PullRequestsClient.from_env(),
        tasks=_tasks(),
        idempotency=_redis()[1],
        labels=LabelSettings(
            remove=config.label_list(None, "REMEDY_LABELS_REMOVE", "ready-for-qa"),
            add=config.label_list(None, "REMEDY_LABELS_ADD", "remediation-in-progress"),
        ),
    )


def workflow_resume() -> WorkflowResume:
    return WorkflowResume(
        applier=ResumeApplier(KubeWorkflows(_kube(), namespace=config.workflow_namespace())),
        tasks=_tasks(),
        idempotency=_redis()[1],
    )

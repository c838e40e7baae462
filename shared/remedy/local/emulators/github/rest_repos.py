"""REST endpoints for users, repositories, repository labels and ``/rate_limit``."""

from __future__ import annotations

from remedy.local.emulators.github import errors, shapes
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.records import RepoRef
from remedy.local.emulators.github.store import LOGIN
from remedy.local.emulators.github.wire import (
    Call,
    Handler,
    Reply,
    created,
    flag,
    no_content,
    ok,
    paged,
    text,
)


def get_authenticated_user(backend: Backend, call: Call) -> Reply:
    return ok(shapes.full_user(call.actor, call.base))


def get_user(backend: Backend, call: Call) -> Reply:
    return ok(shapes.full_user(backend.model.user(call.args["username"]), call.base))


def get_org(backend: Backend, call: Call) -> Reply:
    """Organisations are taken to exist, like branches: GitHub has no API to create
    one, and PyGithub reads the organisation before creating a repository in it. A
    login that is a user's (or not a valid login) is 404, as on GitHub."""
    docs = "https://docs.github.com/rest/orgs/orgs#get-an-organization"
    login = call.args["org"]
    model = backend.model
    with model.lock:
        known = model.store.users.get(login.lower())
        if known is None and LOGIN.match(login):
            known = model.add_user(login, type="Organization")
        if known is None or known.type != "Organization":
            raise errors.not_found(docs)
        return ok(shapes.organization(known, call.base))


def rate_limit(backend: Backend, call: Call) -> Reply:
    """``GET /rate_limit``: free of charge against the primary limit, as documented."""
    core = backend.primary.peek(call.actor.login).as_json()
    return ok({"resources": {"core": core}, "rate": core})


def _create_repo(backend: Backend, call: Call, *, owner: str, organization: bool) -> Reply:
    body = call.object()
    name = text(body, "name", required=True)
    assert name is not None
    model = backend.model
    with model.lock:
        repo = model.repos.create(
            RepoRef(owner, name),
            actor=call.actor.login,
            organization=organization,
            private=flag(body, "private"),
            description=text(body, "description"),
        )
        return created(shapes.full_repo(repo, call.base))


def create_user_repo(backend: Backend, call: Call) -> Reply:
    return _create_repo(backend, call, owner=call.actor.login, organization=False)


def create_org_repo(backend: Backend, call: Call) -> Reply:
    return _create_repo(backend, call, owner=call.args["org"], organization=True)


def get_repo(backend: Backend, call: Call) -> Reply:
    with backend.model.lock:
        return ok(shapes.full_repo(backend.model.repos.get(call.repo), call.base))


def delete_repo(backend: Backend, call: Call) -> Reply:
    backend.model.repos.delete(call.repo)
    return no_content()


def list_labels(backend: Backend, call: Call) -> Reply:
    model = backend.model
    with model.lock:
        repo = model.repos.get(call.repo)
        return paged(
            call, model.labels.in_repo(call.repo), lambda each: shapes.label(each, repo, call.base)
        )


def create_label(backend: Backend, call: Call) -> Reply:
    body = call.object()
    model = backend.model
    with model.lock:
        repo = model.repos.get(call.repo)
        label = model.labels.create(
            call.repo,
            text(body, "name") or "",
            color=text(body, "color") or "",
            description=text(body, "description"),
        )
        return created(shapes.label(label, repo, call.base))


def get_label(backend: Backend, call: Call) -> Reply:
    model = backend.model
    with model.lock:
        repo = model.repos.get(call.repo)
        return ok(shapes.label(model.labels.get(call.repo, call.args["name"]), repo, call.base))


def update_label(backend: Backend, call: Call) -> Reply:
    body = call.object()
    model = backend.model
    with model.lock:
        repo = model.repos.get(call.repo)
        label = model.labels.update(
            call.repo,
            call.args["name"],
            new_name=text(body, "new_name"),
            color=text(body, "color"),
            description=text(body, "description"),
        )
        return ok(shapes.label(label, repo, call.base))


def delete_label(backend: Backend, call: Call) -> Reply:
    backend.model.labels.delete(call.repo, call.args["name"])
    return no_content()


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/user", get_authenticated_user),
    ("GET", "/users/{username}", get_user),
    ("GET", "/orgs/{org}", get_org),
    ("GET", "/rate_limit", rate_limit),
    ("POST", "/user/repos", create_user_repo),
    ("POST", "/orgs/{org}/repos", create_org_repo),
    ("GET", "/repos/{owner}/{repo}", get_repo),
    ("DELETE", "/repos/{owner}/{repo}", delete_repo),
    ("GET", "/repos/{owner}/{repo}/labels", list_labels),
    ("POST", "/repos/{owner}/{repo}/labels", create_label),
    ("GET", "/repos/{owner}/{repo}/labels/{name}", get_label),
    ("PATCH", "/repos/{owner}/{repo}/labels/{name}", update_label),
    ("DELETE", "/repos/{owner}/{repo}/labels/{name}", delete_label),
]

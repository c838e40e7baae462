#!/bin/sh
# The original system's remediation for one Rex push, step by step, as its sensor and
# workflow steps ran it: every step is a kubectl or curl process (the original used
# kubectl in a bitnami/kubectl pod, `gh pr edit` and `argo resume`). Run against the
# same emulators as remedy, it is the baseline remedy's latency is compared with.
#
# Kept faithful to the original's sequence (see /work/shared/seeds and reference/
# cto-sensor-*-remediation*.yaml), with its selection fixed so it does the same work
# as remedy on the benchmark's tasks: CodeRuns are selected by the labels they really
# carry and in the namespace they live in. It is charged nothing for what the original
# also paid: event-source and sensor hops, workflow pod scheduling, image pulls.
#
# Environment: KUBECTL, KUBECONFIG, KUBECACHEDIR (a warmed discovery cache), TASK_ID,
# BRANCH, REPO (owner/name), GITHUB_API_URL, GITHUB_TOKEN, AGENT_NS, ARGO_NS.
set -eu

selector="task-id=${TASK_ID},github-app in (5DLabs-Cleo,5DLabs-Tess)"
k() { "$KUBECTL" --cache-dir "$KUBECACHEDIR" "$@"; }
nl='
'
gh_api() {  # METHOD PATH [JSON]: prints the body; a status >= 400 other than 404 fails
    set -- "$1" "$2" "${3:-}"
    if [ -n "$3" ]; then
        set -- "$1" "$2" -H "Content-Type: application/json" --data "$3"
    else
        set -- "$1" "$2"
    fi
    method=$1 path=$2
    shift 2
    out=$(curl -sS -X "$method" -H "Authorization: token ${GITHUB_TOKEN}" \
        -H "Accept: application/vnd.github+json" "$@" \
        -w "${nl}%{http_code}" "${GITHUB_API_URL}${path}")
    code=${out##*"$nl"}
    if [ "$code" -ge 400 ] && [ "$code" != 404 ]; then
        echo "GitHub ${method} ${path} answered ${code}" >&2
        return 1
    fi
    printf '%s\n' "${out%"$nl"*}"
}

# 1. cancel the quality agents: check for them, then delete by label selector
found=$(k get coderuns -n "$AGENT_NS" -l "$selector" -o name)
if [ -n "$found" ]; then
    k delete coderuns -n "$AGENT_NS" -l "$selector" >/dev/null
fi

# 2. find the task's pull request, check its labels, swap ready-for-qa for
#    remediation-in-progress
owner=${REPO%%/*}
number=$(gh_api GET "/repos/${REPO}/pulls?state=open&head=${owner}:${BRANCH}" |
    grep -o '"number": *[0-9]*' | head -n 1 | grep -o '[0-9]*$')
labels=$(gh_api GET "/repos/${REPO}/issues/${number}/labels")
case "$labels" in
    *'"ready-for-qa"'*) gh_api DELETE "/repos/${REPO}/issues/${number}/labels/ready-for-qa" >/dev/null ;;
esac
gh_api POST "/repos/${REPO}/issues/${number}/labels" '{"labels":["remediation-in-progress"]}' >/dev/null

# 3. find the play workflow (and its running suspend nodes, which `argo resume` reads)
found=$(k get workflows -n "$ARGO_NS" -l "workflow-type=play-orchestration,task-id=${TASK_ID}" \
    -o jsonpath='{.items[0].metadata.name}{range .items[0].status.nodes.*}{" "}{.type}{"="}{.phase}{"="}{.id}{end}')
workflow=${found%% *}

# 4. reset the stage label (the original's JSON merge patch)
k patch workflow "$workflow" -n "$ARGO_NS" --type=merge \
    -p '{"metadata":{"labels":{"current-stage":"waiting-pr-created"}}}' >/dev/null

# 5. `argo resume`: clear spec.suspend, mark each running Suspend node Succeeded
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
nodes=""
for node in ${found#"$workflow"}; do
    case "$node" in
        Suspend=Running=*)
            id=${node#Suspend=Running=}
            nodes="${nodes}${nodes:+,}\"${id}\":{\"phase\":\"Succeeded\",\"message\":\"Resumed by: baseline\",\"finishedAt\":\"${now}\"}"
            ;;
    esac
done
k patch workflow "$workflow" -n "$ARGO_NS" --type=merge \
    -p "{\"spec\":{\"suspend\":null},\"status\":{\"nodes\":{${nodes}}}}" >/dev/null

#!/usr/bin/env bash
# Tear the eks stack down in the order that leaves no orphaned load balancers or ENIs:
#   1. delete the workloads' ApplicationSet so Argo CD removes Ingresses and LoadBalancer Services
#      while the AWS Load Balancer Controller is still running, and wait until the ALBs/NLBs are gone;
#   2. `pulumi destroy`, whose dependency graph then removes Argo CD (root app, with its finalizer) before
#      the controllers' roles, the addons and node groups, the cluster before the VPC.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="${STACK:-eks}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"

cluster="$("$REPO_ROOT/platform/scripts/pulumi-stack.sh" "$STACK" stack output cluster_name)"
vpc="$("$REPO_ROOT/platform/scripts/pulumi-stack.sh" "$STACK" stack output vpc_id)"
aws eks update-kubeconfig --name "$cluster" --alias "$cluster" >/dev/null

echo "1/3 deleting workload ApplicationSets (Ingresses, LoadBalancer Services go with them)"
kubectl --context "$cluster" -n argocd delete applicationset marketplace --ignore-not-found --wait=true
kubectl --context "$cluster" delete ingress --all -A --wait=true --timeout=300s || true
kubectl --context "$cluster" get svc -A -o json \
  | python3 -c 'import json,sys; [print(i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.load(sys.stdin)["items"] if i["spec"].get("type")=="LoadBalancer"]' \
  | while read -r ns name; do kubectl --context "$cluster" -n "$ns" delete svc "$name" --wait=true; done

echo "2/3 waiting for the controller to delete load balancers in $vpc"
deadline=$((SECONDS + WAIT_SECONDS))
while (( SECONDS < deadline )); do
  left="$(aws elbv2 describe-load-balancers --query "length(LoadBalancers[?VpcId=='$vpc'])" --output text)"
  [[ "$left" == "0" ]] && break
  echo "   $left load balancer(s) left"; sleep 15
done

echo "3/3 pulumi destroy"
exec "$REPO_ROOT/platform/scripts/pulumi-stack.sh" "$STACK" destroy --yes

#!/usr/bin/env bash
# Tear the eks stack down in the GitOps-bridge destroy order, leaving no orphaned load balancers or ENIs:
#   1. stop the root Application from syncing (its self-heal would re-create whatever step 2 deletes);
#   2. delete the workloads' ApplicationSet: its Application carries Argo CD's resources finalizer, so Argo CD
#      deletes the Ingress and Services while the AWS Load Balancer Controller still runs; then delete any
#      Ingress or LoadBalancer Service left in the cluster;
#   3. wait until no load balancer, target group or security group tagged for this cluster by the controller
#      (elbv2.k8s.aws/cluster=<cluster>) is left; exit non-zero, listing them, if the wait times out;
#   4. delete the remaining ApplicationSets, the operators' stateful custom resources (Prometheus,
#      Alertmanager, Elasticsearch), every StatefulSet and every PersistentVolumeClaim, and wait until every
#      PersistentVolume is gone: the EBS CSI driver deletes the volumes only while it runs, and Pulumi does not
#      manage the claims StatefulSets create, so without this the EBS volumes outlive the cluster;
#   5. `pulumi destroy`: the root Application, Argo CD, roles, stores, node groups, cluster, VPC, in the order
#      the program's dependencies encode; then the CloudWatch log groups Amazon MQ created for the broker
#      (Amazon MQ names them after the broker id, so the program cannot own them).
# Environment: STACK (default eks), WAIT_SECONDS (default 900), PULUMI_STACK (the stack wrapper; tests
# replace it), POLL_SECONDS (default 15).
set -euo pipefail
# A failing aws call inside $(...) must stop the script, not read as "nothing left".
shopt -s inherit_errexit
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="${STACK:-eks}"
WAIT_SECONDS="${WAIT_SECONDS:-900}"
POLL_SECONDS="${POLL_SECONDS:-15}"
PULUMI_STACK="${PULUMI_STACK:-$REPO_ROOT/platform/scripts/pulumi-stack.sh}"
ROOT_APP="gigstack-root"
CLUSTER_TAG="elbv2.k8s.aws/cluster"

cluster="$("$PULUMI_STACK" "$STACK" stack output cluster_name)"
vpc="$("$PULUMI_STACK" "$STACK" stack output vpc_id)"
aws eks update-kubeconfig --name "$cluster" --alias "$cluster" >/dev/null
k() { kubectl --context "$cluster" "$@"; }

echo "1/5 stopping automated sync of $ROOT_APP (self-heal would restore the ApplicationSets)"
if k -n argocd get application "$ROOT_APP" >/dev/null 2>&1; then
  k -n argocd patch application "$ROOT_APP" --type json -p '[{"op":"remove","path":"/spec/syncPolicy/automated"}]'
fi

echo "2/5 deleting the workloads (ApplicationSet marketplace), then any Ingress or LoadBalancer Service"
k -n argocd delete applicationset marketplace --ignore-not-found --wait=true --timeout=600s
k delete ingress --all -A --wait=true --timeout=300s
k get svc -A -o jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace} {.metadata.name}{"\n"}{end}' \
  | while read -r ns name; do
      [[ -n "$ns" ]] && k -n "$ns" delete svc "$name" --wait=true --timeout=300s
    done

echo "3/5 waiting for the controller's load balancers, target groups and security groups to be gone"
# Pulumi creates no load balancer or target group in the VPC: every one there is the controller's.
leftovers() {
  aws elbv2 describe-load-balancers --query "LoadBalancers[?VpcId=='$vpc'].LoadBalancerArn" --output text
  aws elbv2 describe-target-groups --query "TargetGroups[?VpcId=='$vpc'].TargetGroupArn" --output text
  aws ec2 describe-security-groups --filters "Name=tag:$CLUSTER_TAG,Values=$cluster" \
    --query 'SecurityGroups[].GroupId' --output text
}
remaining() {
  local raw
  raw="$(leftovers)"
  printf '%s\n' "$raw" | tr -s '[:space:]' '\n' | grep -v -e '^$' -e '^None$' || true
}
deadline=$((SECONDS + WAIT_SECONDS))
left="$(remaining)"
while [[ -n "$left" ]]; do
  if (( SECONDS >= deadline )); then
    echo "ERROR: still present after ${WAIT_SECONDS}s (delete them, then run this script again):" >&2
    echo "$left" >&2
    exit 1
  fi
  echo "   $(echo "$left" | wc -w) left"
  sleep "$POLL_SECONDS"
  left="$(remaining)"
done

echo "4/5 deleting stateful workloads and their volumes"
k -n argocd delete applicationsets --all --wait=true --timeout=300s
for kind in prometheuses.monitoring.coreos.com alertmanagers.monitoring.coreos.com \
  elasticsearches.elasticsearch.k8s.elastic.co; do
  if k get crd "$kind" >/dev/null 2>&1; then
    k delete "$kind" --all -A --wait=true --timeout=300s
  fi
done
k delete statefulsets --all -A --wait=true --timeout=300s
k delete pvc --all -A --wait=true --timeout=600s
deadline=$((SECONDS + WAIT_SECONDS))
volumes="$(k get pv -o name)"
while [[ -n "$volumes" ]]; do
  if (( SECONDS >= deadline )); then
    echo "ERROR: PersistentVolumes still present after ${WAIT_SECONDS}s (their EBS volumes would leak):" >&2
    echo "$volumes" >&2
    exit 1
  fi
  echo "   $(echo "$volumes" | wc -l) volume(s) left"
  sleep "$POLL_SECONDS"
  volumes="$(k get pv -o name)"
done

broker_id="$(aws mq list-brokers --query "BrokerSummaries[?BrokerName=='$cluster-rabbitmq'].BrokerId" --output text)"

echo "5/5 pulumi destroy"
"$PULUMI_STACK" "$STACK" destroy --yes
if [[ -n "$broker_id" && "$broker_id" != "None" ]]; then
  for group in $(aws logs describe-log-groups --log-group-name-prefix "/aws/amazonmq/broker/$broker_id/" \
    --query 'logGroups[].logGroupName' --output text); do
    echo "   deleting log group $group"
    aws logs delete-log-group --log-group-name "$group"
  done
fi

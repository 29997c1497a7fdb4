def test_smoke(build_stack):
    run = build_stack("minikube")
    print("minikube", run.seconds, len(run.resources))
    run = build_stack("eks")
    print("eks", run.seconds, len(run.resources))
    from collections import Counter
    print(Counter(r.type for r in run.resources).most_common(50))

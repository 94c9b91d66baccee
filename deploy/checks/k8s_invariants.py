"""What schema validation cannot see: that the manifests fit together and with the image.

Reads the rendered manifests (a multi-document YAML file: `kubectl kustomize deploy/k8s`, or the files
concatenated) and deploy/Containerfile, and checks references by name and label, probes, security settings,
resources and the drain budget. Usage: python3 k8s_invariants.py RENDERED.yaml CONTAINERFILE
Prints one line per failed invariant; exit status 0 only if all hold.
"""
import re
import sys

import yaml

# The server drains in-flight requests on SIGTERM for --drain-timeout-ms (its default: 30 s); the kubelet
# must wait longer than that, plus a margin for the process to exit, before it sends SIGKILL.
SERVER_DEFAULT_DRAIN_MS = 30_000
EXIT_MARGIN_SECONDS = 10


def main() -> int:
    docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
    containerfile = open(sys.argv[2]).read()
    by_kind: dict = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    for kind in ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap",
                 "PersistentVolumeClaim"]:
        need(len(by_kind.get(kind, [])) == 1, f"exactly one {kind}")
    if problems:
        print("\n".join(problems))
        return 1

    dep = by_kind["Deployment"][0]
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    spec = pod["spec"]
    c = spec["containers"][0]
    names = lambda kind: {d["metadata"]["name"] for d in by_kind.get(kind, [])}

    need(all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()),
         "Deployment selector matches its pod labels")
    need(c["livenessProbe"]["httpGet"]["path"] == "/health", "liveness probe on /health")
    need(c["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness probe on /ready")
    sp = c.get("startupProbe", {})
    need(sp.get("periodSeconds", 10) * sp.get("failureThreshold", 3) >= 120,
         "startup probe allows at least two minutes for the model to load")

    psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True, "pod runs as non-root")
    need(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "seccomp RuntimeDefault")
    need(csc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    need(csc.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    need(csc.get("capabilities", {}).get("drop") == ["ALL"], "all capabilities dropped")

    res = c.get("resources", {})
    for part in ["requests", "limits"]:
        for r in ["cpu", "memory"]:
            need(r in res.get(part, {}), f"resources.{part}.{r} set")

    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    expose = re.findall(r"^EXPOSE\s+(\d+)", containerfile, re.M)
    need(expose and int(expose[-1]) in ports.values(), "containerPort matches the Containerfile's EXPOSE")
    user = re.findall(r"^USER\s+(\d+)", containerfile, re.M)
    need(user and int(user[-1]) == psc.get("runAsUser"), "runAsUser matches the Containerfile's USER")

    cm_refs = {e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e}
    need(cm_refs and cm_refs <= names("ConfigMap"), "envFrom names the ConfigMap in the set")
    secret_envs = [e for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
    need(any(e["name"] == "LONGRM_API_KEY" for e in secret_envs), "LONGRM_API_KEY comes from a Secret")
    need(not any(e["name"] == "LONGRM_API_KEY" and "value" in e for e in c.get("env", [])),
         "no literal API key in the Deployment")
    claims = {v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", [])
              if "persistentVolumeClaim" in v}
    need(claims <= names("PersistentVolumeClaim"), "volumes name the PVC in the set")

    cm = by_kind["ConfigMap"][0]["data"]
    need(all(k.startswith("LONGRM_") for k in cm), "ConfigMap holds only LONGRM_* settings")
    need("LONGRM_API_KEY" not in cm, "the API key is not in the ConfigMap")
    drain = int(cm.get("LONGRM_DRAIN_TIMEOUT_MS", SERVER_DEFAULT_DRAIN_MS)) / 1000
    grace = spec.get("terminationGracePeriodSeconds", 30)
    need(grace >= drain + EXIT_MARGIN_SECONDS,
         f"terminationGracePeriodSeconds ({grace}) exceeds the drain timeout ({drain:g} s) by {EXIT_MARGIN_SECONDS} s")
    mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
    need(any(cm.get("LONGRM_MODEL", "").startswith(m.rstrip("/") + "/") for m in mounts),
         "LONGRM_MODEL lies under a mounted volume")

    svc = by_kind["Service"][0]["spec"]
    need(all(labels.get(k) == v for k, v in svc["selector"].items()), "Service selector matches the pods")
    need(all(p["targetPort"] in ports or p["targetPort"] in ports.values() for p in svc["ports"]),
         "Service targetPort names a container port")

    hpa = by_kind["HorizontalPodAutoscaler"][0]
    need(hpa["apiVersion"] == "autoscaling/v2", "HPA is autoscaling/v2")
    ref = hpa["spec"]["scaleTargetRef"]
    need(ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"], "HPA targets the Deployment")
    need(any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"]["metrics"]), "HPA scales on CPU")
    need(hpa["spec"]["minReplicas"] >= 2, "HPA keeps at least two replicas")

    pdb = by_kind["PodDisruptionBudget"][0]["spec"]
    need(all(labels.get(k) == v for k, v in pdb["selector"]["matchLabels"].items()), "PDB selector matches")

    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    need(len(namespaces) == 1, f"one namespace for all resources ({namespaces})")

    for p in problems:
        print("violated:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Static checks of deploy/ (run by scripts/test-deploy with the repo venv's python).

No Docker engine or Kubernetes cluster runs on the project's dev/CI machines, so the deployment
files are checked here for what can be known without them: every file parses; the collector uses
only contrib components and its pipelines are wired; every file that compose, kustomize and
Grafana refer to exists; names agree across files (uids, ports, Services, shard count, hostnames);
the systemd unit carries its hardening; every alert is unit-tested; the two sample MCP targets
answer like MCP servers.

Each check prints `PASS name` or `FAIL name: reason`; the last line is
`check_deploy.py: passed=N failed=M` (scripts/test-deploy adds these to its own count).
Exit status 1 when a check failed.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_DIR = DEPLOY / "docker"

CHECKS: list = []   # (name, function); a check fails when its function raises


def check(name):
    """Decorator: register the function as one counted check."""
    def wrap(fn):
        CHECKS.append((name, fn))
        return fn
    return wrap


def load_yaml_docs(path: Path) -> list:
    with path.open(encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def load_yaml(path: Path):
    docs = load_yaml_docs(path)
    assert len(docs) == 1, f"{rel(path)}: expected one YAML document, found {len(docs)}"
    return docs[0]


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def walk(obj):
    """Yield every dict nested anywhere in obj."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


# --------------------------------------------------------------------------- parsing

def parse_checks():
    files = sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
    assert files, "no YAML/JSON files under deploy/"
    for p in files:
        def fn(p=p):
            if p.suffix == ".json":
                json.loads(p.read_text(encoding="utf-8"))
            else:
                docs = load_yaml_docs(p)
                assert docs, f"{rel(p)} is empty"
        CHECKS.append((f"parses: {rel(p)}", fn))


# --------------------------------------------------------------------------- collector

COLLECTOR = DEPLOY / "otel-collector" / "config.yaml"
# Component types of the contrib distribution (otel/opentelemetry-collector-contrib) that this
# repo's configs may use, by kind. `otlp_grpc`/`otlp_http` are the names since collector v0.144;
# `otlp`/`otlphttp` their deprecated aliases.
CONTRIB_ALLOWLIST = {
    "receivers": {"otlp", "prometheus", "hostmetrics"},
    "processors": {"batch", "memory_limiter", "resource", "resourcedetection", "attributes",
                   "filter", "transform", "tail_sampling", "k8sattributes"},
    "connectors": {"spanmetrics", "servicegraph", "forward"},
    "exporters": {"otlp", "otlp_grpc", "otlphttp", "otlp_http", "prometheus",
                  "prometheusremotewrite", "debug"},
    "extensions": {"health_check", "pprof", "zpages"},
}
PIPELINE_SIGNALS = {"traces", "metrics", "logs"}


def collector():
    return load_yaml(COLLECTOR)


@check("collector: only contrib component types (allowlist)")
def _():
    cfg = collector()
    bad = []
    for kind, allowed in CONTRIB_ALLOWLIST.items():
        for cid in (cfg.get(kind) or {}):
            ctype = cid.split("/", 1)[0]
            if ctype not in allowed:
                bad.append(f"{kind}.{cid}")
    assert not bad, f"unknown component types: {bad}"
    unknown_sections = set(cfg) - set(CONTRIB_ALLOWLIST) - {"service"}
    assert not unknown_sections, f"unknown top-level sections: {unknown_sections}"


@check("collector: pipelines reference defined components")
def _():
    cfg = collector()
    service = cfg["service"]
    defined = {k: set(cfg.get(k) or {}) for k in CONTRIB_ALLOWLIST}
    problems = []
    for ext in service.get("extensions", []):
        if ext not in defined["extensions"]:
            problems.append(f"service.extensions: {ext} undefined")
    pipelines = service["pipelines"]
    assert pipelines, "no pipelines"
    for pname, p in pipelines.items():
        signal = pname.split("/", 1)[0]
        if signal not in PIPELINE_SIGNALS:
            problems.append(f"pipeline {pname}: unknown signal")
        assert p.get("receivers") and p.get("exporters"), f"pipeline {pname} needs receivers and exporters"
        for r in p.get("receivers", []):
            if r not in defined["receivers"] and r not in defined["connectors"]:
                problems.append(f"{pname}.receivers: {r} undefined")
        for x in p.get("processors", []):
            if x not in defined["processors"]:
                problems.append(f"{pname}.processors: {x} undefined")
        for e in p.get("exporters", []):
            if e not in defined["exporters"] and e not in defined["connectors"]:
                problems.append(f"{pname}.exporters: {e} undefined")
    # a connector must be an exporter in one pipeline and a receiver in another
    for c in defined["connectors"]:
        as_exp = [n for n, p in pipelines.items() if c in p.get("exporters", [])]
        as_rcv = [n for n, p in pipelines.items() if c in p.get("receivers", [])]
        if not as_exp or not as_rcv:
            problems.append(f"connector {c}: exporter in {as_exp}, receiver in {as_rcv} (needs both)")
    # spanmetrics: traces in, metrics out
    if "spanmetrics" in defined["connectors"]:
        for n, p in pipelines.items():
            if "spanmetrics" in p.get("exporters", []) and not n.startswith("traces"):
                problems.append(f"spanmetrics exported from non-traces pipeline {n}")
            if "spanmetrics" in p.get("receivers", []) and not n.startswith("metrics"):
                problems.append(f"spanmetrics received by non-metrics pipeline {n}")
    assert not problems, "; ".join(problems)


@check("collector: every defined component is used")
def _():
    cfg = collector()
    service = cfg["service"]
    used = set(service.get("extensions", []))
    for p in service["pipelines"].values():
        for k in ("receivers", "processors", "exporters"):
            used.update(p.get(k, []))
    unused = [f"{kind}.{cid}" for kind in CONTRIB_ALLOWLIST for cid in (cfg.get(kind) or {}) if cid not in used]
    assert not unused, f"defined but unused: {unused}"


@check("collector: OTLP/HTTP on 0.0.0.0:4318, memory_limiter first, batch last, traces to Tempo and Jaeger")
def _():
    cfg = collector()
    assert cfg["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    for name, p in cfg["service"]["pipelines"].items():
        procs = p.get("processors", [])
        assert procs and procs[0] == "memory_limiter", f"{name}: memory_limiter must be first, got {procs}"
        assert procs[-1] == "batch", f"{name}: batch must be last, got {procs}"
    traces = cfg["service"]["pipelines"]["traces"]["exporters"]
    endpoints = {e: cfg["exporters"][e]["endpoint"] for e in traces if e in cfg["exporters"]}
    hosts = {ep.split(":")[0] for ep in endpoints.values()}
    assert {"tempo", "jaeger"} <= hosts, f"traces must go to tempo and jaeger, got {endpoints}"
    assert "spanmetrics" in traces


# --------------------------------------------------------------------------- compose

def compose():
    return load_yaml(COMPOSE_DIR / "compose.yaml")


def bind_source(vol) -> str | None:
    """Host path of a bind mount (short or long syntax), None for named volumes/tmpfs."""
    if isinstance(vol, dict):
        return vol.get("source") if vol.get("type", "bind") == "bind" else None
    src = vol.split(":", 1)[0]
    return src if src.startswith((".", "/", "~")) else None


@check("compose: build contexts, Dockerfiles, bind mounts, secrets and configs exist")
def _():
    c = compose()
    missing = []
    for sname, svc in c["services"].items():
        build = svc.get("build")
        if build:
            ctx = COMPOSE_DIR / (build if isinstance(build, str) else build.get("context", "."))
            if not ctx.is_dir():
                missing.append(f"{sname}: build context {rel(ctx)}")
            dockerfile = ctx / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
            if not dockerfile.is_file():
                missing.append(f"{sname}: dockerfile {rel(dockerfile)}")
        for vol in svc.get("volumes", []):
            src = bind_source(vol)
            if src and not (COMPOSE_DIR / src).exists():
                missing.append(f"{sname}: volume {src}")
        for v in svc.get("volumes", []):
            if isinstance(v, str) and not bind_source(v):
                name = v.split(":", 1)[0]
                if name not in (c.get("volumes") or {}):
                    missing.append(f"{sname}: named volume {name} not declared")
        for key in ("secrets", "configs"):
            for ref in svc.get(key, []):
                name = ref if isinstance(ref, str) else ref["source"]
                if name not in (c.get(key) or {}):
                    missing.append(f"{sname}: {key[:-1]} {name} not declared")
    for key in ("secrets", "configs"):
        for name, spec in (c.get(key) or {}).items():
            if "file" in spec and not (COMPOSE_DIR / spec["file"]).is_file():
                missing.append(f"{key}.{name}: {spec['file']}")
    assert not missing, "; ".join(missing)


@check("compose: the stack has every service it should (agent, collector, Jaeger, Tempo, Prometheus, Grafana, 2 MCP targets)")
def _():
    c = compose()
    images = {n: s.get("image", "") for n, s in c["services"].items()}
    want = {
        "probe-agent": "probe-agent", "otel-collector": "otel/opentelemetry-collector-contrib:",
        "jaeger": "jaegertracing/jaeger:", "tempo": "grafana/tempo:", "prometheus": "prom/prometheus:",
        "grafana": "grafana/grafana:", "alertmanager": "prom/alertmanager:",
    }
    for svc, prefix in want.items():
        assert svc in images, f"missing service {svc}"
        assert images[svc].startswith(prefix), f"{svc}: image {images[svc]!r}, expected {prefix}..."
        if svc != "probe-agent":
            tag = images[svc].rsplit(":", 1)[-1]
            assert tag not in ("", "latest") and ":" in images[svc], f"{svc}: pin the image tag"
    for svc in ("mcp-plain", "mcp-oauth"):
        assert svc in c["services"], f"missing sample target {svc}"
    agent = c["services"]["probe-agent"]
    env = agent["environment"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["OTEL_SERVICE_NAME"] == "probe-agent"
    assert any(str(v).endswith(":/etc/probe-agent/agent.yaml:ro") for v in agent["volumes"])


@check("compose: hostnames in agent, Prometheus, Grafana and collector configs are compose services")
def _():
    services = set(compose()["services"])
    problems = []
    agent = load_yaml(COMPOSE_DIR / "agent.yaml")
    for t in agent["targets"]:
        host = re.match(r"https?://([^/:]+)", t["url"]).group(1)
        if host not in services:
            problems.append(f"agent target {t['name']}: {host}")
    ep = agent.get("exporter", {}).get("endpoint")
    if ep and re.match(r"https?://([^/:]+)", ep).group(1) not in services:
        problems.append(f"agent exporter {ep}")
    prom = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    for sc in prom["scrape_configs"]:
        for st in sc.get("static_configs", []):
            for t in st["targets"]:
                host = t.split(":")[0]
                if host not in services and host != "localhost":
                    problems.append(f"prometheus job {sc['job_name']}: {t}")
    for am in prom["alerting"]["alertmanagers"]:
        for st in am["static_configs"]:
            for t in st["targets"]:
                if t.split(":")[0] not in services:
                    problems.append(f"alertmanager {t}")
    ds = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yaml")
    for d in ds["datasources"]:
        host = re.match(r"https?://([^/:]+)", d["url"]).group(1)
        if host not in services:
            problems.append(f"grafana datasource {d['name']}: {host}")
    col = collector()
    for name, e in col["exporters"].items():
        if "endpoint" in e and not e["endpoint"].startswith("0.0.0.0"):
            host = re.sub(r"^https?://", "", e["endpoint"]).split(":")[0]
            if host not in services:
                problems.append(f"collector exporter {name}: {host}")
    assert not problems, "; ".join(problems)


@check("compose: Prometheus loads alerts.yaml + records.yaml, scrapes probe-agent:9464 as job probe-agent")
def _():
    c = compose()
    prom_svc = c["services"]["prometheus"]
    prom = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    globs = prom["rule_files"]
    mounted = {}
    for v in prom_svc["volumes"]:
        src = bind_source(v)
        if src:
            mounted[v.split(":")[1]] = (COMPOSE_DIR / src).resolve()
    for rules in ("alerts.yaml", "records.yaml"):
        target = next((dst for dst, src in mounted.items() if src == (DEPLOY / "prometheus" / rules).resolve()), None)
        assert target, f"{rules} is not mounted into prometheus"
        assert any(fnmatch.fnmatch(target, g) for g in globs), f"{target} not matched by rule_files {globs}"
    jobs = {sc["job_name"]: sc for sc in prom["scrape_configs"]}
    assert "probe-agent" in jobs, "no scrape job named probe-agent (the alert rules select job=\"probe-agent\")"
    targets = [t for st in jobs["probe-agent"]["static_configs"] for t in st["targets"]]
    assert targets == ["probe-agent:9464"], targets
    agent = load_yaml(COMPOSE_DIR / "agent.yaml")
    assert agent["admin"]["listen"].endswith(":9464") and agent["admin"]["listen"].startswith("0.0.0.0")


# --------------------------------------------------------------------------- agent configs

DURATION = re.compile(r"^\d+(ms|s|m|h)$")


def seconds(text: str) -> float:
    n, unit = re.match(r"^(\d+)(ms|s|m|h)$", str(text)).groups()
    return int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
TARGET_KEYS = {"name", "url", "kind", "transport", "interval", "timeout", "auth", "headers", "failure_threshold"}


def check_agent_config(path: Path):
    cfg = load_yaml(path)
    problems = []
    extra = set(cfg) - {"admin", "defaults", "shutdown", "exporter", "targets", "discovery"}
    if extra:
        problems.append(f"unknown top-level keys {extra}")
    if not re.match(r"^[0-9.]+:\d+$", cfg["admin"]["listen"]):
        problems.append(f"admin.listen {cfg['admin']['listen']!r}")
    for k, v in (cfg.get("defaults") or {}).items():
        if k in ("interval", "timeout") and not DURATION.match(str(v)):
            problems.append(f"defaults.{k}={v!r}")
    names = [t["name"] for t in cfg["targets"]]
    if len(names) != len(set(names)):
        problems.append(f"duplicate target names {names}")
    for t in cfg["targets"]:
        n = t.get("name")
        if set(t) - TARGET_KEYS:
            problems.append(f"{n}: unknown keys {set(t) - TARGET_KEYS}")
        if not re.match(r"^https?://", t.get("url", "")):
            problems.append(f"{n}: url {t.get('url')!r}")
        if t.get("kind", "mcp") not in ("mcp", "http"):
            problems.append(f"{n}: kind {t['kind']!r}")
        if "transport" in t and t["transport"] not in ("streamable_http", "sse"):
            problems.append(f"{n}: transport {t['transport']!r}")
        if t.get("kind") == "http" and "transport" in t:
            problems.append(f"{n}: transport is for kind mcp only")
        for k in ("interval", "timeout"):
            if k in t and not DURATION.match(str(t[k])):
                problems.append(f"{n}: {k} {t[k]!r}")
        interval = t.get("interval", (cfg.get("defaults") or {}).get("interval", "30s"))
        timeout = t.get("timeout", (cfg.get("defaults") or {}).get("timeout", "10s"))
        if DURATION.match(str(interval)) and DURATION.match(str(timeout)) and seconds(interval) <= seconds(timeout):
            problems.append(f"{n}: interval {interval} must be greater than timeout {timeout}")
        auth = t.get("auth")
        if auth:
            if auth.get("type") not in ("none", "bearer", "basic", "client_credentials", "authorization_code"):
                problems.append(f"{n}: auth.type {auth.get('type')!r}")
            if "token" in auth and not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*\}", str(auth["token"])):
                problems.append(f"{n}: literal token in config (use token_file or ${{ENV}})")
    cf = (cfg.get("discovery") or {}).get("contextforge")
    if cf and "token" in cf and not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*\}", str(cf["token"])):
        problems.append("discovery.contextforge.token must be ${ENV} or *_file")
    assert not problems, f"{rel(path)}: " + "; ".join(problems)
    return cfg


@check("agent config (compose) follows the config outline, no literal secrets")
def _():
    check_agent_config(COMPOSE_DIR / "agent.yaml")


@check("agent config (k8s) follows the config outline, no literal secrets")
def _():
    check_agent_config(DEPLOY / "k8s" / "agent.yaml")


def shutdown_bound(path: Path) -> float:
    """drain_timeout + flush_timeout of an agent config, in seconds (defaults 10s and 5s)."""
    shutdown = load_yaml(path).get("shutdown") or {}
    return seconds(shutdown.get("drain_timeout", "10s")) + seconds(shutdown.get("flush_timeout", "5s"))


# Beyond drain + flush: the stop's bounded extras (admin server, log flush: about 3.5 s) and slack.
SHUTDOWN_MARGIN = 10


@check("grace periods (compose, k8s, systemd) exceed the agent's drain + flush timeouts with a margin")
def _():
    svc = compose()["services"]["probe-agent"]
    _, objs = k8s_objects()
    (sts,) = by_kind(objs, "StatefulSet")
    stop_timeout = unit_keys()["Service.TimeoutStopSec"][0]
    periods = [
        ("compose stop_grace_period", seconds(svc.get("stop_grace_period", "10s")), shutdown_bound(COMPOSE_DIR / "agent.yaml")),
        ("k8s terminationGracePeriodSeconds", sts["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30),
         shutdown_bound(K8S / "agent.yaml")),
        ("systemd TimeoutStopSec", seconds(stop_timeout), shutdown_bound(REPO / "examples" / "agent.yaml")),
    ]
    short = [f"{name} {grace}s < {bound}s + {SHUTDOWN_MARGIN}s" for name, grace, bound in periods if grace < bound + SHUTDOWN_MARGIN]
    assert not short, "; ".join(short)


# --------------------------------------------------------------------------- k8s

K8S = DEPLOY / "k8s"


def k8s_objects():
    kust = load_yaml(K8S / "kustomization.yaml")
    objs = []
    for r in kust["resources"]:
        objs += load_yaml_docs(K8S / r)
    return kust, objs


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


@check("k8s: kustomization resources and generator files exist")
def _():
    kust = load_yaml(K8S / "kustomization.yaml")
    missing = [r for r in kust["resources"] if not (K8S / r).is_file()]
    for gen in kust.get("configMapGenerator", []) + kust.get("secretGenerator", []):
        for f in gen.get("files", []):
            path = f.split("=", 1)[-1]
            if not (K8S / path).is_file():
                missing.append(path)
    assert not missing, f"missing: {missing}"
    for r in kust["resources"]:
        for o in load_yaml_docs(K8S / r):
            assert {"apiVersion", "kind", "metadata"} <= set(o), f"{r}: not a Kubernetes object"


@check("k8s: StatefulSet shards by pod ordinal, replicas == PROBE_AGENT_SHARD_COUNT")
def _():
    kust, objs = k8s_objects()
    (sts,) = by_kind(objs, "StatefulSet")
    spec = sts["spec"]
    (c,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e for e in c["env"]}
    count = env["PROBE_AGENT_SHARD_COUNT"]["value"]
    assert str(spec["replicas"]) == count, f"replicas {spec['replicas']} != PROBE_AGENT_SHARD_COUNT {count}"
    script = " ".join(c.get("command", []) + c.get("args", []))
    assert "--shard" in script and "${ordinal}/${PROBE_AGENT_SHARD_COUNT}" in script, "shard flag not derived from ordinal"
    assert "HOSTNAME##*-" in script, "ordinal must come from the pod hostname"
    assert "exec /usr/local/bin/probe-agent run" in script and "--config /etc/probe-agent/agent.yaml" in script
    headless = [s for s in by_kind(objs, "Service") if s["spec"].get("clusterIP") == "None"]
    assert [s["metadata"]["name"] for s in headless] == [spec["serviceName"]], "serviceName must be the headless Service"
    assert env["OTEL_SERVICE_NAME"]["value"] == "probe-agent"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"].endswith(":4318")


@check("k8s: probes, ports, resources and securityContext of the agent container")
def _():
    _, objs = k8s_objects()
    (sts,) = by_kind(objs, "StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"admin": 9464}, ports
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    res = c["resources"]
    assert {"cpu", "memory"} <= set(res["requests"]) and "memory" in res["limits"], res
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["runAsNonRoot"] is True and sc["capabilities"]["drop"] == ["ALL"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0
    assert psc["seccompProfile"]["type"] == "RuntimeDefault"
    agent = load_yaml(K8S / "agent.yaml")
    assert agent["admin"]["listen"] == "0.0.0.0:9464", "admin.listen must be reachable by kubelet probes"


@check("k8s: volumes match the ConfigMap generator, Secret and token_file paths")
def _():
    kust, objs = k8s_objects()
    (sts,) = by_kind(objs, "StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    gen_names = [g["name"] for g in kust["configMapGenerator"]]
    cfg_vol = vols[mounts["/etc/probe-agent"]]
    assert cfg_vol["configMap"]["name"] in gen_names
    gen = next(g for g in kust["configMapGenerator"] if g["name"] == cfg_vol["configMap"]["name"])
    assert any(f.split("=", 1)[0] == "agent.yaml" or f == "agent.yaml" for f in gen["files"]), "ConfigMap lacks agent.yaml"
    secrets = {s["metadata"]["name"]: s for s in by_kind(objs, "Secret")}
    tok_mount = next(p for p, n in mounts.items() if "secret" in vols[n])
    secret = secrets[vols[mounts[tok_mount]]["secret"]["secretName"]]
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    agent = load_yaml(K8S / "agent.yaml")
    for t in agent["targets"]:
        tf = (t.get("auth") or {}).get("token_file", "")
        if tf.startswith(tok_mount + "/"):
            assert tf[len(tok_mount) + 1:] in keys, f"{t['name']}: {tf} not a key of the Secret"
        elif tf:
            assert any(tf.startswith(p + "/") for p in mounts), f"{t['name']}: {tf} is on the read-only rootfs"
    for e in c["env"]:
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] in secrets and ref["key"] in keys, f"env {e['name']}: {ref}"


@check("k8s: Services, PodDisruptionBudget select the agent pods")
def _():
    _, objs = k8s_objects()
    (sts,) = by_kind(objs, "StatefulSet")
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    assert sts["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    services = by_kind(objs, "Service")
    assert len(services) == 2, "want a headless Service and a metrics Service"
    for s in services:
        assert s["spec"]["selector"].items() <= pod_labels.items(), f"Service {s['metadata']['name']} selects no pod"
        assert [p["port"] for p in s["spec"]["ports"]] == [9464] and s["spec"]["ports"][0]["targetPort"] == "admin"
    (pdb,) = by_kind(objs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]


@check("k8s extras: ServiceMonitor selects only the metrics Service and keeps job=probe-agent")
def _():
    kust, objs = k8s_objects()
    common = {}
    for entry in kust.get("labels", []):
        common.update(entry.get("pairs", {}))
    (sm,) = load_yaml_docs(K8S / "extras" / "servicemonitor.yaml")
    sel = sm["spec"]["selector"]["matchLabels"]
    matched = [s["metadata"]["name"] for s in by_kind(objs, "Service")
               if sel.items() <= {**common, **s["metadata"].get("labels", {})}.items()]
    assert matched == ["probe-agent"], f"ServiceMonitor selects {matched} (want only the metrics Service)"
    assert common.get(sm["spec"]["jobLabel"]) == "probe-agent", "jobLabel must resolve to probe-agent"
    assert [e["port"] for e in sm["spec"]["endpoints"]] == ["admin"]
    (np,) = load_yaml_docs(K8S / "extras" / "networkpolicy.yaml")
    (sts,) = by_kind(objs, "StatefulSet")
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    assert np["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert [p["port"] for r in np["spec"]["ingress"] for p in r["ports"]] == [9464]


# --------------------------------------------------------------------------- grafana

GRAFANA = DEPLOY / "grafana"


def provisioned_datasources():
    ds = load_yaml(GRAFANA / "provisioning" / "datasources" / "datasources.yaml")["datasources"]
    return {d["uid"]: d["type"] for d in ds}


def dashboards():
    return sorted((GRAFANA / "dashboards").glob("*.json"))


@check("grafana: data sources Prometheus, Tempo, Jaeger provisioned with unique uids")
def _():
    ds = load_yaml(GRAFANA / "provisioning" / "datasources" / "datasources.yaml")["datasources"]
    uids = [d["uid"] for d in ds]
    assert len(uids) == len(set(uids)), f"duplicate uids {uids}"
    assert {d["type"] for d in ds} >= {"prometheus", "tempo", "jaeger"}
    types = provisioned_datasources()
    for d in ds:
        for sub in walk(d.get("jsonData", {})):
            if "datasourceUid" in sub:
                assert sub["datasourceUid"] in types, f"{d['name']}: links to unknown uid {sub['datasourceUid']}"


@check("grafana: dashboard data source uids and types match provisioned ones")
def _():
    types = provisioned_datasources()
    assert dashboards(), "no dashboard JSON"
    problems = []
    for path in dashboards():
        d = json.loads(path.read_text(encoding="utf-8"))
        for obj in walk(d):
            ds = obj.get("datasource")
            if isinstance(ds, dict) and "uid" in ds:
                if ds.get("type") == "grafana":
                    continue
                if ds["uid"] not in types:
                    problems.append(f"{path.name}: uid {ds['uid']}")
                elif ds.get("type") and ds["type"] != types[ds["uid"]]:
                    problems.append(f"{path.name}: uid {ds['uid']} type {ds['type']} != {types[ds['uid']]}")
            elif isinstance(ds, str) and ds not in types and not ds.startswith("$"):
                problems.append(f"{path.name}: datasource {ds!r} by name")
    assert not problems, "; ".join(sorted(set(problems)))


@check("grafana: dashboard panels (unique ids, targets with refIds, required views)")
def _():
    for path in dashboards():
        d = json.loads(path.read_text(encoding="utf-8"))
        assert d.get("uid") and d.get("title")
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for p in d["panels"]:
            assert "gridPos" in p, f"{path.name}: panel {p['id']} lacks gridPos"
            refs = [t.get("refId") for t in p.get("targets", [])]
            assert all(refs) and len(refs) == len(set(refs)), f"{path.name}: panel {p['title']} refIds {refs}"
        text = json.dumps(d)
        for needle in ("probe_success", "probe_http_phase_duration_seconds_bucket", "probe_health_status",
                       "probe_target_restarts_total", 'name = \\"probe\\"', "traceql"):
            assert needle in text, f"{path.name}: no {needle}"
        kinds = {p["type"] for p in d["panels"]}
        assert {"state-timeline", "timeseries", "table"} <= kinds, kinds
        ann = [a for a in d["annotations"]["list"] if "probe_target_restarts_total" in a.get("expr", "")]
        assert ann, "restarts must be a dashboard annotation"


GRAFANA_MACROS = {
    "$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "${target:regex}": ".*", "$target": ".*",
}


@check("grafana: every dashboard PromQL expression parses (promtool check rules)")
def _():
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found (scripts/test-deploy installs the prometheus package)"
    rules = []
    for path in dashboards():
        d = json.loads(path.read_text(encoding="utf-8"))
        exprs = []
        for obj in walk(d):
            ds = obj.get("datasource")
            if isinstance(obj.get("expr"), str) and (not isinstance(ds, dict) or ds.get("type") == "prometheus"):
                exprs.append(obj["expr"])
        for v in d.get("templating", {}).get("list", []):
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.match(r"label_values\((.*),\s*\w+\)$", q or "")
            if m:
                exprs.append(m.group(1))
        assert exprs, f"{path.name}: no PromQL found"
        for i, e in enumerate(exprs):
            for k in sorted(GRAFANA_MACROS, key=len, reverse=True):
                e = e.replace(k, GRAFANA_MACROS[k])
            assert "$" not in e, f"unhandled Grafana variable in {e!r}"
            rules.append({"record": f"dashboard:{path.stem.replace('-', '_')}:expr{i}", "expr": e})
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard-exprs", "rules": rules}]}, f)
    try:
        r = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (r.stdout + r.stderr).strip()
    finally:
        os.unlink(f.name)


@check("grafana: dashboard provider path is where compose mounts the dashboards")
def _():
    prov = load_yaml(GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml")
    paths = [p["options"]["path"] for p in prov["providers"]]
    g = compose()["services"]["grafana"]
    mounts = {v.split(":")[1]: (COMPOSE_DIR / v.split(":")[0]).resolve() for v in g["volumes"] if bind_source(v)}
    assert mounts.get("/etc/grafana/provisioning") == (GRAFANA / "provisioning").resolve()
    for p in paths:
        assert mounts.get(p) == (GRAFANA / "dashboards").resolve(), f"provider path {p} not mounted from deploy/grafana/dashboards"


# --------------------------------------------------------------------------- alert rules

ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
ALERT_TESTS = REPO / "Tests" / "deploy" / "alerts_test.yaml"
AGENT_METRICS = {
    "probe_success", "probe_duration_seconds", "probe_http_status_code", "probe_http_duration_seconds",
    "probe_ssl_earliest_cert_expiry", "probe_consecutive_failures", "probe_state_transitions_total",
    "probe_target_restarts_total", "probe_health_status", "probe_agent_config_reload_success",
    "otlp_exporter_exported_total", "otlp_exporter_dropped_total", "otlp_exporter_failed_total",
    "otlp_exporter_retries_total", "otlp_exporter_queue_size", "probe_agent_spans_dropped_total", "up",
    "otlp_exporter_spool_oldest_age_seconds", "otlp_exporter_spool_writable",
}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                   "group_left", "group_right", "inf", "nan"}


def alert_rules():
    return [r for g in load_yaml(ALERTS)["groups"] for r in g["rules"] if "alert" in r]


@check("alerts: the required alerts exist, with severity, summary, description, runbook")
def _():
    rules = alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    required = {"ProbeTargetDown", "ProbeTargetFlapping", "ProbeCertificateExpiringSoon",
                "ProbeCertificateExpiryCritical", "ProbeTargetDegraded", "ProbeTargetRestarted",
                "ProbeAgentExporterDropping", "ProbeAgentSpansDropped", "ProbeAgentDown"}
    assert required <= set(names), f"missing {required - set(names)}"
    for r in rules:
        assert r["labels"]["severity"] in ("critical", "warning", "info"), r["alert"]
        for a in ("summary", "description", "runbook"):
            assert r["annotations"].get(a), f"{r['alert']}: no {a}"


def metric_selectors(expr: str) -> list[tuple[str, str]]:
    """(metric name, matchers) for every vector selector of a PromQL expression (no `}` inside matchers)."""
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)  # label lists
    e = re.sub(r"\[[^\]]*\]", " ", e)                                   # range / subquery windows
    found = []
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?", e):
        name, matchers, call = m.groups()   # a selector's matchers are consumed with its name
        if call or name in PROMQL_KEYWORDS or re.fullmatch(r"\d+\w*", name):
            continue
        found.append((name, matchers or ""))
    return found


@check("alerts: written against the agent's /metrics names, every selector has job=\"probe-agent\"")
def _():
    problems = []
    for r in alert_rules():
        sels = metric_selectors(r["expr"])
        assert sels, f"{r['alert']}: no metric found in {r['expr']!r}"
        for name, matchers in sels:
            if name not in AGENT_METRICS:
                problems.append(f"{r['alert']}: {name} is not one of the agent's /metrics names")
            if 'job="probe-agent"' not in matchers:
                problems.append(f"{r['alert']}: {name} selected without job=\"probe-agent\"")
    assert not problems, "; ".join(problems)


@check("alerts: every alert has a firing and a not-firing promtool test")
def _():
    tests = load_yaml(ALERT_TESTS)
    assert [str((ALERT_TESTS.parent / f).resolve()) for f in tests["rule_files"]].count(str(ALERTS.resolve())) == 1
    firing, quiet = set(), set()
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
    names = {r["alert"] for r in alert_rules()}
    assert not names - firing, f"no firing test: {sorted(names - firing)}"
    assert not names - quiet, f"no not-firing test: {sorted(names - quiet)}"
    assert not (firing | quiet) - names, f"tests for unknown alerts: {sorted((firing | quiet) - names)}"


def heading_anchors(md: Path) -> set[str]:
    anchors = set()
    for line in md.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#+\s+(.*)$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


@check("alerts: runbook links point at headings of docs/operations.md")
def _():
    doc = REPO / "docs" / "operations.md"
    anchors = heading_anchors(doc)
    bad = []
    for r in alert_rules():
        link = r["annotations"]["runbook"]
        path, _, anchor = link.partition("#")
        if path != "docs/operations.md" or anchor not in anchors:
            bad.append(f"{r['alert']}: {link}")
    assert not bad, f"{bad}; headings: {sorted(a for a in anchors if a.startswith('probe'))}"


# --------------------------------------------------------------------------- alertmanager

@check("alertmanager: inhibit rules and routes name existing alerts")
def _():
    am = load_yaml(DEPLOY / "alertmanager" / "alertmanager.yml")
    names = {r["alert"] for r in alert_rules()}
    receivers = {r["name"] for r in am["receivers"]}
    assert am["route"]["receiver"] in receivers
    for r in am["route"].get("routes", []):
        assert r["receiver"] in receivers
    for rule in am.get("inhibit_rules", []):
        for m in rule.get("source_matchers", []) + rule.get("target_matchers", []):
            mm = re.match(r'alertname(=~|=)"(.*)"$', m)
            if mm:
                pat = mm.group(2) if mm.group(1) == "=~" else re.escape(mm.group(2))
                assert any(re.fullmatch(pat, n) for n in names), f"matcher {m} matches no alert"


@check("the export spool is on storage that outlives the agent (k8s claim, compose named volume, systemd StateDirectory)")
def _():
    _, objs = k8s_objects()
    (sts,) = by_kind(objs, "StatefulSet")
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    spool_dir = env.get("PROBE_AGENT_SPOOL_DIR")
    assert spool_dir, "k8s: PROBE_AGENT_SPOOL_DIR not set"
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert mounts.get(spool_dir) in claims, f"k8s: {spool_dir} is not a volumeClaimTemplate's mount"
    agent = compose()["services"]["probe-agent"]
    spool = (load_yaml(COMPOSE_DIR / "agent.yaml").get("exporter") or {}).get("spool") or {}
    named = [str(v).split(":") for v in agent["volumes"] if not str(v).startswith((".", "/"))]
    assert any(len(v) >= 2 and v[1] == spool.get("dir") for v in named), f"compose: spool dir {spool.get('dir')} is not a named volume"
    keys = unit_keys()
    state = "/var/lib/" + keys["Service.StateDirectory"][0]
    spool_env = [e for e in keys.get("Service.Environment", []) if e.startswith("PROBE_AGENT_SPOOL_DIR=")]
    assert spool_env and spool_env[0].split("=", 1)[1].startswith(state + "/"), f"systemd: spool not under {state}"


# --------------------------------------------------------------------------- systemd

UNIT = DEPLOY / "systemd" / "probe-agent.service"


def unit_keys():
    keys: dict[str, list[str]] = {}
    section = None
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        keys.setdefault(f"{section}.{k.strip()}", []).append(v.strip())
    return keys


@check("systemd: unit has the hardening keys")
def _():
    k = unit_keys()
    want = {
        "Service.NoNewPrivileges": "yes", "Service.ProtectSystem": "strict", "Service.ProtectHome": "yes",
        "Service.PrivateTmp": "yes", "Service.CapabilityBoundingSet": "", "Service.Restart": "on-failure",
        "Service.ExecReload": "/bin/kill -HUP $MAINPID", "Service.StateDirectory": "probe-agent",
        "Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }
    problems = [f"{key}={k.get(key)} (want {v!r})" for key, v in want.items() if k.get(key) != [v]]
    if k.get("Service.DynamicUser") != ["yes"] and not k.get("Service.User"):
        problems.append("no DynamicUser=yes or User=")
    if "@system-service" not in k.get("Service.SystemCallFilter", []):
        problems.append("SystemCallFilter=@system-service missing")
    if not k.get("Service.MemoryMax"):
        problems.append("MemoryMax missing")
    start = k.get("Service.ExecStart", [""])[0]
    if not re.search(r"probe-agent run --config /etc/probe-agent/agent\.yaml", start):
        problems.append(f"ExecStart {start!r}")
    assert not problems, "; ".join(problems)


# --------------------------------------------------------------------------- Dockerfile

@check("Dockerfile: multi-stage Swift build, static stdlib, slim non-root runtime, EXPOSE 9464")
def _():
    text = (COMPOSE_DIR / "Dockerfile").read_text(encoding="utf-8")
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instr = [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if len(l.split(None, 1)) > 1 else "")
             for l in (x.strip() for x in lines) if l and not l.startswith("#")]
    froms = [a for i, a in instr if i == "FROM"]
    assert len(froms) >= 2, "not multi-stage"
    assert re.match(r"swift:\$\{SWIFT_VERSION\}|swift:6", froms[0]), froms[0]
    assert "slim" in froms[-1], f"runtime {froms[-1]} is not slim"
    runs = " ".join(a for i, a in instr if i == "RUN")
    for needle in ("libcurl4-openssl-dev", "swift build -c release --product probe-agent", "--static-swift-stdlib",
                   "libcurl4 ", "ca-certificates"):
        assert needle in runs, f"no {needle!r} in RUN instructions"
    stage_of_last_from = max(n for n, (i, _) in enumerate(instr) if i == "FROM")
    users = [a for n, (i, a) in enumerate(instr) if i == "USER" and n > stage_of_last_from]
    assert users and users[-1].split(":")[0] not in ("0", "root"), f"runtime USER {users}"
    assert any(i == "EXPOSE" and "9464" in a for i, a in instr)
    # COPY sources (without --from) exist relative to the build context: the repo root
    for i, a in instr:
        if i == "COPY" and "--from" not in a:
            srcs = [s for s in a.split() if not s.startswith("--")][:-1]
            for s in srcs:
                assert (REPO / s).exists(), f"COPY source {s} missing from the repo root context"
    ignore = (COMPOSE_DIR / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert ".build" in ignore and ".git" in ignore, "Dockerfile.dockerignore should exclude .build and .git"
    targets_df = (COMPOSE_DIR / "targets" / "Dockerfile").read_text(encoding="utf-8")
    for line in targets_df.splitlines():
        if line.startswith("COPY "):
            for s in line.split()[1:-1]:
                assert (COMPOSE_DIR / "targets" / s).is_file(), f"targets/Dockerfile: {s} missing"


# --------------------------------------------------------------------------- sample targets

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "check_deploy", "version": "1"}}}).encode()


def post_initialize(url: str, token: str | None = None):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=INIT, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Target:
    """One sample target script on 127.0.0.1:<free port>, stopped on exit."""

    def __init__(self, script: str, env_for_port=lambda port: {}):
        self.port = free_port()
        env = dict(os.environ, MCP_HOST="127.0.0.1", MCP_PORT=str(self.port), **env_for_port(self.port))
        self.proc = subprocess.Popen([sys.executable, str(COMPOSE_DIR / "targets" / script)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{script} exited: {self.proc.stderr.read().decode()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"{script} did not listen on 127.0.0.1:{self.port}")
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@check("sample target mcp_plain.py: initialize -> 200 InitializeResult, /healthz -> 200")
def _():
    with Target("mcp_plain.py") as t:
        status, headers, body = post_initialize(f"http://127.0.0.1:{t.port}/mcp")
        assert status == 200, (status, body[:200])
        result = json.loads(body)["result"]
        assert result["serverInfo"]["name"] == "demo-plain", result
        with urllib.request.urlopen(f"http://127.0.0.1:{t.port}/healthz", timeout=5) as r:
            assert r.status == 200


@check("sample target mcp_oauth.py: no/wrong token -> 401 Bearer challenge, demo token -> 200")
def _():
    token_file = COMPOSE_DIR / "secrets" / "demo-oauth.token"
    token = token_file.read_text(encoding="utf-8").strip()
    assert token, "empty demo token"
    env = lambda port: {"MCP_DEMO_TOKEN_FILE": str(token_file),  # noqa: E731
                        "MCP_PUBLIC_URL": f"http://127.0.0.1:{port}/mcp"}
    with Target("mcp_oauth.py", env) as t:
        url = f"http://127.0.0.1:{t.port}/mcp"
        status, headers, body = post_initialize(url)
        assert status == 401, (status, body[:200])
        challenge = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
        assert challenge.startswith("Bearer") and "resource_metadata=" in challenge, challenge
        status, _, _ = post_initialize(url, token="wrong-token")
        assert status == 401, status
        status, _, body = post_initialize(url, token=token)
        assert status == 200, (status, body[:200])
        assert json.loads(body)["result"]["serverInfo"]["name"] == "demo-oauth"


# --------------------------------------------------------------------------- docs

@check("docs/operations.md: stack, static-validation note, TraceQL and Jaeger queries, every alert")
def _():
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    for needle in ("docker compose", "no Docker engine", "TraceQL", 'span.health.status', "target.restart",
                   "health.status=unreachable", "scripts/test-deploy", "--shard", "SIGHUP"):
        assert needle in text, f"docs/operations.md does not mention {needle!r}"
    for r in alert_rules():
        assert r["alert"] in text, f"docs/operations.md does not describe {r['alert']}"


# --------------------------------------------------------------------------- main

def main() -> int:
    parse_checks()
    # parse checks first (they are appended last), then the rest in file order
    parse = [c for c in CHECKS if c[0].startswith("parses: ")]
    rest = [c for c in CHECKS if not c[0].startswith("parses: ")]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in parse + rest:
        if only and not any(o in name for o in only):
            continue
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            msg = f"{type(e).__name__}: {e}" if not isinstance(e, AssertionError) else str(e)
            print(f"FAIL {name}: {msg}")
        else:
            passed += 1
            print(f"PASS {name}")
    print(f"check_deploy.py: passed={passed} failed={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

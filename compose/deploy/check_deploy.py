#!/usr/bin/env python3
"""Static checks of the compose deployment that need no Docker engine (run by check.sh).

  check_deploy.py DEPLOY_DIR REPO_ROOT

YAML well-formedness (duplicate keys are errors), then this deployment's own rules: the Kafka
durability settings, the topic settings, loopback-only published ports, one API instance,
per-replica volumes for scalable services, and a Dockerfile that builds with the packages of
compose/install-deps.sh and runs as a non-root user. Prints every problem; exit 1 if any.
"""
import re
import shlex
import sys
from pathlib import Path

import yaml

problems = []


def problem(msg):
    problems.append(msg)


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)  # resolves `<<` merge keys first; merged keys may be overridden
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen and key != "<<":
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def interpolate_default(value):
    """Resolve ${VAR:-default} / ${VAR-default} / ${VAR} to the default (empty when none)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}", lambda m: m.group(2) or "", value)


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: interpolate_default(str(v)) if v is not None else None for k, v in env.items()}


def command_of(service):
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def flag_value(args, flag):
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def check_compose(path):
    try:
        doc = yaml.load(path.read_text(), Loader=UniqueKeyLoader)
    except yaml.YAMLError as e:
        problem(f"{path}: YAML: {e}")
        return
    services = doc.get("services") or {}
    kafka = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("apache/kafka")
             and n != "topic-init"}
    keyledger = {n: s for n, s in services.items() if "keyledger" in str(s.get("image", ""))}

    # Kafka cluster.
    if len(kafka) != 3:
        problem(f"expected three Kafka nodes, found {sorted(kafka)}")
    node_ids = set()
    want = {
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": "3",
        "KAFKA_MIN_INSYNC_REPLICAS": "2",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "3",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "3",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "2",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
    }
    cluster_ids = set()
    for name, svc in kafka.items():
        if svc.get("image") != "apache/kafka:3.9.1":
            problem(f"{name}: image {svc.get('image')!r}, want apache/kafka:3.9.1")
        env = env_of(svc)
        for key, value in want.items():
            if env.get(key) != value:
                problem(f"{name}: {key}={env.get(key)!r}, want {value!r}")
        node_ids.add(env.get("KAFKA_NODE_ID"))
        cluster_ids.add(env.get("CLUSTER_ID"))
        voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") or ""
        voter_hosts = sorted(v.split("@", 1)[1].split(":")[0] for v in voters.split(",") if "@" in v)
        if voter_hosts != sorted(kafka):
            problem(f"{name}: controller.quorum.voters {voters!r} does not list every node")
        adv = env.get("KAFKA_ADVERTISED_LISTENERS") or ""
        if f"INTERNAL://{name}:" not in adv:
            problem(f"{name}: advertised listeners {adv!r} lack INTERNAL://{name}:PORT")
        if env.get("KAFKA_INTER_BROKER_LISTENER_NAME") != "INTERNAL":
            problem(f"{name}: inter-broker listener is not INTERNAL")
        if "healthcheck" not in svc:
            problem(f"{name}: no healthcheck (topic-init waits for service_healthy)")
        targets = [v.split(":")[1] if isinstance(v, str) and ":" in v else
                   (v.get("target") if isinstance(v, dict) else v) for v in svc.get("volumes") or []]
        if "/var/lib/kafka/data" not in targets:
            problem(f"{name}: no volume on /var/lib/kafka/data")
    if len(node_ids) != len(kafka) or None in node_ids:
        problem(f"Kafka node ids are not unique: {sorted(map(str, node_ids))}")
    if len(cluster_ids) != 1:
        problem(f"Kafka nodes disagree on CLUSTER_ID: {cluster_ids}")
    else:
        cid = next(iter(cluster_ids)) or ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{22}", cid):
            problem(f"CLUSTER_ID {cid!r} is not 22 characters of URL-safe base64")
    internal = sorted(f"{n}:9092" for n in kafka)

    # Topic.
    init = services.get("topic-init")
    partitions = None
    if not init:
        problem("no topic-init service")
    else:
        env = env_of(init)
        partitions = env.get("TOPIC_PARTITIONS")
        for key, value in {"TOPIC_PARTITIONS": "12", "TOPIC_REPLICATION_FACTOR": "3",
                           "TOPIC_MIN_INSYNC_REPLICAS": "2"}.items():
            if env.get(key) != value:
                problem(f"topic-init: {key}={env.get(key)!r}, want {value!r}")
        if sorted((env.get("KAFKA_BOOTSTRAP") or "").split(",")) != internal:
            problem(f"topic-init: KAFKA_BOOTSTRAP does not list {internal}")
        for dep in kafka:
            cond = (init.get("depends_on") or {}).get(dep, {}).get("condition")
            if cond != "service_healthy":
                problem(f"topic-init: depends_on {dep} condition {cond!r}, want service_healthy")
        if str(init.get("restart", "no")) != "no":
            problem("topic-init: a one-shot service must not restart")

    # Published ports: loopback only.
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            port = interpolate_default(port)
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            if host_ip != "127.0.0.1" or (isinstance(port, str) and port.count(":") != 2):
                problem(f"{name}: port {port!r} is not bound to 127.0.0.1")

    # keyledger services.
    for name in ("api", "projector", "validator"):
        if name not in keyledger:
            problem(f"no {name} service running the keyledger image")
    for name, svc in keyledger.items():
        env = env_of(svc)
        if sorted((env.get("KEYLEDGER_BOOTSTRAP") or "").split(",")) != internal:
            problem(f"{name}: KEYLEDGER_BOOTSTRAP does not list every broker {internal}")
        deps = svc.get("depends_on") or {}
        if (deps.get("topic-init") or {}).get("condition") != "service_completed_successfully":
            problem(f"{name}: must depend on topic-init with service_completed_successfully")
        if (svc.get("build") or {}).get("dockerfile") != "compose/deploy/Dockerfile":
            problem(f"{name}: build.dockerfile is not compose/deploy/Dockerfile")
    api = keyledger.get("api")
    if api:
        args = command_of(api)
        if flag_value(args, "--listen") != "0.0.0.0:8080":
            problem("api: --listen 0.0.0.0:8080 missing")
        if not flag_value(args, "--db"):
            problem("api: --db missing")
        if partitions and flag_value(args, "--partitions") not in (None, partitions):
            problem(f"api: --partitions differs from the topic's {partitions}")
        if (api.get("deploy") or {}).get("replicas", 1) != 1:
            problem("api: exactly one replica (one transactional writer owns every partition)")
        if "jwt_secret" not in [s if isinstance(s, str) else s.get("source") for s in api.get("secrets") or []]:
            problem("api: the jwt_secret compose secret is not mounted")
        if "KEYLEDGER_JWT_SECRET" in env_of(api):
            problem("api: the JWT secret must not be a plain environment value in the compose file")
        if "/readyz" not in str((api.get("healthcheck") or {}).get("test")):
            problem("api: healthcheck does not probe /readyz")
    validator = keyledger.get("validator")
    if validator:
        args = command_of(validator)
        if args[:1] != ["validator"] or flag_value(args, "--listen") != "0.0.0.0:8081" \
                or flag_value(args, "--admin-listen") != "0.0.0.0:8082" or not flag_value(args, "--snapshot"):
            problem("validator: want `validator --listen 0.0.0.0:8081 --admin-listen 0.0.0.0:8082 --snapshot FILE`")
        health = str((validator.get("healthcheck") or {}).get("test"))
        if "/readyz" not in health or "8082" not in health:
            problem("validator: healthcheck does not probe /readyz on the admin listener (8082)")
        if not isinstance((validator.get("deploy") or {}).get("replicas"), int):
            problem("validator: deploy.replicas is not set")
    for name in ("projector", "validator"):
        svc = keyledger.get(name)
        if not svc:
            continue
        for v in svc.get("volumes") or []:
            shared = (isinstance(v, str) and ":" in v) or (isinstance(v, dict) and v.get("source"))
            if shared:
                problem(f"{name}: volume {v!r} would be shared by every replica (RocksDB lock / snapshot)")
    projector = keyledger.get("projector")
    if projector and (command_of(projector)[:1] != ["project"] or not flag_value(command_of(projector), "--db")):
        problem("projector: want `project --db DIR`")

    # Top-level references.
    for kind in ("secrets", "configs"):
        for name, spec in (doc.get(kind) or {}).items():
            file = (spec or {}).get("file")
            if file and kind == "configs" and not (path.parent / file).is_file():
                problem(f"{kind}.{name}: {file} does not exist")


PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def apt_packages(run_text):
    """Package names of every `apt-get install` in a RUN instruction."""
    out = []
    for m in re.finditer(r"apt-get\s+install\s+(.*?)(?:&&|;|$)", run_text, re.S):
        out += [w for w in m.group(1).split() if not w.startswith("-") and PACKAGE_RE.match(w)]
    return out


def check_dockerfile(path, repo):
    text = path.read_text()
    # Join continuation lines, drop comments, split into (instruction, argument) per stage.
    logical, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            logical.append(current.strip())
        current = ""
    args, stages = {}, []
    for line in logical:
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "ARG" and not stages:
            k, _, v = rest.partition("=")
            args[k.strip()] = v.strip()
        elif instr == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), rest.split()[0])
            name = rest.split()[-1] if " as " in rest.lower() else str(len(stages))
            stages.append({"name": name, "image": image, "lines": []})
        elif not stages:
            problem(f"{path}: {instr} before the first FROM")
        else:
            stages[-1]["lines"].append((instr, rest))
    if len(stages) < 2:
        problem(f"{path}: want a multi-stage build (build + runtime), found {len(stages)} stage(s)")
        return
    build, runtime = stages[0], stages[-1]
    if build["image"] != "debian:bookworm":
        problem(f"{path}: build stage FROM {build['image']}, want debian:bookworm")
    if runtime["image"] != "debian:bookworm-slim":
        problem(f"{path}: runtime stage FROM {runtime['image']}, want debian:bookworm-slim")

    deps_script = (repo / "compose/install-deps.sh").read_text()
    listed = set(re.search(r"packages=\((.*?)\)", deps_script, re.S).group(1).split())
    build_pkgs = [p for instr, rest in build["lines"] if instr == "RUN" for p in apt_packages(rest)]
    if not build_pkgs:
        problem(f"{path}: the build stage installs no packages")
    for p in build_pkgs:
        if p not in listed:
            problem(f"{path}: build package {p} is not in compose/install-deps.sh")
    build_runs = " ".join(rest for instr, rest in build["lines"] if instr == "RUN")
    if "cmake --preset release" not in build_runs or "--target keyledger" not in build_runs:
        problem(f"{path}: the build stage does not run the release preset for the keyledger target")
    presets = (repo / "CMakePresets.json").read_text()
    if '"name": "release"' not in presets:
        problem("CMakePresets.json has no release preset")

    runtime_pkgs = set(p for instr, rest in runtime["lines"] if instr == "RUN" for p in apt_packages(rest))
    for p in ("librdkafka1", "librocksdb7.8", "libcapnp-0.9.2", "libssl3", "libboost-json1.81.0"):
        if p not in runtime_pkgs:
            problem(f"{path}: runtime stage lacks {p}")
    for p in runtime_pkgs:
        if p.endswith("-dev") or p in ("build-essential", "cmake", "g++", "gcc"):
            problem(f"{path}: runtime stage installs build tool {p}")
    users = [rest.strip() for instr, rest in runtime["lines"] if instr == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problem(f"{path}: the runtime stage does not switch to a non-root USER")
    entry = [rest.strip() for instr, rest in runtime["lines"] if instr == "ENTRYPOINT"]
    if entry[-1:] != ['["keyledger"]']:
        problem(f"{path}: ENTRYPOINT {entry[-1:] or None}, want [\"keyledger\"]")
    copies = [rest for instr, rest in runtime["lines"] if instr == "COPY"]
    if not any(f"--from={build['name']}" in c for c in copies):
        problem(f"{path}: the runtime stage copies nothing from the build stage")


def main():
    deploy, repo = Path(sys.argv[1]), Path(sys.argv[2])
    check_compose(deploy / "docker-compose.yml")
    check_dockerfile(deploy / "Dockerfile", repo)
    for p in problems:
        print(f"  problem: {p}")
    print(f"check_deploy: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

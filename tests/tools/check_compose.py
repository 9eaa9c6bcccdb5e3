#!/usr/bin/python3
"""Checks a compose file against the repository it sits in (tests/integration/deploy_test.cpp).

  check_compose.py COMPOSE_FILE

Every file the compose file names must exist: each service's build context (a directory) and
its dockerfile (relative to the context), and the host side of each bind mount (relative to
the compose file's directory); each named volume must be declared. Then what the mounted
configuration files name must be mounted too: the rule files of Prometheus's --config.file,
and the dashboard directories of Grafana's provisioning. One line per problem on stderr, exit
1 if there is any; on success one line on stdout, "checked N paths".
"""
import os
import sys

import yaml


def bind_mounts(service):
    """(host, target) of the service's bind mounts; named volumes as (None, target, name)."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            source, target = v.get("source", ""), v.get("target", "")
        else:
            parts = str(v).split(":")
            source, target = parts[0], parts[1] if len(parts) > 1 else ""
        out.append((source, target))
    return out


def main(compose_file):
    base = os.path.dirname(os.path.abspath(compose_file))
    with open(compose_file, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    problems = []
    checked = 0

    def need(path, kind, what):
        nonlocal checked
        checked += 1
        ok = os.path.isdir(path) if kind == "dir" else os.path.exists(path)
        if not ok:
            problems.append(f"{compose_file}: {what}: {os.path.relpath(path, base)} "
                            f"{'is not a directory' if kind == 'dir' else 'does not exist'}")
        return ok

    services = doc.get("services") or {}
    if not services:
        problems.append(f"{compose_file}: no services")
    declared = set((doc.get("volumes") or {}).keys())
    # Per service: container path -> host path of its bind mounts.
    mounts = {}
    for name, service in services.items():
        build = service.get("build")
        if build is not None:
            if isinstance(build, str):
                build = {"context": build}
            context = os.path.join(base, build.get("context", "."))
            if need(context, "dir", f"{name}: build context"):
                need(os.path.join(context, build.get("dockerfile", "Dockerfile")), "file",
                     f"{name}: dockerfile")
        elif "image" not in service:
            problems.append(f"{compose_file}: {name}: neither build nor image")
        mounts[name] = {}
        for source, target in bind_mounts(service):
            if source.startswith((".", "/")):
                host = os.path.normpath(os.path.join(base, source))
                if need(host, "any", f"{name}: volume {source}"):
                    mounts[name][target] = host
            elif source not in declared:
                problems.append(f"{compose_file}: {name}: volume {source} is not declared")

    def mounted(service, path):
        """The host path behind `path` in `service`'s container, or None."""
        for target, host in mounts.get(service, {}).items():
            if path == target:
                return host
            if path.startswith(target.rstrip("/") + "/"):
                return os.path.join(host, os.path.relpath(path, target))
        return None

    for name, service in services.items():
        command = service.get("command") or []
        for arg in command if isinstance(command, list) else str(command).split():
            if not str(arg).startswith("--config.file="):
                continue
            target = str(arg).split("=", 1)[1]
            host = mounted(name, target)
            if host is None:
                problems.append(f"{compose_file}: {name}: {target} is not mounted")
                continue
            with open(host, encoding="utf-8") as f:
                config = yaml.safe_load(f) or {}
            for rule in config.get("rule_files") or []:
                path = os.path.join(os.path.dirname(target), rule)
                checked += 1
                if mounted(name, path) is None:
                    problems.append(f"{compose_file}: {name}: rule file {path} is not mounted")
        provisioning = mounted(name, "/etc/grafana/provisioning/dashboards")
        if provisioning and os.path.isdir(provisioning):
            for entry in sorted(os.listdir(provisioning)):
                with open(os.path.join(provisioning, entry), encoding="utf-8") as f:
                    provider_file = yaml.safe_load(f) or {}
                for provider in provider_file.get("providers") or []:
                    path = (provider.get("options") or {}).get("path", "")
                    checked += 1
                    host = mounted(name, path)
                    if host is None or not os.path.isdir(host):
                        problems.append(f"{compose_file}: {name}: dashboards path {path} "
                                        f"({entry}) is not a mounted directory")

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"checked {checked} paths")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: check_compose.py COMPOSE_FILE", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))

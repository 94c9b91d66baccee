"""Every LONGRM_* setting that a deployment file sets must be one the server reads, with a valid value.

`longrm serve --check-config` resolves flags, LONGRM_<FLAG> variables and defaults without loading the model
and prints one `flag = value  # origin` line per setting. This runs it with the environment and arguments of
each deployment (the Kubernetes ConfigMap and container args, the systemd unit's Environment= and ExecStart,
the Containerfile's ENV and CMD) and checks that it accepts them and that each variable shows as `# env`:
a misspelt name would otherwise be ignored without a word.
Usage: python3 settings_consumed.py LONGRM_BINARY RENDERED_K8S.yaml SYSTEMD_UNIT CONTAINERFILE
"""
import json
import re
import shlex
import subprocess
import sys

import yaml

# Read by the server outside the flag settings, so --check-config does not list them.
NOT_FLAGS = {"LONGRM_OPENAPI", "LONGRM_DEFAULT_MODEL"}


def flag_of(variable: str) -> str:
    return variable[len("LONGRM_"):].lower().replace("_", "-")


def check(name: str, binary: str, env: dict, args: list) -> list:
    run_env = {"PATH": "/usr/bin:/bin", **env}
    proc = subprocess.run([binary, *args, "--check-config"], env=run_env, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        return [f"{name}: --check-config refused the settings: {proc.stderr.strip() or proc.stdout.strip()}"]
    origin = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^([a-z0-9-]+) = .*#\s*(\w+)\s*$", line)
        if m:
            origin[m.group(1)] = m.group(2)
    problems = []
    for variable in env:
        if not variable.startswith("LONGRM_") or variable in NOT_FLAGS:
            continue
        flag = flag_of(variable)
        if flag not in origin:
            problems.append(f"{name}: {variable} names no setting of longrm serve")
        elif origin[flag] not in ("env", "flag"):
            problems.append(f"{name}: {variable} was not used (--{flag} came from {origin[flag]})")
    print(f"{name}: {sum(1 for v in env if v.startswith('LONGRM_'))} variables, accepted")
    return problems


def main() -> int:
    binary, rendered, unit_path, containerfile = sys.argv[1:5]
    problems = []

    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    cm = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = dict(cm)
    for e in container.get("env", []):
        env[e["name"]] = e.get("value", "secret-from-kubernetes")
    problems += check("kubernetes", binary, env, container.get("args", []))

    unit_env, exec_args = {}, []
    for line in open(unit_path):
        line = line.strip()
        if line.startswith("Environment="):
            for item in shlex.split(line[len("Environment="):]):
                key, _, value = item.partition("=")
                unit_env[key] = value
        elif line.startswith("ExecStart="):
            exec_args = shlex.split(line[len("ExecStart="):])[1:]
    problems += check("systemd", binary, unit_env, exec_args)

    # The runtime stage and those built on it; the builder's ENV (LONGRM_CACHE) is for setup.sh only.
    text = open(containerfile).read().replace("\\\n", " ")
    text = text[re.search(r"^FROM .* AS runtime\s*$", text, re.M).start():]
    image_env = {}
    for line in re.findall(r"^ENV\s+(.*)$", text, re.M):
        for item in shlex.split(line):
            key, _, value = item.partition("=")
            if key.startswith("LONGRM_"):
                image_env[key] = value
    cmd = json.loads(re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.M)[-1])
    problems += check("container image", binary, image_env, cmd)

    for p in problems:
        print("violated:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

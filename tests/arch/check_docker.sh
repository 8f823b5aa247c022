#!/usr/bin/env bash
# check_docker.sh - Docker does not run on our machines, so deploy/docker/ is
# kept honest here: compose.yaml parses, names every service of SPEC §1 on its
# port, every setting of SPEC §5, and the Dockerfile builds every executable
# the native scripts start and uses the same migrations directory.
# Least privilege (docs/isolation.md, ADR 0007): PostgreSQL and RabbitMQ are
# published on 127.0.0.1 only; no password is written in compose.yaml, each
# comes from a variable that deploy/docker/.env.example lists (and .env is
# never committed); each context runs as its own <context>_svc login; the
# admin step (isolation.sh) runs before migrate, which gets every context's
# own URL, and the image carries that step. The dashboard (eventctl dashboard)
# runs after migrate, on the host's loopback, with a token from .env.
set -euo pipefail
cd "$(dirname "$0")/../.."
compose=deploy/docker/compose.yaml
dockerfile=deploy/docker/Dockerfile
python3 - "$compose" deploy/docker/.env.example <<'PY'
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
raw = open(sys.argv[1]).read()
example = open(sys.argv[2]).read()
services = doc["services"]
ports = {"servicecatalog": 8081, "usermanagement": 8082, "booking": 8083,
         "inventory": 8084, "payment": 8085, "notification": 8086}
errors = []
for name in ["postgres", "rabbitmq", "migrate", *ports]:
    if name not in services:
        errors.append(f"service '{name}' missing")
settings = ["DATABASE_URL", "AMQP_URL", "HTTP_PORT", "LOG_LEVEL", "EVENTS_EXCHANGE",
            "AMQP_QUEUE_TYPE", "PREFETCH", "RETRY_MAX_ATTEMPTS", "RETRY_BASE_MS",
            "RETRY_MAX_MS", "RETENTION_HOURS", "INSTANCE_ID"]
for name, port in ports.items():
    s = services.get(name, {})
    env = s.get("environment", {})
    for key in settings:
        if key not in env:
            errors.append(f"{name}: setting {key} missing")
    if str(env.get("HTTP_PORT")) != str(port):
        errors.append(f"{name}: HTTP_PORT is {env.get('HTTP_PORT')}, SPEC says {port}")
    if s.get("command") != [name]:
        errors.append(f"{name}: command is {s.get('command')}")
    if f"{port}:{port}" not in s.get("ports", []):
        errors.append(f"{name}: port {port} not published")
if "PAYMENT_LIMIT_CENTS" not in services.get("payment", {}).get("environment", {}):
    errors.append("payment: PAYMENT_LIMIT_CENTS missing")

# --- least privilege ---
for name in ["postgres", "rabbitmq"]:
    for p in services.get(name, {}).get("ports", []):
        if not str(p).startswith("127.0.0.1:"):
            errors.append(f"{name}: port '{p}' is published on every interface, want 127.0.0.1:")
# every password is a variable: in URLs, and the servers' own settings
for m in re.finditer(r"://([^:/@\s]+):([^@\s]*)@", raw):
    if not re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", m.group(2)):
        errors.append(f"a URL of {m.group(1)} has a literal password")
for name, key in [("postgres", "POSTGRES_PASSWORD"), ("rabbitmq", "RABBITMQ_DEFAULT_PASS")]:
    v = str(services.get(name, {}).get("environment", {}).get(key, ""))
    if not re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", v):
        errors.append(f"{name}: {key} is not taken from deploy/docker/.env")
listed = set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))
for var in sorted(set(re.findall(r"\$\{([A-Z0-9_]+)", raw))):
    if var not in listed:
        errors.append(f"variable {var} is missing from deploy/docker/.env.example")
for var in sorted(listed):
    if re.search(rf"^{var}=.+", example, re.M):
        errors.append(f".env.example gives {var} a value: leave every password to the user")
# each context as its own login; the admin step before migrate, which migrates as the contexts
def url_user(url):
    m = re.match(r"[a-z]+://([^:@/]+)", str(url))
    return m.group(1) if m else None
for name in ports:
    env = services.get(name, {}).get("environment", {})
    for key in ["DATABASE_URL", "AMQP_URL"]:
        if url_user(env.get(key)) != f"{name}_svc":
            errors.append(f"{name}: {key} logs in as {url_user(env.get(key))}, want {name}_svc")
iso = services.get("isolation", {})
if "isolation.sh" not in " ".join(map(str, iso.get("command", []))):
    errors.append("no 'isolation' service running isolation.sh (the admin step)")
dep = services.get("migrate", {}).get("depends_on", {}).get("isolation", {})
if dep.get("condition") != "service_completed_successfully":
    errors.append("migrate does not wait for the admin step (isolation)")
for step in ["isolation", "migrate"]:
    env = services.get(step, {}).get("environment", {})
    for name in ports:
        if url_user(env.get(f"{name.upper()}_DATABASE_URL")) != f"{name}_svc":
            errors.append(f"{step}: {name.upper()}_DATABASE_URL missing or not {name}_svc")
# the dashboard: eventctl dashboard after migrate, on the host's loopback only, with a token
dash = services.get("dashboard", {})
if dash.get("command", [])[:2] != ["eventctl", "dashboard"]:
    errors.append("no 'dashboard' service running eventctl dashboard")
if dash.get("ports") != ["127.0.0.1:8080:8080"]:
    errors.append(f"dashboard: ports {dash.get('ports')}, want ['127.0.0.1:8080:8080']")
if not re.fullmatch(r"\$\{DASHBOARD_TOKEN(:\?[^}]*)?\}", str(dash.get("environment", {}).get("DASHBOARD_TOKEN", ""))):
    errors.append("dashboard: DASHBOARD_TOKEN is not taken from deploy/docker/.env")
if dash.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
    errors.append("dashboard does not wait for migrate")
for e in errors:
    print("docker:", e)
sys.exit(1 if errors else 0)
PY
fail=0
for bin in servicecatalog usermanagement booking inventory payment notification migrate; do
    grep -q "^add_executable($bin\b\|context_executable($bin\b" CMakeLists.txt common/CMakeLists.txt contexts/*/CMakeLists.txt 2>/dev/null \
        || { echo "docker: no target builds '$bin'"; fail=1; }
done
grep -q 'COPY --from=build /build/bin/' "$dockerfile" || { echo "docker: the image does not take build/bin"; fail=1; }
grep -q 'COPY migrations ' "$dockerfile" || { echo "docker: the image lacks the migrations"; fail=1; }
grep -q 'COPY deploy/local/isolation.sh deploy/local/lib.sh /usr/local/share/events/deploy/local/' "$dockerfile" \
    || { echo "docker: the image lacks the admin step (isolation.sh and lib.sh)"; fail=1; }
grep -qx '\.env' deploy/docker/.gitignore 2>/dev/null \
    || { echo "docker: deploy/docker/.gitignore does not keep .env out of git"; fail=1; }
[ $fail = 0 ] && echo "docker: compose.yaml and Dockerfile agree with SPEC and the build"
exit $fail

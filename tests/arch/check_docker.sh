#!/usr/bin/env bash
# check_docker.sh - Docker does not run on our machines, so deploy/docker/ is
# kept honest here: compose.yaml parses, names every service of SPEC §1 on its
# port, every setting of SPEC §5, and the Dockerfile builds every executable
# the native scripts start and uses the same migrations directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
compose=deploy/docker/compose.yaml
dockerfile=deploy/docker/Dockerfile
python3 - "$compose" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
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
[ $fail = 0 ] && echo "docker: compose.yaml and Dockerfile agree with SPEC and the build"
exit $fail

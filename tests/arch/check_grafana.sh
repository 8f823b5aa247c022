#!/usr/bin/env bash
# check_grafana.sh - every metric that the Grafana dashboard (deploy/grafana/events.json) and the
# Prometheus rules (deploy/prometheus/rules.yml) name in their PromQL exists: it is one the
# services register in C (metrics_counter/_gauge/_histogram, or consumer.c's count() wrapper;
# a histogram adds _bucket, _sum and _count), a series the rules record, or Prometheus's own
# 'up'. A rename in the C sources that leaves a query behind fails here, not on a blank panel.
# Usage: check_grafana.sh   (from anywhere; python3 with PyYAML, which deploy/local/deps.sh installs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

python3 - deploy/grafana/events.json deploy/prometheus/rules.yml <<'PY'
import glob, json, re, sys
import yaml

dashboard_path, rules_path = sys.argv[1], sys.argv[2]

# The names the services expose, from their registrations. count() in consumer.c registers a
# counter by the name it is given; a new wrapper must be added here.
REGISTER = re.compile(
    r'\b(metrics_counter|metrics_gauge|metrics_histogram|count)\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
exposed = set()
for path in sorted(glob.glob("common/src/*.c") + glob.glob("contexts/**/*.c", recursive=True)):
    for kind, name in REGISTER.findall(open(path, encoding="utf-8").read()):
        if kind == "metrics_histogram":
            exposed.update(name + s for s in ("_bucket", "_sum", "_count"))
        else:
            exposed.add(name)
if "http_requests_total" not in exposed or "events_consumed_total" not in exposed:
    sys.exit("check_grafana: the registrations were not found in common/src: fix this script")

rules = yaml.safe_load(open(rules_path, encoding="utf-8"))
recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
known = exposed | recorded | {"up"}

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "atan2"}

def metric_names(expr):
    """The metric names in a PromQL expression (Grafana's $variables allowed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)            # string literals
    e = re.sub(r"\$\{?\w+\}?", "", e)                        # Grafana variables
    e = re.sub(r"\{[^}]*\}", "", e)                          # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                         # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS or re.fullmatch(r"\d.*", word):
            continue
        names.add(word)
    return names

exprs = []  # (where, expr)
for g in rules["groups"]:
    for r in g["rules"]:
        exprs.append((f"{rules_path}: {r.get('record') or r.get('alert')}", str(r["expr"])))

dash = json.load(open(dashboard_path, encoding="utf-8"))
def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))
npanels = 0
for p in panels(dash.get("panels", [])):
    for t in p.get("targets", []):
        if "expr" in t:
            npanels += 1
            exprs.append((f"{dashboard_path}: panel '{p.get('title')}' {t.get('refId')}", t["expr"]))
for v in dash.get("templating", {}).get("list", []):
    query = v.get("query")
    query = query.get("query", "") if isinstance(query, dict) else query or ""
    m = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", query)
    if v.get("type") == "query" and m:
        exprs.append((f"{dashboard_path}: variable '{v.get('name')}'", m.group(1)))
if npanels == 0:
    sys.exit(f"check_grafana: no PromQL expression found in {dashboard_path}")

problems = []
for where, expr in exprs:
    names = metric_names(expr)
    if not names:
        problems.append(f"{where}: no metric in '{expr}'")
    for name in sorted(names - known):
        problems.append(f"{where}: '{name}' is not a metric the services expose or the rules record")
for p in problems:
    print("check_grafana:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check_grafana: {len(exprs)} expressions name only the {len(exposed)} exposed and "
      f"{len(recorded)} recorded series")
PY

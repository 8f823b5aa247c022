#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (committed; rerun after changing it).

envelope: every case of tests/unit/data/envelopes.json (valid and invalid), and for every
  event in docs/events.md (generated from the contract tables) a valid event whose data meets
  its contract, so the fuzzer starts inside every contract's accepting path.
routes: for every route of every context (CONTEXTS order, then each routes.c table: the order
  fuzz_routes.c numbers them in), a request with a valid path id and a valid body.
url_mask, amqp_url: the URL shapes the services are configured with.
Usage: tests/fuzz/seeds.py   (from anywhere; it rewrites the corpus directories)
"""
import hashlib
import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
UUID = "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"
UUID2 = "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e60"


def write(target, items):
    d = CORPUS / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for data in items:
        if isinstance(data, str):
            data = data.encode()
        (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
    print(f"{target}: {len(items)} seeds")


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def envelope_seeds():
    spec = json.loads((ROOT / "tests/unit/data/envelopes.json").read_text())
    seeds = []
    for case in spec["cases"]:
        if "raw" in case:
            seeds.append(case["raw"])
            continue
        ev = dict(spec["base"])
        ev.update(case.get("set", {}))
        for k in case.get("unset", []):
            ev.pop(k, None)
        seeds.append(compact(ev))
    # One valid event per type, its data built from the catalog's field table.
    events = re.split(r"^## `", (ROOT / "docs/events.md").read_text(), flags=re.M)[1:]
    for section in events:
        etype = section.split("`", 1)[0]
        version = int(re.search(r"Version (\d+)", section).group(1))
        data = {}
        for row in re.findall(r"^\| `(\w+)` \|(.*)$", section, flags=re.M):
            name, rest = row
            kind, _req, fmt, bounds = [c.strip() for c in rest.split("|")[:4]]
            lo = re.search(r"(\d+)(?:\.\.|, )", bounds)
            lo = int(lo.group(1)) if lo else 1
            if kind == "integer":
                data[name] = max(lo, 2)
            elif kind == "boolean":
                data[name] = True
            elif fmt == "uuid":
                data[name] = UUID
            elif fmt == "email":
                data[name] = "ana@example.com"
            elif fmt == "date-time":
                data[name] = "2026-11-23T18:40:01.123456Z"
            elif fmt == "name":
                data[name] = "salon_2"
            elif kind == "array of strings":
                data[name] = ["a", "b"]
            else:
                data[name] = "Ana Lima"
        context = etype.split(".")[0]
        seeds.append(compact({
            "specversion": "1.0", "id": UUID, "source": "/" + context, "type": etype,
            "time": "2026-11-23T18:40:01.123456Z", "datacontenttype": "application/json",
            "dataschema": f"urn:event:{etype}:{version}", "correlationid": "req-42",
            "causationid": UUID2,
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "data": data}))
    return seeds


BODIES = {
    "/bookings": {"user_id": UUID, "offering_id": UUID2, "quantity": 2, "price_cents": 1500},
    "/providers": {"owner_id": UUID, "business_name": "Salon Rosa", "provider_type": "salon",
                   "owner_known": True},
    "/providers/{id}/offerings": {"name": "Haircut", "price_cents": 2500, "capacity": 10},
    "/users": {"email": "Ana@Example.com", "name": "Ana Lima"},
}


def route_seeds():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    contexts = re.search(r"set\(CONTEXTS ([^)]*)\)", cmake).group(1).split()
    routes = []
    for c in contexts:
        text = (ROOT / "contexts" / c / "routes.c").read_text()
        table = re.search(r"_routes\[\] = \{(.*?)\n\};", text, flags=re.S).group(1)
        routes += re.findall(r'\{"(\w+)", "([^"]+)", \w+\}', table)
    seeds = []
    for i, (method, pattern) in enumerate(routes):
        params = "".join(UUID + "\n" for _ in range(pattern.count("{")))
        body = compact(BODIES[pattern]) if pattern in BODIES else ""
        seeds.append(bytes([i]) + (params + body).encode())
        if body:  # the same route with a body that breaks a rule
            bad = dict(BODIES[pattern])
            key = next(iter(bad))
            bad[key] = 0 if isinstance(bad[key], str) else "x"
            seeds.append(bytes([i]) + (params + compact(bad)).encode())
    return seeds


def url_mask_seeds():
    return [
        "postgresql://events:s3cret@127.0.0.1:5432/events",
        "postgres://events:s3cret@[::1]:5432/events?sslmode=disable&application_name=x",
        "postgresql://events@localhost/events?password=s3cret",
        "postgresql:///events?host=/var/run/postgresql",
        "host=127.0.0.1 port=5432 dbname=events user=events password=s3cret",
        "host=127.0.0.1 password = 's3 cret' user=events",
        "amqp://events:s3cret@127.0.0.1:5672/%2f",
        "events",
    ]


def amqp_url_seeds():
    return [
        "amqp://events:s3cret@127.0.0.1:5672/events",
        "amqps://events:s3%40cret@rabbit.example.com/%2f",
        "amqp://[::1]:5672/v",
        "amqp://guest@localhost",
        "AMQP://u:p@h:65535/vhost%2fwith%2fslashes",
        "amqp://u:p@h:0/v",
        "amqp://u:p@h/",
        "amqp://u:p@h/a/b",
    ]


if __name__ == "__main__":
    write("envelope", envelope_seeds())
    write("routes", route_seeds())
    write("url_mask", url_mask_seeds())
    write("amqp_url", amqp_url_seeds())

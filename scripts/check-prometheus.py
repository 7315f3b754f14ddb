"""Asks a running Prometheus (its HTTP API) what make test's drill expects, one check a call:
  targets              every target is up (waits up to 60 s)
  recorded RULES...    every recording rule in RULES produces a series (waits up to 120 s)
  alert NAME STATE...  the alert NAME is in one of the STATEs (waits up to 180 s)
  dashboards RULES -- DASHBOARDS...
                       every panel's PromQL parses (an instant query succeeds; $__rate_interval is
                       1m) and names only series Prometheus holds from the targets or the rules
Prometheus's URL is FLASHDEAL_PROMETHEUS_URL (http://127.0.0.1:19090)."""
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

URL = os.environ.get("FLASHDEAL_PROMETHEUS_URL", "http://127.0.0.1:19090")


def api(path, **params):
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    try:
        with urllib.request.urlopen(f"{URL}/api/v1/{path}{query}", timeout=10) as reply:
            return json.load(reply)
    except urllib.error.HTTPError as error:
        return json.load(error)


def wait(seconds, check, what):
    deadline = time.time() + seconds
    while True:
        problem = check()
        if problem is None:
            return
        if time.time() > deadline:
            sys.exit(f"prometheus: {what}: {problem}")
        time.sleep(2)


def targets():
    def check():
        active = api("targets")["data"]["activeTargets"]
        down = [f"{t['labels']['job']} {t['health']} {t.get('lastError', '')}" for t in active if t["health"] != "up"]
        return None if active and not down else f"not up: {down or 'no targets'}"
    wait(60, check, "targets")
    print(f"prometheus: every target is up ({len(api('targets')['data']['activeTargets'])})")


def recording_rules(files):
    return [rule["record"] for f in files for group in yaml.safe_load(open(f))["groups"] for rule in group["rules"] if "record" in rule]


def recorded(files):
    names = recording_rules(files)

    def check():
        missing = [n for n in names if not api("query", query=n)["data"]["result"]]
        return None if not missing else f"no series yet for {missing}"
    wait(120, check, "recording rules")
    print(f"prometheus: all {len(names)} recording rules produce series")


def alert(name, states):
    def check():
        found = [a["state"] for a in api("alerts")["data"]["alerts"] if a["labels"].get("alertname") == name]
        return None if any(s in states for s in found) else f"{name} is {found or 'inactive'}"
    wait(180, check, f"alert {name}")
    print(f"prometheus: {name} is {'/'.join(states)}")


KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}


def metric_names(expr):
    """The series names a PromQL expression reads: identifiers that are not functions, keywords,
    label names (inside {} or a by/without/on/ignoring list) or durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        name, rest = match.group(0), text[match.end():].lstrip()
        if name in KEYWORDS or rest.startswith("("):
            continue
        names.add(name)
    return names


def dashboards(rule_files, files):
    held = set(api("label/__name__/values")["data"]) | set(recording_rules(rule_files)) | {"ALERTS", "up"}
    problems, count = [], 0
    for path in files:
        board = json.load(open(path))
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                count += 1
                expr = target["expr"].replace("$__rate_interval", "1m")
                reply = api("query", query=expr)
                if reply.get("status") != "success":
                    problems.append(f"{os.path.basename(path)} '{panel['title']}': {reply.get('error')}")
                for name in metric_names(expr) - held:
                    problems.append(f"{os.path.basename(path)} '{panel['title']}' reads {name}, which no target exports and no rule records")
    if problems:
        sys.exit("prometheus: dashboards:\n  " + "\n  ".join(problems))
    print(f"prometheus: {count} dashboard queries parse and read only exported or recorded series")


command, args = sys.argv[1], sys.argv[2:]
if command == "targets":
    targets()
elif command == "recorded":
    recorded(args)
elif command == "alert":
    alert(args[0], args[1:])
elif command == "dashboards":
    split = args.index("--")
    dashboards(args[:split], args[split + 1:])
else:
    sys.exit(f"unknown check {command}")

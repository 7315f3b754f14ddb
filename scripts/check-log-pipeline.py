"""Checks deploy/loki/promtail.yml against a real server's JSON log (what `make test`'s fuzzing
server wrote): every line is one JSON object with time, level, logger and message; each json
stage's expression names a field some line has (trace ids only when the log was traced); the
timestamp stage's source parses as RFC 3339; labels and structured metadata use extracted names.
Promtail itself is not installable here, so its stages are read as it documents them."""
import json
import re
import sys
from datetime import datetime

import yaml

config_path, log_path = sys.argv[1], sys.argv[2]
traced = len(sys.argv) > 3 and sys.argv[3] == "--traced"
config = yaml.safe_load(open(config_path))
lines = [line for line in open(log_path) if line.strip()]
entries = []
for number, line in enumerate(lines, 1):
    try:
        entry = json.loads(line)
    except ValueError:
        sys.exit(f"log line {number} is not JSON: {line[:120]!r}")
    missing = [key for key in ("time", "level", "logger", "message") if key not in entry]
    if missing:
        sys.exit(f"log line {number} lacks {missing}: {line[:120]!r}")
    entries.append(entry)


def field(expression):
    """A JMESPath expression as promtail's json stage uses it here: a name, or a quoted name."""
    match = re.fullmatch(r'"([^"]+)"|([A-Za-z_][A-Za-z0-9_]*)', expression)
    if not match:
        sys.exit(f"expression {expression!r} is not a plain or quoted field name")
    return match.group(1) or match.group(2)


def stages(pipeline):
    for stage in pipeline:
        yield stage
        if "match" in stage:
            yield from stages(stage["match"].get("stages", []))


problems = []
for job in config["scrape_configs"]:
    extracted = set()
    for stage in stages(job.get("pipeline_stages", [])):
        if "json" in stage:
            for name, expression in stage["json"]["expressions"].items():
                key = field(expression)
                extracted.add(name)
                optional = key in ("trace_id", "span_id") and not traced
                if not optional and not any(key in entry for entry in entries):
                    problems.append(f"{job['job_name']}: json expression {name}: {expression} matches no log line")
        if "timestamp" in stage:
            source = stage["timestamp"]["source"]
            if source not in extracted:
                problems.append(f"{job['job_name']}: timestamp source {source} is not extracted")
            for entry in entries:
                datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
        for kind in ("labels", "structured_metadata"):
            for name in (stage.get(kind) or {}):
                if name not in extracted:
                    problems.append(f"{job['job_name']}: {kind} {name} is not extracted by a json stage")
if problems:
    sys.exit("\n".join(problems))
access = sum(1 for entry in entries if entry["message"] == "request")
print(f"log pipeline: {len(entries)} JSON lines ({access} access lines) match deploy/loki/promtail.yml's stages")

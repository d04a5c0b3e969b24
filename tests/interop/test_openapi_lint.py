"""redocly lint (the recommended ruleset, tests/interop/redocly.yaml) of the
OpenAPI document that the live wardend serves at /openapi.json: what
clients and their code generators read, not the file in the tree, so a
stale build is caught too.  Warnings fail as errors do: each is something
a generator or a reader trips on."""

import json
import os
import subprocess
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "redocly.yaml")


def test_redocly_lint(client, node_modules):
    redocly = os.path.join(node_modules, ".bin", "redocly")
    if not os.access(redocly, os.X_OK):
        pytest.fail("%s is missing: run tests/interop/npm-install" % redocly, pytrace=False)
    r = client.get("/openapi.json")
    assert r.status == 200, r
    assert r.content_type == "application/json", r
    json.loads(r.body)      # JSON before it is a document
    with tempfile.TemporaryDirectory(prefix="warden-redocly.") as d:
        path = os.path.join(d, "openapi.json")
        with open(path, "wb") as f:
            f.write(r.body)
        env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
                   NO_COLOR="1")
        # cwd: redocly also reads a redocly.yaml of its working directory.
        p = subprocess.run([redocly, "lint", "--config", CONFIG, "--format", "json", path],
                           capture_output=True, text=True, timeout=120, cwd=d, env=env)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        pytest.fail("redocly lint exited %d without a JSON report:\n%s%s"
                    % (p.returncode, p.stdout, p.stderr), pytrace=False)
    problems = ["%s %s: %s (%s)" % (pr.get("severity"), pr.get("ruleId"), pr.get("message"),
                                    ", ".join(loc.get("pointer", "?")
                                              for loc in pr.get("location", [])))
                for pr in report.get("problems", [])]
    totals = report.get("totals", {})
    assert p.returncode == 0 and totals.get("errors") == 0 and totals.get("warnings") == 0, (
        "redocly lint (%s) of /openapi.json: exit %d, %r\n  %s"
        % (report.get("version"), p.returncode, totals, "\n  ".join(problems)))

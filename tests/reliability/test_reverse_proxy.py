"""The reverse-proxy configuration docs/deployment.md gives, as it is written there: checked with
`nginx -t`, then run on loopback in front of a real `planbot serve` (plain HTTP on a free port
instead of TLS on 443; everything else as written)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from bot import slack_requests
from tests.helpers import COO
from tests.serving import ROOT, free_port, hartford_served

SECRET = "reverse-proxy-test-secret"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()), None
)
# Skipped on a developer's machine without nginx; in CI (.ci/run installs it) a missing nginx
# fails the test rather than letting the documented configuration go unchecked.
pytestmark = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="nginx is not installed (apt-get install nginx-light)",
)


def documented_site() -> str:
    """The nginx block of docs/deployment.md."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 1, "docs/deployment.md gives one nginx configuration"
    return blocks[0]


def on_loopback(site: str, listen: int, upstream: int) -> str:
    """The documented site with loopback addresses and without TLS."""
    assert "server 127.0.0.1:3000;" in site and "listen 443 ssl;" in site
    site = site.replace("server 127.0.0.1:3000;", f"server 127.0.0.1:{upstream};")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen};")
    return re.sub(r"\n\s*ssl_certificate(_key)? [^\n]*;", "", site)


def nginx_conf(directory: Path, site: Path) -> Path:
    conf = directory / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log off;\n{temp}\n    include {site};\n}}\n"
    )
    return conf


async def test_the_documented_nginx_site_passes_slack_through_and_bounds_bodies(
    sqlite_url: str, tmp_path: Path
) -> None:
    assert NGINX is not None, "nginx is not installed (apt-get install nginx-light)"
    async with hartford_served(sqlite_url, tmp_path, SECRET) as served:
        port = free_port()
        site = tmp_path / "planbot.conf"
        site.write_text(on_loopback(documented_site(), port, served.port))
        conf = nginx_conf(tmp_path, site)
        checked = subprocess.run(
            [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert checked.returncode == 0 and "syntax is ok" in checked.stderr, checked.stderr
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            proxy = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=proxy, timeout=10) as client:
                for _ in range(200):
                    try:
                        health = await client.get("/healthz")
                        break
                    except httpx.TransportError:
                        assert nginx.poll() is None, nginx.stderr.read() if nginx.stderr else ""
                        await asyncio.sleep(0.05)
                assert health.status_code == 200 and health.json() == {"ok": True}
                # Slack's request reaches Plan Bot byte for byte: the signature still holds.
                request = slack_requests.slash_command(
                    SECRET, "safety", user_id=COO, response_url=served.slack.response_url("s")
                )
                answer = await client.post(
                    "/slack/events", content=request.body, headers=request.headers
                )
                assert answer.status_code == 200
                assert answer.json()["blocks"][0]["text"]["text"].startswith("Safety")
                # A body over the limit stops at nginx.
                big = await client.post(
                    "/slack/events",
                    content=b"x" * (3 * 1024 * 1024),
                    headers={"Content-Type": "application/json"},
                )
                assert big.status_code == 413
                # Nothing but Slack's door and the health check is open.
                assert (await client.get("/slack/events")).status_code == 403
                assert (await client.get("/")).status_code == 404
                assert (await client.get("/docs")).status_code == 404
        finally:
            nginx.terminate()
            nginx.communicate(timeout=30)
        stderr = served.stop()
    assert "-> 413" not in stderr  # the oversized body never reached Plan Bot
    assert "command /plan -> 200" in stderr

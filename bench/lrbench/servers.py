"""Start and stop our server and llama-server on loopback; each is a child process we own and stop by pid."""
import os
import re
import signal
import subprocess
import time
import urllib.request


def _status(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status
    except Exception as e:  # HTTPError carries .code; refused connections carry nothing
        return getattr(e, "code", 0)


class Server:
    def __init__(self, name, argv, port, ready_path, log_path):
        self.name, self.argv, self.port, self.ready_path, self.log_path = name, argv, port, ready_path, log_path
        self.proc = None

    def start(self, timeout=600):
        self.log = open(self.log_path, "w")
        self.log.write(" ".join(self.argv) + "\n")
        self.log.flush()
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            if _status(self.port, self.ready_path) == 200:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def ours(binary, model, port, ctx, log_path, threads=2, extra=()):
    argv = [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model,
            "--threads", str(threads), "--ctx-size", str(ctx), "--workers", "1", "--parallel", "8",
            "--cache-slots", "4", *extra]
    return Server("longrm", argv, port, "/ready", log_path)


def peer(tools, model, port, ctx, log_path, threads=2, parallel=8, extra=()):
    # -c is the whole KV pool: parallel × ctx, split per slot (non-unified), so every slot has the same window as ours.
    argv = [os.path.join(tools, "llama-server"), "--host", "127.0.0.1", "--port", str(port), "-m", model,
            "-t", str(threads), "-tb", str(threads), "-c", str(ctx * parallel), "-np", str(parallel),
            "--no-kv-unified", "-fa", "off", "--no-webui", *extra]
    return Server("llama-server", argv, port, "/health", log_path)


def metric(port, name):
    """Sum of a Prometheus counter/gauge family from our /metrics (all label sets)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            m = re.match(rf"{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)", line)
            if m:
                total += float(m.group(2))
    return total

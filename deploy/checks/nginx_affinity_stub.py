"""Runs deploy/nginx/longrm-test.conf.template in front of two stub replicas and checks what the balancer does.

Stub replicas stand in for longrm so the proxy's own behaviour is checked in isolation: consistent hashing on
X-Context-Key, spreading of keyless requests, X-Request-Id passing, upstream keep-alive, the body limit, and
fail-over when a replica goes away. Usage: python3 deploy/checks/nginx_affinity_stub.py TEMPLATE WORKDIR (tests/deploy.sh runs it)
Everything listens on 127.0.0.1 and stops by itself; exit status 0 only if every assertion held.
"""
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, port: int):
        self.name = name
        self.connections: set = set()
        self.open_sockets: set = set()
        super().__init__(("127.0.0.1", port), Handler)

    def kill(self):
        """Stops listening and cuts the kept-alive connections too, as a crashed replica would."""
        self.shutdown()
        self.server_close()
        for sock in list(self.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the test prints its own summary
        pass

    def setup(self):
        super().setup()
        self.server.open_sockets.add(self.connection)

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.connections.add(self.client_address)
        body = json.dumps({
            "replica": self.server.name,
            "request_id": self.headers.get("X-Request-Id"),
            "connection": self.headers.get("Connection"),
            "context_key": self.headers.get("X-Context-Key"),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer


def request(port: int, headers: dict, body: bytes = b"{}", method: str = "POST"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, "/v1/score", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if resp.status == 200 else None)
    finally:
        conn.close()


def main() -> int:
    template, workdir = sys.argv[1], sys.argv[2]
    ports = {"listen": free_port(), "a": free_port(), "b": free_port()}
    conf = open(template).read()
    for key, value in {"@PREFIX@": workdir, "@LISTEN_PORT@": ports["listen"],
                       "@REPLICA_A_PORT@": ports["a"], "@REPLICA_B_PORT@": ports["b"]}.items():
        conf = conf.replace(key, str(value))
    with open(f"{workdir}/nginx.conf", "w") as f:
        f.write(conf)

    stubs = {"a": Stub("a", ports["a"]), "b": Stub("b", ports["b"])}
    for stub in stubs.values():
        threading.Thread(target=stub.serve_forever, daemon=True).start()
    nginx = subprocess.Popen(["nginx", "-p", workdir, "-e", f"{workdir}/error.log", "-c", f"{workdir}/nginx.conf"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []

    def expect(cond: bool, what: str):
        print(("  ok   " if cond else "  FAIL ") + what)
        if not cond:
            failures.append(what)

    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["listen"]), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    print(open(f"{workdir}/error.log").read())
                    raise SystemExit("nginx did not start")
                time.sleep(0.05)
        lp = ports["listen"]

        same = [request(lp, {"X-Context-Key": "ctx-fixed"})[1]["replica"] for _ in range(12)]
        expect(len(set(same)) == 1, f"12 requests with one X-Context-Key reach one replica ({same[0]})")

        mapping = {f"ctx-{i}": request(lp, {"X-Context-Key": f"ctx-{i}"})[1]["replica"] for i in range(40)}
        counts = {r: list(mapping.values()).count(r) for r in "ab"}
        expect(min(counts.values()) >= 5, f"40 distinct keys spread over both replicas {counts}")
        # In reverse order, so that a balancer that merely alternates cannot pass by coincidence.
        again = {k: request(lp, {"X-Context-Key": k})[1]["replica"] for k in reversed(list(mapping)[:10])}
        expect(all(again[k] == mapping[k] for k in again), "the same keys map to the same replicas again")

        keyless = [request(lp, {})[1]["replica"] for _ in range(20)]
        expect(len(set(keyless)) == 2, f"requests without a key spread over both replicas {sorted(keyless)}")

        echoed = request(lp, {"X-Request-Id": "rid-from-client-42"})[1]
        expect(echoed["request_id"] == "rid-from-client-42", "the client's X-Request-Id reaches the replica")
        minted = request(lp, {})[1]["request_id"] or ""
        expect(len(minted) == 32 and all(c in "0123456789abcdef" for c in minted),
               f"a missing X-Request-Id is minted by nginx ({minted!r})")
        expect(echoed["connection"] is None, "no Connection header reaches the replica (upstream keep-alive)")
        served = sum(1 for _ in same) + 40 + 10 + 20 + 2
        used = len(stubs["a"].connections) + len(stubs["b"].connections)
        expect(used < served // 4, f"upstream keep-alive reuses connections ({used} for {served} requests)")

        status, _ = request(lp, {"Content-Length": str(65 * 1024 * 1024)}, body=b"")
        expect(status == 413, f"a body over 64 MiB is refused by nginx with 413 (got {status})")
        status, _ = request(lp, {"Content-Length": "100"}, body=b"x" * 100)
        expect(status == 200, f"a small body passes ({status})")

        key_on_b = next(k for k, r in mapping.items() if r == "b")
        stubs["b"].kill()
        status, body = request(lp, {"X-Context-Key": key_on_b})
        expect(status == 200 and body["replica"] == "a", "with replica b down its keys fail over to a")
    finally:
        nginx.terminate()
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
        stubs["a"].shutdown()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Keep-alive JSON client over http.client: one connection per client thread, like a real trainer."""
import http.client
import json
import time


class Client:
    def __init__(self, port, host="127.0.0.1", timeout=3600):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method, path, body=None):
        """Returns (status, parsed JSON or text, seconds, headers). Retries once on a dropped keep-alive."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            conn = self._connection()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            return resp.status, parsed, elapsed, dict(resp.getheaders())
        raise RuntimeError("unreachable")

    def post(self, path, body):
        status, parsed, elapsed, _ = self.request("POST", path, body)
        if status != 200:
            raise RuntimeError(f"POST {path} on :{self.port} answered {status}: {str(parsed)[:300]}")
        return parsed, elapsed

    def get(self, path):
        status, parsed, _, _ = self.request("GET", path)
        return status, parsed

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

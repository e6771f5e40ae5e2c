"""A small HTTP/2 client on python3-h2 for the h2 tests: plain (h2c by
prior knowledge) or TLS with ALPN "h2", whole responses per stream, and
raw access to the connection for frame-level tests."""

import socket
import ssl
import time

import h2.config
import h2.exceptions
import h2.connection
import h2.events
import h2.settings

TIMEOUT = 10


class Stream:
    def __init__(self):
        self.headers = None
        self.data = bytearray()
        self.ended = False
        self.reset = None

    @property
    def status(self):
        return int(dict(self.headers or {}).get(b":status", b"0"))

    def header(self, name):
        for k, v in self.headers or ():
            if k == name.encode():
                return v.decode()
        return None


class Conn:
    def __init__(self, port, tls=False, settings=None, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
            assert self.sock.selected_alpn_protocol() == "h2", self.sock.selected_alpn_protocol()
        cfg = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.h2.initiate_connection()
        if settings:
            self.h2.update_settings(settings)
        self.streams = {}
        self.goaway = None
        self.closed = False
        self.remote_settings = {}
        self.flush()

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, headers=(), body=None, end=True, authority="localhost"):
        sid = self.h2.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":scheme", "http"),
                (":authority", authority)] + list(headers)
        self.h2.send_headers(sid, hdrs, end_stream=end and body is None)
        self.streams[sid] = Stream()
        if body is not None:
            self.send_body(sid, body, end=end)
        self.flush()
        return sid

    def send_body(self, sid, body, end=True):
        """Send body bytes as the windows allow (reading meanwhile)."""
        off = 0
        while off < len(body):
            n = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size,
                    len(body) - off)
            if n <= 0:
                self.flush()
                self.read_some()
                continue
            self.h2.send_data(sid, body[off:off + n])
            off += n
            self.flush()
        if end:
            self.h2.end_stream(sid)
        self.flush()

    def read_some(self, timeout=TIMEOUT, ack=True):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            return []
        events = self.h2.receive_data(data)
        for ev in events:
            s = self.streams.get(getattr(ev, "stream_id", None))
            if isinstance(ev, h2.events.ResponseReceived) and s:
                s.headers = ev.headers
            elif isinstance(ev, h2.events.InformationalResponseReceived):
                pass
            elif isinstance(ev, h2.events.DataReceived):
                if s:
                    s.data += ev.data
                if ack and (s is None or getattr(s, "ack", True)):
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and s:
                s.ended = True
            elif isinstance(ev, h2.events.StreamReset) and s:
                s.reset = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = ev
            elif isinstance(ev, h2.events.RemoteSettingsChanged):
                for k, v in ev.changed_settings.items():
                    self.remote_settings[k] = v.new_value
        self.flush()
        return events

    def wait(self, sids, timeout=TIMEOUT):
        """Read until every stream in sids has ended or was reset."""
        deadline = time.monotonic() + timeout
        while any(not (self.streams[s].ended or self.streams[s].reset is not None) for s in sids):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("streams %s did not end" % sids)
            if not self.read_some(left) and self.closed:
                raise ConnectionError("connection closed")
        return [self.streams[s] for s in sids]

    def get(self, path, **kw):
        sid = self.request("GET", path, **kw)
        return self.wait([sid])[0]

    def read_until_closed(self, timeout=TIMEOUT):
        """Read until the peer closes; returns True if it did in time."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    if not self.read_some(deadline - time.monotonic()) and self.closed:
                        return True
                except h2.exceptions.ProtocolError:
                    continue
        except (ConnectionError, socket.timeout, ssl.SSLError, OSError):
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

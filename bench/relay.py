"""127.0.0.1:PORT inside a container relays to a server on the host, at most
`rate` bytes/s per connection towards the container (a link the size of a
real one, on loopback). Like nspawn.Container.forward_to_host, whose
listener-in-the-container's-namespace trick it reuses; it adds the rate and
counts the bytes that went in.
"""
import socket
import threading

from fileserver import TokenBucket
from nspawn import _in_netns

CHUNK = 64 * 1024


class RateLimitedRelay:
    def __init__(self, container, container_port, host_port, rate=None, host="127.0.0.1"):
        self.rate = rate
        self.bytes_in = 0  # host -> container
        self.lock = threading.Lock()
        self.sockets = []
        self.closed = False

        def make_listener():
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", container_port))
            s.listen(64)
            return s

        self.listener = _in_netns(container.leader, make_listener)
        self.target = (host, host_port)
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source, sink, downstream):
        bucket = TokenBucket(self.rate) if downstream and self.rate else None
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                if bucket:
                    bucket.take(len(data))
                sink.sendall(data)
                if downstream:
                    with self.lock:
                        self.bytes_in += len(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        for s in [self.listener, *self.sockets]:
            try:
                s.close()
            except OSError:
                pass

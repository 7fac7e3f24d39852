#!/usr/bin/env python3
# STAND-IN for code-server (https://github.com/coder/code-server), used by the
# coder-vm-bootstrap tests because the real release cannot be downloaded here.
# It is NOT code-server: it has no editor. It copies what the daemon relies on:
# the release layout (bin/code-server next to package.json and lib/), the
# command-line flags, the config file, the start-up log line, `/healthz`, the
# password login redirect and extension installs.
#
# Python 3.11 standard library only: it runs inside the Debian 12 guest.
# Installed by make-tarball.sh as bin/code-server; the version it reports is
# read from ../package.json, like the real one.
import datetime
import hashlib
import http.server
import json
import os
import pwd
import re
import secrets
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

STANDIN_BANNER = "code-server STAND-IN for coder-vm-bootstrap tests (not the real code-server)"
HEARTBEAT_INTERVAL_MS = 60_000
SESSION_COOKIE = "code-server-session"

HERE = os.path.dirname(os.path.realpath(__file__))
RELEASE_ROOT = os.path.dirname(HERE)


def read_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


VERSION = read_json(os.path.join(RELEASE_ROOT, "package.json"), {}).get("version", "0.0.0")
CODE_VERSION = read_json(os.path.join(RELEASE_ROOT, "lib", "vscode", "package.json"), {}).get("version", "1.96.4")
COMMIT = "0000000"


def log(level, message):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    print(f"[{now}] {level:<5} {message}", file=sys.stderr if level == "error" else sys.stdout, flush=True)


def home_dir():
    home = os.environ.get("HOME")
    if home:
        return home
    return pwd.getpwuid(os.getuid()).pw_dir


# --- command line -------------------------------------------------------------

# flag -> (key, takes a value, repeatable)
FLAGS = {
    "--bind-addr": ("bind-addr", True, False),
    "--auth": ("auth", True, False),
    "--config": ("config", True, False),
    "--user-data-dir": ("user-data-dir", True, False),
    "--extensions-dir": ("extensions-dir", True, False),
    "--install-extension": ("install-extension", True, True),
    "--uninstall-extension": ("uninstall-extension", True, True),
    "--disable-telemetry": ("disable-telemetry", False, False),
    "--disable-update-check": ("disable-update-check", False, False),
    "--disable-workspace-trust": ("disable-workspace-trust", False, False),
    "--disable-getting-started-override": ("disable-getting-started-override", False, False),
    "--list-extensions": ("list-extensions", False, False),
    "--show-versions": ("show-versions", False, False),
    "--force": ("force", False, False),
    "--version": ("version", False, False),
    "-v": ("version", False, False),
    "--help": ("help", False, False),
    "-h": ("help", False, False),
    "--log": ("log", True, False),
    "--verbose": ("verbose", False, False),
    "--app-name": ("app-name", True, False),
    "--welcome-text": ("welcome-text", True, False),
    "--cert": ("cert", True, False),
    "--cert-key": ("cert-key", True, False),
    "--socket": ("socket", True, False),
    "--port": ("port", True, False),
    "--host": ("host", True, False),
}

HELP = f"""{STANDIN_BANNER}
code-server {VERSION} {COMMIT} with Code {CODE_VERSION}

Usage: code-server [options] [path]

Options (the ones the stand-in implements):
      --auth                   The type of authentication to use. [password, none]
      --bind-addr              Address to bind to in host:port. (default: 127.0.0.1:8080)
      --config                 Path to yaml config file. Also $CODE_SERVER_CONFIG.
      --user-data-dir          Path to the user data directory.
      --extensions-dir         Path to the extensions directory.
      --install-extension      Install or update an extension by id or vsix path.
      --uninstall-extension    Uninstall an extension by id.
      --list-extensions        List installed extensions (--show-versions).
      --disable-telemetry      Disable telemetry.
      --disable-update-check   Disable update check.
   -v --version                Display version information.
   -h --help                   Display this help.

Environment: PASSWORD, HASHED_PASSWORD (hex SHA-256 in the stand-in; argon2
hashes are accepted but never match), CODE_SERVER_CONFIG.
"""


class UsageError(Exception):
    pass


def parse_args(argv):
    opts = {"install-extension": [], "uninstall-extension": [], "_": []}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            opts["_"].extend(argv[i + 1:])
            break
        if arg.startswith("-"):
            name, eq, inline = arg.partition("=")
            if name not in FLAGS:
                raise UsageError(f"Unknown option {name}")
            key, takes_value, repeatable = FLAGS[name]
            if takes_value:
                if eq:
                    value = inline
                else:
                    i += 1
                    if i >= len(argv):
                        raise UsageError(f"{name} requires a value")
                    value = argv[i]
                if repeatable:
                    opts[key].append(value)
                else:
                    opts[key] = value
            else:
                opts[key] = True
        else:
            opts["_"].append(arg)
        i += 1
    return opts


def parse_config_text(text):
    """The flat `key: value` YAML that code-server's config file uses."""
    config = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value in ("true", "false"):
            value = value == "true"
        config[key.strip()] = value
    return config


def config_path(opts):
    return opts.get("config") or os.environ.get("CODE_SERVER_CONFIG") or os.path.join(
        home_dir(), ".config", "code-server", "config.yaml")


def load_config(path):
    """Like code-server: a missing config file is created with a random password."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("bind-addr: 127.0.0.1:8080\nauth: password\n"
                    f"password: {secrets.token_hex(12)}\ncert: false\n")
        log("info", f"Wrote default config file to {path}")
    with open(path, encoding="utf-8") as f:
        return parse_config_text(f.read())


# --- extensions -----------------------------------------------------------------

EXTENSION_ID = re.compile(r"^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$", re.I)


def installed_extensions(ext_dir):
    found = []
    if os.path.isdir(ext_dir):
        for entry in sorted(os.listdir(ext_dir)):
            manifest = read_json(os.path.join(ext_dir, entry, "package.json"), None)
            if manifest:
                found.append((f"{manifest['publisher']}.{manifest['name']}", manifest.get("version", "0.0.0"), entry))
    return found


def install_extension(ext_dir, spec, force):
    """Records the extension like VS Code lays it out: <id>-<version>/package.json.
    IDs whose publisher is `standin-missing` fail like an unknown extension."""
    ext_id, _, version = spec.partition("@")
    if not EXTENSION_ID.match(ext_id) or ext_id.lower().startswith("standin-missing."):
        print(f"Extension '{ext_id}' not found.", file=sys.stderr)
        return False
    version = version or "1.0.0"
    ext_id = ext_id.lower()
    for existing_id, existing_version, _ in installed_extensions(ext_dir):
        if existing_id == ext_id and existing_version == version and not force:
            print(f"Extension '{ext_id}' v{version} is already installed. Use '--force' option to update to latest version.")
            return True
    publisher, name = ext_id.split(".", 1)
    folder = os.path.join(ext_dir, f"{ext_id}-{version}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "package.json"), "w", encoding="utf-8") as f:
        json.dump({"publisher": publisher, "name": name, "version": version, "standin": True}, f)
    print(f"Extension '{ext_id}' was successfully installed.")
    return True


def uninstall_extension(ext_dir, ext_id):
    ext_id = ext_id.lower()
    for existing_id, _, entry in installed_extensions(ext_dir):
        if existing_id == ext_id:
            for root, dirs, files in os.walk(os.path.join(ext_dir, entry), topdown=False):
                for f in files:
                    os.unlink(os.path.join(root, f))
                for d in dirs:
                    os.rmdir(os.path.join(root, d))
            os.rmdir(os.path.join(ext_dir, entry))
            print(f"Extension '{ext_id}' was successfully uninstalled!")
            return True
    print(f"Extension '{ext_id}' is not installed.", file=sys.stderr)
    return False


# --- server -----------------------------------------------------------------------

class State:
    def __init__(self, auth, password, hashed_password):
        self.auth = auth
        self.password = password
        self.hashed_password = hashed_password
        self.last_heartbeat = 0
        self.lock = threading.Lock()

    def beat(self):
        with self.lock:
            self.last_heartbeat = int(time.time() * 1000)

    def health(self):
        with self.lock:
            alive = int(time.time() * 1000) - self.last_heartbeat <= HEARTBEAT_INTERVAL_MS
            return {"status": "alive" if alive else "expired", "lastHeartbeat": self.last_heartbeat}

    def session_value(self):
        secret = self.hashed_password or hashlib.sha256((self.password or "").encode()).hexdigest()
        return hashlib.sha256(("standin-session:" + secret).encode()).hexdigest()

    def password_matches(self, candidate):
        if self.hashed_password:
            # Real code-server verifies argon2; the stand-in only knows SHA-256 hex.
            return hashlib.sha256(candidate.encode()).hexdigest() == self.hashed_password.lower()
        return bool(self.password) and secrets.compare_digest(candidate, self.password)


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "code-server-standin"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the real one does not log requests
            pass

        def send(self, status, body=b"", content_type="text/plain; charset=utf-8", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def authenticated(self):
            if state.auth != "password":
                return True
            cookies = self.headers.get("Cookie", "")
            for part in cookies.split(";"):
                k, _, v = part.strip().partition("=")
                if k == SESSION_COOKIE and secrets.compare_digest(v, state.session_value()):
                    return True
            return False

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path in ("/healthz", "/healthz/"):
                body = json.dumps(state.health()).encode()
                return self.send(200, body, "application/json")
            state.beat()
            if path == "/login":
                if state.auth != "password":
                    return self.send(302, headers=[("Location", "./")])
                return self.send(200, b"<!doctype html><title>code-server login (stand-in)</title>"
                                      b"<form method=post><input name=password type=password></form>\n",
                                 "text/html; charset=utf-8")
            if not self.authenticated():
                if path == "/":
                    return self.send(302, headers=[("Location", "./login")])
                return self.send(401, b'{"error":"Unauthorized"}', "application/json")
            if path == "/":
                return self.send(200, ("<!doctype html><title>code-server (stand-in)</title>"
                                       f"<p>{STANDIN_BANNER} {VERSION}</p>\n").encode(),
                                 "text/html; charset=utf-8")
            if path == "/version":
                return self.send(200, json.dumps({"version": VERSION, "code": CODE_VERSION}).encode(),
                                 "application/json")
            return self.send(404, b"Not found\n")

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            state.beat()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            if path == "/login" and state.auth == "password":
                password = urllib.parse.parse_qs(body).get("password", [""])[0]
                if state.password_matches(password):
                    return self.send(302, headers=[("Location", "./"),
                                                   ("Set-Cookie", f"{SESSION_COOKIE}={state.session_value()}; Path=/; HttpOnly")])
                return self.send(200, b"Incorrect password\n")
            return self.send(404, b"Not found\n")

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_bind_addr(value):
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = value, "8080"
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def serve(opts):
    cfg_path = config_path(opts)
    config = load_config(cfg_path)
    bind_addr = opts.get("bind-addr") or config.get("bind-addr") or "127.0.0.1:8080"
    auth = opts.get("auth") or config.get("auth") or "password"
    if auth not in ("password", "none"):
        raise UsageError(f"--auth: Unknown option {auth}")
    password = os.environ.get("PASSWORD") or config.get("password")
    hashed = os.environ.get("HASHED_PASSWORD") or config.get("hashed-password")
    user_data_dir = opts.get("user-data-dir") or os.path.join(home_dir(), ".local", "share", "code-server")
    ext_dir = opts.get("extensions-dir") or os.path.join(user_data_dir, "extensions")
    os.makedirs(user_data_dir, exist_ok=True)

    state = State(auth, password, hashed)
    host, port = parse_bind_addr(bind_addr)
    httpd = Server((host, port), make_handler(state))
    port = httpd.server_address[1]

    # What the tests may want to assert about how the daemon launched us.
    invocation = {
        "standin": True, "version": VERSION, "pid": os.getpid(), "uid": os.getuid(),
        "user": pwd.getpwuid(os.getuid()).pw_name, "argv": sys.argv, "cwd": os.getcwd(),
        "config_file": cfg_path, "bind_addr": f"{host}:{port}", "auth": auth,
        "password_source": "hashed-password" if hashed else ("password" if password else None),
        "user_data_dir": user_data_dir, "extensions_dir": ext_dir,
        "disable_telemetry": bool(opts.get("disable-telemetry")),
        "disable_update_check": bool(opts.get("disable-update-check")),
        "started_at": time.time(),
    }
    with open(os.path.join(user_data_dir, "standin-invocation.json"), "w", encoding="utf-8") as f:
        json.dump(invocation, f, indent=1)

    def on_signal(signum, _frame):
        log("info", f"Received {signal.Signals(signum).name}, shutting down")
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    log("info", f"code-server {VERSION} {COMMIT}")
    log("info", f"Using user-data-dir {user_data_dir}")
    log("info", f"Using config file {cfg_path}")
    log("info", f"HTTP server listening on http://{host}:{port}/")
    if auth == "password":
        log("info", "  - Authentication is enabled")
        log("info", f"    - Using password from {'$PASSWORD' if os.environ.get('PASSWORD') else cfg_path}")
    else:
        log("info", "  - Authentication is disabled")
    log("info", "  - Not serving HTTPS")
    if opts.get("disable-telemetry"):
        log("info", "  - Telemetry is disabled")
    if opts.get("disable-update-check"):
        log("info", "  - Update check is disabled")

    httpd.serve_forever(poll_interval=0.2)
    httpd.server_close()
    return 0


def main(argv):
    try:
        opts = parse_args(argv)
    except UsageError as e:
        log("error", str(e))
        return 1
    if opts.get("help"):
        print(HELP)
        return 0
    if opts.get("version"):
        print(f"{VERSION} {COMMIT} with Code {CODE_VERSION}")
        return 0
    user_data_dir = opts.get("user-data-dir") or os.path.join(home_dir(), ".local", "share", "code-server")
    ext_dir = opts.get("extensions-dir") or os.path.join(user_data_dir, "extensions")
    if opts.get("list-extensions"):
        for ext_id, version, _ in installed_extensions(ext_dir):
            print(f"{ext_id}@{version}" if opts.get("show-versions") else ext_id)
        return 0
    if opts["install-extension"] or opts["uninstall-extension"]:
        os.makedirs(ext_dir, exist_ok=True)
        ok = True
        if opts["install-extension"]:
            print("Installing extensions...")
            for spec in opts["install-extension"]:
                ok = install_extension(ext_dir, spec, opts.get("force")) and ok
        for ext_id in opts["uninstall-extension"]:
            ok = uninstall_extension(ext_dir, ext_id) and ok
        return 0 if ok else 1
    try:
        return serve(opts)
    except UsageError as e:
        log("error", str(e))
        return 1
    except OSError as e:
        log("error", str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

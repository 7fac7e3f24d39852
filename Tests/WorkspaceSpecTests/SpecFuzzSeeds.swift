/// The seeds of the spec fuzzer: the README's example specs as the daemon
/// reads them (JSON). Copies, so that a fixed fuzzer seed keeps producing
/// the same inputs; `testFuzzSeedsAreStillTheREADMEExamples` notices when
/// the examples move on.
enum SpecFuzzSeeds {
    /// examples/specs/full.json, byte for byte.
    static let full = #"""
        {
          "apiVersion": "coder-vm-bootstrap/v1",
          "workspace": {
            "owner": "alice",
            "name": "dev",
            "id": "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"
          },
          "hostname": "coder-alice-dev",
          "user": {
            "name": "coder",
            "shell": "/bin/bash",
            "groups": [
              "adm"
            ],
            "sudo": true,
            "sshAuthorizedKeys": [
              "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx alice@laptop"
            ]
          },
          "coder": {
            "accessURL": "https://coder.example.com/",
            "agentURL": "http://coder.coder.svc.cluster.local/",
            "token": "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4",
            "auth": "token",
            "arch": "auto",
            "caCertificates": [
              "-----BEGIN CERTIFICATE-----\nMIIBhTCCASugAwIBAgIUN6JP8JknM19Ca247R8g6L9LZEsowCgYIKoZIzj0EAwIw\nGDEWMBQGA1UEAwwNY29kZXItdGVzdC1jYTAeFw0yNjExMjEyMzIxMjJaFw0zNjEx\nMTgyMzIxMjJaMBgxFjAUBgNVBAMMDWNvZGVyLXRlc3QtY2EwWTATBgcqhkjOPQIB\nBggqhkjOPQMBBwNCAAT+0sHAa+NwldEyXDnleUqFCp6W7oBMsuRM28qiL5DuSPyp\n6bagv+dpi4IkW6RvfOKItg7BPBzV528tO5GuHbXQo1MwUTAdBgNVHQ4EFgQUV/0v\njlF13F7Og74cEArAu8ZSlxMwHwYDVR0jBBgwFoAUV/0vjlF13F7Og74cEArAu8ZS\nlxMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiA9OFCglBoV9OyU\nIvOwePZIz0qBMklAvzs12QQWcLiX6wIhAO3I9qozDC3WMxFnfHqr1abDnBmFdoHX\nftI0xlT8w7nh\n-----END CERTIFICATE-----\n"
            ],
            "proxy": {
              "http": "http://proxy.internal:3128",
              "https": "http://proxy.internal:3128",
              "noProxy": [
                "localhost",
                "127.0.0.1",
                ".svc.cluster.local"
              ]
            },
            "agentHeaders": {
              "X-Tenant": "alice"
            }
          },
          "codeServer": {
            "enabled": true,
            "version": "4.96.4",
            "downloadURL": "https://github.com/coder/code-server/releases/download/v{version}/code-server-{version}-linux-{arch}.tar.gz",
            "sha256": {
              "amd64": "2b1b5a4b0fd41f8d5f2a8c8b7f5b0e3c4d1a6e9f8b7c6d5e4f3a2b1c0d9e8f7a"
            },
            "bindAddress": "127.0.0.1:13337",
            "auth": "none",
            "extensions": [
              "ms-python.python",
              "golang.go"
            ],
            "settings": {
              "editor.fontSize": 14,
              "workbench.colorTheme": "Default Dark Modern"
            }
          },
          "ssh": {
            "enabled": true,
            "port": 22,
            "passwordAuthentication": false,
            "permitRootLogin": false
          },
          "docker": {
            "enabled": true,
            "install": true,
            "addUserToGroup": true
          },
          "readiness": {
            "port": 13380,
            "required": [
              "ssh",
              "docker",
              "code-server",
              "agent"
            ]
          },
          "install": {
            "packageURL": "https://downloads.example.com/coder-vm-bootstrap_0.1.0_amd64.deb",
            "sha256": "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
          }
        }
        """#

    /// The README's smallest useful spec (examples/specs/minimal.yaml) in JSON.
    static let minimal = #"""
        {
          "apiVersion": "coder-vm-bootstrap/v1",
          "workspace": {"owner": "alice", "name": "dev", "id": "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"},
          "user": {
            "name": "coder",
            "sshAuthorizedKeys": [
              "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx alice@laptop"
            ]
          },
          "coder": {
            "accessURL": "https://coder.example.com/",
            "token": "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"
          }
        }
        """#

    static let all = [("full.json", full), ("minimal", minimal)]
}

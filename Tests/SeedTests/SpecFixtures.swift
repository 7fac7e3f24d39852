import Foundation
import WorkspaceSpec
import Yams

@testable import Seed

/// Reads YAML with Yams' own (YAML 1.1) typing, independent of the
/// parser under test, into a JSONValue tree.
enum SpecTreeParserForTests {
    static func load(_ yaml: String) throws -> JSONValue {
        convert(try Yams.load(yaml: yaml) as Any)
    }

    static func convert(_ value: Any) -> JSONValue {
        switch value {
        case let text as String: return .string(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let list as [Any]: return .array(list.map(convert))
        case let map as [AnyHashable: Any]:
            return .object(Dictionary(uniqueKeysWithValues: map.map { ("\($0.key)", convert($0.value)) }))
        default: return .null
        }
    }
}

/// Specs that between them use every option of the spec.
enum SpecFixtures {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx alice@laptop"
    static let rsaKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 bob"
    static let digest = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"

    /// A network-config as an operator would give it: DHCP on the pod
    /// network's NIC, a static address on a second (bridge-bound) one.
    /// Documentation addresses only (RFC 5737, RFC 3849).
    static let network = """
        network:
          version: 2
          ethernets:
            enp1s0: {dhcp4: true}
            enp2s0:
              addresses: [192.0.2.5/24, "2001:db8::5/64"]
              routes: [{to: 0.0.0.0/0, via: 192.0.2.1, metric: 100}]
              nameservers: {addresses: [192.0.2.1], search: [example.internal]}
              mtu: 9000
        """

    /// `yaml` (a spec) with `network` added.
    static func withNetwork(_ yaml: String) -> String {
        yaml + (yaml.hasSuffix("\n") ? "" : "\n") + network + "\n"
    }

    static func example(_ name: String) throws -> String {
        try String(contentsOf: Paths.exampleSpecs.appendingPathComponent(name), encoding: .utf8)
    }

    static func caCertificate() throws -> String {
        guard case .object(let root) = try SpecTreeParser.parse(try example("full.yaml")),
            case .object(let coder)? = root["coder"], case .array(let certificates)? = coder["caCertificates"],
            case .string(let pem)? = certificates.first
        else { throw TestFailure("no CA in full.yaml") }
        return pem
    }

    /// name -> YAML text.
    static func variants() throws -> [(name: String, yaml: String)] {
        let pem = try caCertificate().split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        return [
            ("minimal", try example("minimal.yaml")),
            ("full", try example("full.yaml")),
            (
                "plain-vm",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: bob, name: box, id: 7d1f0c2e-1111-4222-8333-944455556666}
                user: {name: dev, shell: /usr/bin/zsh, groups: [adm, users], sudo: false}
                codeServer:
                  enabled: true
                  installedPath: /usr/lib/code-server
                  bindAddress: 0.0.0.0:8080
                  auth: password
                  hashedPassword: $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo
                ssh: {enabled: false}
                docker: {enabled: false, install: false, addUserToGroup: false}
                readiness: {port: 9100, required: [code-server]}
                """
            ),
            (
                "agent-options",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: carol, name: ml, id: 11111111-2222-4333-8444-555555555555}
                user:
                  name: carol
                  sshAuthorizedKeys: ["\(key)", "\(rsaKey)"]
                coder:
                  accessURL: https://coder.internal:8443
                  agentURL: http://coder.coder.svc:80/
                  tokenFile: /etc/coder-agent/token
                  arch: arm64
                  caCertificates:
                    - |
                \(pem)
                  proxy: {https: "http://proxy:3128", noProxy: [".cluster.local", "10.0.0.0/8"]}
                  agentHeaders: {X-Tenant: carol, X-Team: "ml platform"}
                codeServer:
                  version: 4.90.0
                  sha256: {amd64: \(digest), arm64: \(digest)}
                  extensions: [ms-toolsai.jupyter@2024.1.0]
                  settings: {editor.wordWrap: "on", files.autoSave: afterDelay, editor.tabSize: 2, terminal.integrated.gpuAcceleration: false}
                readiness: {required: [agent, ssh]}
                """
            ),
            (
                "instance-identity",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: dave, name: gce, id: 21111111-2222-4333-8444-555555555555}
                user: {name: dave}
                coder: {accessURL: "https://coder.example.com", auth: google-instance-identity}
                install: {packageURL: "https://dl.example.com/coder-vm-bootstrap-0.1.0-linux-amd64.tar.gz?X-Signature=abc%2Fdef&expires=1"}
                """
            ),
            (
                "install-rpm",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: erin, name: rpm, id: 31111111-2222-4333-8444-555555555555}
                user: {name: erin}
                install: {packageURL: "https://dl.example.com/coder-vm-bootstrap-0.1.0-1.x86_64.rpm", sha256: \(digest)}
                """
            ),
            (
                "install-pacman",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: finn, name: arch, id: 41111111-2222-4333-8444-555555555555}
                user: {name: finn}
                install: {packageURL: "https://dl.example.com/coder-vm-bootstrap-0.1.0-1-x86_64.pkg.tar.zst"}
                """
            ),
            (
                "long-names",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace:
                  owner: a-very-long-coder-user-name-of-32
                  name: and-an-equally-long-workspace-nm
                  id: 51111111-2222-4333-8444-555555555555
                user: {name: coder}
                """
            ),
            ("with-network", withNetwork(try example("minimal.yaml"))),
            (
                "explicit-hostname",
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: gina, name: web, id: 61111111-2222-4333-8444-555555555555}
                hostname: web.dev.example.internal
                user: {name: gina, sshAuthorizedKeys: ['from="10.0.0.0/8",no-agent-forwarding \(key)']}
                ssh: {port: 2222, passwordAuthentication: true, permitRootLogin: true}
                docker: {install: false}
                readiness: {port: 9000}
                """
            ),
        ]
    }

    static func spec(_ yaml: String) throws -> WorkspaceSpec {
        try SpecTreeParser.decodeSpec(yaml)
    }

    /// Each variant with each distribution preset that can install it.
    static func matrix() throws -> [(name: String, spec: WorkspaceSpec, preset: DistributionPreset)] {
        var result: [(String, WorkspaceSpec, DistributionPreset)] = []
        for (name, yaml) in try variants() {
            let spec = try spec(yaml)
            for preset in DistributionPreset.all {
                if (try? SpecNormalizer.check(spec, for: preset)) != nil { result.append(("\(name)@\(preset.name)", spec, preset)) }
            }
        }
        return result
    }

    static func context(
        _ spec: WorkspaceSpec, preset: DistributionPreset = .default,
        configure: (inout RenderOptions) -> Void = { _ in }
    ) throws -> RenderContext {
        var options = RenderOptions()
        options.namespace = "coder-workspaces"
        options.distribution = preset
        configure(&options)
        return try RenderContext(spec: spec, options: options)
    }
}

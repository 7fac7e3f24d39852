import Foundation
import WorkspaceSpec

/// Values given as flags (or Terraform inputs) that override or extend a
/// spec file. They are applied to the tree before decoding, so a bad value
/// is reported with its field path like one in the file.
public struct SpecOverrides: Equatable, Sendable {
    public var owner: String?
    public var workspaceName: String?
    public var workspaceID: String?
    public var hostname: String?
    public var userName: String?
    /// Appended to `user.sshAuthorizedKeys`.
    public var sshAuthorizedKeys: [String] = []
    public var accessURL: String?
    public var agentURL: String?
    /// The agent token, read by the caller from a file (never from argv).
    /// Replaces `coder.token` and drops `coder.tokenFile`.
    public var token: String?
    public var installPackageURL: String?
    public var installSHA256: String?

    public init() {}

    public var isEmpty: Bool { self == SpecOverrides() }

    /// The flag that sets each spec path, for hints when a required field is missing.
    public static let flagForPath: [String: String] = [
        "workspace": "--owner, --workspace and --workspace-id", "user": "--user",
        "workspace.owner": "--owner", "workspace.name": "--workspace", "workspace.id": "--workspace-id",
        "hostname": "--hostname", "user.name": "--user", "user.sshAuthorizedKeys": "--ssh-key",
        "coder.accessURL": "--access-url", "coder.agentURL": "--agent-url", "coder.token": "--token-file",
        "install.packageURL": "--install-url", "install.sha256": "--install-sha256",
    ]

    public func apply(to tree: JSONValue) -> JSONValue {
        guard case .object = tree else { return tree }  // the decoder reports it
        var tree = tree
        func set(_ path: [String], _ value: String?) {
            if let value { tree.set(path, .string(value)) }
        }
        set(["workspace", "owner"], owner)
        set(["workspace", "name"], workspaceName)
        set(["workspace", "id"], workspaceID)
        set(["hostname"], hostname)
        set(["user", "name"], userName)
        if !sshAuthorizedKeys.isEmpty {
            var keys: [JSONValue] = []
            if case .array(let existing)? = tree.value(at: ["user", "sshAuthorizedKeys"]) { keys = existing }
            tree.set(["user", "sshAuthorizedKeys"], .array(keys + sshAuthorizedKeys.map(JSONValue.string)))
        }
        set(["coder", "accessURL"], accessURL)
        set(["coder", "agentURL"], agentURL)
        if let token {
            set(["coder", "token"], token)
            tree.remove(["coder", "tokenFile"])
        }
        set(["install", "packageURL"], installPackageURL)
        set(["install", "sha256"], installSHA256)
        return tree
    }

    /// Adds "give --flag" to the hint of a missing field that a flag can set.
    public static func withFlagHints(_ invalid: InvalidSpec) -> InvalidSpec {
        var invalid = invalid
        invalid.diagnostics = invalid.diagnostics.map { diagnostic in
            guard diagnostic.message == "is required", let flag = flagForPath[diagnostic.path] else { return diagnostic }
            var diagnostic = diagnostic
            diagnostic.hint = "give \(flag), or set \(diagnostic.path) in the spec file"
            return diagnostic
        }
        return invalid
    }
}

extension JSONValue {
    func value(at path: [String]) -> JSONValue? {
        guard let first = path.first else { return self }
        guard case .object(let fields) = self, let child = fields[first] else { return nil }
        return child.value(at: Array(path.dropFirst()))
    }

    /// Sets a value, creating mappings on the way (a non-mapping in the way
    /// is replaced: the flag wins).
    mutating func set(_ path: [String], _ value: JSONValue) {
        guard let first = path.first else {
            self = value
            return
        }
        var fields: [String: JSONValue] = [:]
        if case .object(let existing) = self { fields = existing }
        var child = fields[first] ?? .object([:])
        child.set(Array(path.dropFirst()), value)
        fields[first] = child
        self = .object(fields)
    }

    mutating func remove(_ path: [String]) {
        guard let first = path.first, case .object(var fields) = self else { return }
        if path.count == 1 {
            fields[first] = nil
        } else if var child = fields[first] {
            child.remove(Array(path.dropFirst()))
            fields[first] = child
        }
        self = .object(fields)
    }
}

import WorkspaceSpec

/// Names of the Kubernetes objects of one workspace, and the labels they
/// all carry. Names follow the seed template (`coder-<owner>-<workspace>`).
public struct ResourceNames: Equatable, Sendable {
    /// Longest name the VM and Service may have: a Service name and the
    /// `kubevirt.io/vm` label value are at most 63 characters.
    public static let maximumLength = 63

    /// `coder-<owner>-<workspace>`, or, when that is longer than 63
    /// characters, its first 54 followed by `-` and 8 hex digits of the SHA-1
    /// of the workspace id (unique, and the same on every render).
    public let base: String

    public init(_ workspace: WorkspaceIdentity) {
        base = Self.shortened(workspace.resourceName, uniqueBy: workspace.id)
    }

    public var virtualMachine: String { base }
    public var service: String { base }
    public var secret: String { base + "-cloudinit" }
    public var dataVolume: String { base + "-root" }

    static func shortened(_ name: String, uniqueBy id: String) -> String {
        guard name.count > maximumLength else { return name }
        let suffix = String(SHA1.hex(SHA1.digest(Array(id.lowercased().utf8))).prefix(8))
        var head = String(name.prefix(maximumLength - suffix.count - 1))
        while head.hasSuffix("-") { head.removeLast() }
        return head + "-" + suffix
    }
}

/// The labels on every object of a workspace (and on the VM's pod, through
/// the template), so `kubectl get all -l com.coder.workspace.id=...` finds
/// them all.
public enum WorkspaceLabels {
    public static func common(_ workspace: WorkspaceIdentity) -> [(String, String)] {
        [
            ("app.kubernetes.io/name", "coder-workspace"),
            ("app.kubernetes.io/managed-by", "coder-vm-seed"),
            ("com.coder.resource", "true"),
            ("com.coder.workspace.id", workspace.id),
            ("com.coder.workspace.name", workspace.name),
            ("com.coder.user.username", workspace.owner),
        ]
    }

    /// The label KubeVirt copies from the template onto the VM's pod; the
    /// Service selects on it.
    public static let vmKey = "kubevirt.io/vm"
}

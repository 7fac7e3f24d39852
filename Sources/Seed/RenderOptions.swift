import Foundation

/// Where the root disk's image comes from.
public enum RootDiskSource: Equatable, Sendable {
    /// The distribution preset's cloud image.
    case preset
    /// Another image over HTTP(S).
    case http(url: String)
    /// A clone of a prepared PVC (a golden image), possibly in another namespace.
    case pvc(namespace: String?, name: String)

    /// `NAMESPACE/NAME` or `NAME`.
    public static func pvc(_ text: String) throws(SeedError) -> RootDiskSource {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy({ KubernetesName.isSubdomain($0) }) else {
            throw .invalidOption("clone PVC \"\(text)\" is not NAMESPACE/NAME or NAME of a PersistentVolumeClaim")
        }
        return parts.count == 2 ? .pvc(namespace: parts[0], name: parts[1]) : .pvc(namespace: nil, name: parts[0])
    }
}

/// KubeVirt's run strategies: Always while the Coder workspace runs, Halted
/// while it is stopped (the disk stays).
public enum RunStrategy: String, CaseIterable, Sendable {
    case always = "Always"
    case halted = "Halted"
    case manual = "Manual"
    case rerunOnFailure = "RerunOnFailure"
    case once = "Once"
}

/// How KubeVirt asks whether the workspace is ready (the VMI's
/// `readinessProbe`; a not-ready VM drops out of its Service).
public enum ReadinessProbeKind: String, CaseIterable, Sendable {
    /// `httpGet` on the daemon's `/readyz`: kubelet reaches it over the pod
    /// network (masquerade binding, IPv4).
    case http
    /// `exec` of `coder-vm-bootstrap status --probe` inside the guest through
    /// qemu-guest-agent, for clusters whose pod network cannot reach the VM
    /// (IPv6-only, bridge binding). The image must run qemu-guest-agent.
    case exec
}

/// Everything about the VM that is not in the workspace spec: where it runs
/// and how big it is.
public struct RenderOptions: Equatable, Sendable {
    /// nil: no `metadata.namespace` (kubectl's current namespace applies).
    public var namespace: String?
    public var distribution: DistributionPreset = .default
    public var cpuCores: Int = 2
    /// Kubernetes quantities, e.g. `4Gi`.
    public var memory: String = "4Gi"
    public var diskSize: String = "16Gi"
    public var rootDisk: RootDiskSource = .preset
    public var storageClass: String?
    /// nil: CDI takes it from the StorageProfile of the storage class.
    public var accessMode: String?
    public var runStrategy: RunStrategy = .always
    public var readinessProbe: ReadinessProbeKind = .http

    public init() {}

    public static let accessModes = ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]

    /// Every problem in one message.
    public func validate() throws(SeedError) {
        var problems: [String] = []
        if let namespace, !KubernetesName.isLabel(namespace) {
            problems.append("namespace \"\(namespace)\" is not a DNS label (lowercase letters, digits, '-')")
        }
        if !(1...512).contains(cpuCores) { problems.append("cpu \(cpuCores) is not a number of cores from 1 to 512") }
        if !KubernetesName.isQuantity(memory) { problems.append("memory \"\(memory)\" is not a Kubernetes quantity such as 4Gi") }
        if !KubernetesName.isQuantity(diskSize) { problems.append("disk \"\(diskSize)\" is not a Kubernetes quantity such as 16Gi") }
        if let storageClass, !KubernetesName.isSubdomain(storageClass) {
            problems.append("storage class \"\(storageClass)\" is not a valid name")
        }
        if let accessMode, !Self.accessModes.contains(accessMode) {
            problems.append("access mode \"\(accessMode)\" is not one of \(Self.accessModes.joined(separator: ", "))")
        }
        if case .http(let url) = rootDisk,
            URL(string: url).flatMap({ ["http", "https"].contains($0.scheme?.lowercased() ?? "") && $0.host != nil ? $0 : nil }) == nil
        {
            problems.append("image URL \"\(url)\" is not an http(s) URL")
        }
        if !problems.isEmpty { throw .invalidOption(problems.joined(separator: "\n")) }
    }
}

/// Kubernetes' name and quantity formats.
enum KubernetesName {
    /// RFC 1123 label: at most 63 of [a-z0-9-], alphanumeric at both ends.
    static func isLabel(_ text: String) -> Bool {
        text.range(of: "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", options: .regularExpression) != nil
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253.
    static func isSubdomain(_ text: String) -> Bool {
        text.count <= 253 && !text.isEmpty
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    /// A label value: empty or at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends.
    static func isLabelValue(_ text: String) -> Bool {
        text.isEmpty || text.range(of: "^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", options: .regularExpression) != nil
    }

    /// A resource quantity (a positive amount with an optional suffix).
    static func isQuantity(_ text: String) -> Bool {
        text.range(of: "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", options: .regularExpression) != nil
            && text.contains(where: { $0 != "0" && $0.isNumber })
    }
}

import Foundation
import WorkspaceSpec

/// The Secret KubeVirt reads the user-data from
/// (`cloudInitNoCloud.secretRef`, key `userdata`) and, when the spec has a
/// `network`, the network-config (`networkDataSecretRef` naming the same
/// Secret, key `networkdata`: KubeVirt reads only `userdata` through
/// `secretRef`).
///
/// It is written with `data` (base64), not `stringData`: `data` is exactly
/// what the API server stores and KubeVirt reads, byte for byte, whereas
/// `stringData` is a write-only convenience that the server folds into
/// `data`, so tools that compare what they applied with what they read back
/// (kubectl diff, Terraform) would see a change on every run. Base64 also
/// keeps the user-data opaque inside the outer YAML.
public enum SecretRenderer {
    /// Kubernetes rejects a Secret whose data adds up to more than 1 MiB.
    public static let maximumSize = 1024 * 1024
    public static let userDataKey = "userdata"
    public static let networkDataKey = "networkdata"

    public static func render(_ context: RenderContext) throws -> YAMLValue {
        var data = [(userDataKey, try CloudConfig.render(context))]
        if let networkData = try networkData(context.spec) { data.append((networkDataKey, networkData)) }
        try checkSize(data.map(\.1), spec: context.spec)
        return .object([
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": context.metadata(name: context.names.secret),
            "type": "Opaque",
            "data": .object(data.map { ($0.0, YAMLValue.string(Data($0.1.utf8).base64EncodedString())) }),
        ])
    }

    /// The spec's network-config as the YAML document cloud-init reads from
    /// the NoCloud disk's `network-config`; nil without one.
    public static func networkData(_ spec: WorkspaceSpec) throws -> String? {
        try spec.network.map { try YAMLValue($0).yamlDocument() }
    }

    /// Fails with the biggest fields named when the values cannot fit.
    static func checkSize(_ values: [String], spec: WorkspaceSpec) throws(SeedError) {
        let size = values.reduce(0) { $0 + $1.utf8.count }
        guard size > maximumSize else { return }
        throw .secretTooLarge(bytes: size, biggestFields: Array(fieldSizes(spec).prefix(5)))
    }

    /// Encoded size of every field two levels deep (e.g.
    /// `coder.caCertificates`), biggest first.
    static func fieldSizes(_ spec: WorkspaceSpec) -> [(path: String, bytes: Int)] {
        guard let data = try? JSONEncoder().encode(spec),
            case .object(let root)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return [] }
        func size(_ value: JSONValue) -> Int { (try? JSONEncoder().encode(value).count) ?? 0 }
        var sizes: [(path: String, bytes: Int)] = []
        for (key, value) in root {
            if case .object(let fields) = value {
                for (child, childValue) in fields { sizes.append(("\(key).\(child)", size(childValue))) }
            } else {
                sizes.append((key, size(value)))
            }
        }
        return sizes.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.path < $1.path }
    }
}

import Foundation
import WorkspaceSpec

/// The Secret KubeVirt reads the user-data from
/// (`cloudInitNoCloud.secretRef`, key `userdata`).
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

    public static func render(_ context: RenderContext) throws -> YAMLValue {
        let userData = try CloudConfig.render(context)
        try checkSize(userData, spec: context.spec)
        return .object([
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": context.metadata(name: context.names.secret),
            "type": "Opaque",
            "data": .object([(userDataKey, YAMLValue.string(Data(userData.utf8).base64EncodedString()))]),
        ])
    }

    /// Fails with the biggest fields named when the user-data cannot fit.
    static func checkSize(_ userData: String, spec: WorkspaceSpec) throws(SeedError) {
        let size = userData.utf8.count
        guard size > maximumSize else { return }
        throw .secretTooLarge(bytes: size, biggestFields: Array(fieldSizes(spec).prefix(5)))
    }

    /// Encoded size of every field two levels deep (e.g.
    /// `coder.caCertificates`), biggest first.
    static func fieldSizes(_ spec: WorkspaceSpec) -> [(path: String, bytes: Int)] {
        guard let data = try? JSONEncoder().encode(spec),
              case .object(let root)? = try? JSONDecoder().decode(JSONValue.self, from: data) else { return [] }
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

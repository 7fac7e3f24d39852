import Foundation
import WorkspaceSpec

/// The host-side rules a decoded spec must also meet before it goes into a
/// VM, and the one value the host fills in. Rules about the spec alone live
/// in SpecDecoder; these come from Kubernetes and the distribution.
public enum SpecNormalizer {
    /// The spec exactly as the daemon will read it.
    public static func normalize(_ spec: WorkspaceSpec) throws(InvalidSpec) -> WorkspaceSpec {
        var spec = spec
        var problems: [SpecDiagnostic] = []
        // The id is a label value on every object.
        if !KubernetesName.isLabelValue(spec.workspace.id) {
            problems.append(
                SpecDiagnostic(
                    path: "workspace.id", message: "\"\(spec.workspace.id)\" cannot be a Kubernetes label value",
                    hint: "use Coder's workspace id (a UUID: at most 63 characters, letters or digits at both ends)"))
        }
        // The default host name is `coder-<owner>-<name>`: one label, which
        // may not be longer than 63. Shorten it the way the object names are.
        if spec.hostname == spec.workspace.resourceName, spec.hostname.count > ResourceNames.maximumLength {
            spec.hostname = ResourceNames(spec.workspace).base
        }
        if !problems.isEmpty { throw InvalidSpec(diagnostics: problems) }
        return spec
    }

    /// Rules that depend on the distribution the VM boots.
    public static func check(_ spec: WorkspaceSpec, for distribution: DistributionPreset) throws(InvalidSpec) {
        guard let install = spec.install else { return }
        let kind = DaemonInstall.PackageKind(url: install.packageURL)
        switch kind {
        case nil:
            throw InvalidSpec(diagnostics: [
                SpecDiagnostic(
                    path: "install.packageURL", message: "cannot tell the package type of \"\(install.packageURL)\"",
                    hint: "the URL's path must end in .deb, .rpm, .pkg.tar.zst or .tar.gz")
            ])
        case .tarball?:
            return
        case let kind?:
            if kind.format != distribution.family.packageFormat {
                throw InvalidSpec(diagnostics: [
                    SpecDiagnostic(
                        path: "install.packageURL",
                        message:
                            "a \(kind.rawValue) package cannot be installed on \(distribution.name), which installs \(distribution.family.packageFormat.rawValue) packages",
                        hint: "give the \(distribution.name) package, or the .tar.gz that works everywhere")
                ])
            }
        }
    }
}

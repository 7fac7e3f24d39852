// The distribution facts are shared with the companion; the engine and its
// components use them through this module.
@_exported import Distributions

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The outcome of looking at os-release: the facts to use and, for anything
/// but a first-class distribution, a sentence saying what was assumed.
public struct HostDetection: Equatable, Sendable {
    public var osRelease: OSRelease
    /// The tested distribution os-release names; nil for any other.
    public var distribution: Distribution?
    /// The family's facts; nil: unknown family, components that need them are skipped.
    public var distro: Distro?
    public var note: String?

    /// True for the seven distributions this project tests.
    public var firstClass: Bool { distribution != nil }

    public init(_ osRelease: OSRelease) {
        self.osRelease = osRelease
        distribution = Distribution.matching(osRelease)
        distro = distribution?.family ?? Distro.family(of: osRelease)
        switch (distro, distribution) {
        case (nil, _):
            note =
                "unknown distribution ID=\(osRelease.id) (ID_LIKE=\(osRelease.idLike.joined(separator: " "))): "
                + "package installs, CA trust and the admin group are skipped; SSH, code-server and the agent are configured with defaults"
        case (let distro?, nil):
            note = "\(osRelease.prettyName) is not tested; treating it as the \(distro.name.rawValue) family"
        default:
            note = nil
        }
    }

    /// Reads `/etc/os-release`, falling back to `/usr/lib/os-release` as os-release(5) says.
    public static func current(root: String = "") -> HostDetection {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let text = try? String(contentsOfFile: root + path, encoding: .utf8) {
                return HostDetection(OSRelease(contents: text))
            }
        }
        return HostDetection(OSRelease(fields: [:]))
    }
}

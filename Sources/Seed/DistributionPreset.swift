// The rows are shared with the in-VM daemon; everything that renders for a
// distribution (and the command line that picks one) uses them through Seed.
@_exported import Distributions

/// The companion calls the distribution rows presets: one is picked by name
/// (`--distro`, the Terraform `distro` parameter) for the cloud image and the
/// package format a workspace VM gets (its admin group is the daemon's business).
public typealias DistributionPreset = Distribution

extension Distribution {
    public static let `default` = all[0]

    public static var names: [String] { all.map(\.name) }
}

import WorkspaceSpec

/// One workspace ready to render: the normalized spec, the options, and
/// what is derived from them (names, labels, firmware UUID). Every renderer
/// reads from here, so all objects agree on names.
public struct RenderContext: Sendable {
    public let spec: WorkspaceSpec
    public let options: RenderOptions
    public let names: ResourceNames
    public let firmwareUUID: String

    public init(spec: WorkspaceSpec, options: RenderOptions) throws(SeedError) {
        try options.validate()
        do throws(InvalidSpec) {
            let normalized = try SpecNormalizer.normalize(spec)
            try SpecNormalizer.check(normalized, for: options.distribution)
            self.spec = normalized
        } catch {
            throw .invalidSpec(error)
        }
        self.options = options
        names = ResourceNames(spec.workspace)
        firmwareUUID = FirmwareUUID.forWorkspace(id: spec.workspace.id)
    }

    public var labels: [(String, String)] { WorkspaceLabels.common(spec.workspace) }

    /// `metadata` of every object: name, namespace when given, labels.
    func metadata(name: String, annotations: [(String, String)] = []) -> YAMLValue {
        .object([
            "name": .string(name),
            "namespace": options.namespace.map(YAMLValue.string),
            "labels": YAMLValue.strings(labels),
            "annotations": annotations.isEmpty ? nil : YAMLValue.strings(annotations),
        ])
    }
}

/// All objects of one workspace, in the order `kubectl apply` should
/// create them (what the VM refers to comes first).
public enum WorkspaceManifests {
    public static func all(_ context: RenderContext) throws -> [YAMLValue] {
        [try SecretRenderer.render(context)] + machine(context)
    }

    /// DataVolume, VirtualMachine and Service (`render-vm`).
    public static func machine(_ context: RenderContext) -> [YAMLValue] {
        [DataVolumeRenderer.render(context), VirtualMachineRenderer.render(context), ServiceRenderer.render(context)]
    }

    public static func yaml(_ documents: [YAMLValue]) throws -> String {
        try YAMLValue.yamlStream(documents)
    }
}

/// The root disk: a CDI DataVolume imported from the distribution's cloud
/// image (or cloned from a golden-image PVC).
///
/// It is a separate object, not one of the VM's `dataVolumeTemplates`: a
/// template's DataVolume is owned by the VirtualMachine and deleted with
/// it, while this one lives on its own. Whatever happens to the VM object
/// on a stop (halted, or deleted and re-created by a template), the disk
/// and the user's home directory on it stay until the workspace is deleted.
public enum DataVolumeRenderer {
    public static func render(_ context: RenderContext) -> YAMLValue {
        let options = context.options
        let source: YAMLValue
        switch options.rootDisk {
        case .preset: source = .object(["http": .object(["url": .string(options.distribution.imageURL)])])
        case .http(let url): source = .object(["http": .object(["url": .string(url)])])
        case .pvc(let namespace, let name):
            source = .object([
                "pvc": .object([
                    "namespace": .string(namespace ?? options.namespace ?? "default"), "name": .string(name),
                ])
            ])
        }
        return .object([
            "apiVersion": "cdi.kubevirt.io/v1beta1",
            "kind": "DataVolume",
            // CDI may garbage-collect a finished DataVolume (keeping the PVC);
            // this one is referenced by the VM, so keep it.
            "metadata": context.metadata(
                name: context.names.dataVolume,
                annotations: [("cdi.kubevirt.io/storage.deleteAfterCompletion", "false")]),
            "spec": .object([
                "source": source,
                "storage": .object([
                    "accessModes": options.accessMode.map { [.string($0)] },
                    "storageClassName": options.storageClass.map(YAMLValue.string),
                    "resources": .object(["requests": .object(["storage": .string(options.diskSize)])]),
                ]),
            ]),
        ])
    }
}

/// The KubeVirt VirtualMachine: root disk from the DataVolume, user-data
/// from the Secret, masquerade networking on the pod network, and a
/// readiness probe on the daemon's `/readyz` (so the Service only resolves
/// once the workspace is ready).
public enum VirtualMachineRenderer {
    static let rootDisk = "rootdisk"
    static let cloudInitDisk = "cloudinitdisk"
    static let podNetwork = "default"

    public static func render(_ context: RenderContext) -> YAMLValue {
        let names = context.names
        let options = context.options
        let templateLabels = context.labels + [(WorkspaceLabels.vmKey, names.virtualMachine)]
        return .object([
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": context.metadata(name: names.virtualMachine),
            "spec": .object([
                "runStrategy": .string(options.runStrategy.rawValue),
                "template": .object([
                    "metadata": .object(["labels": YAMLValue.strings(templateLabels)]),
                    "spec": .object([
                        "domain": .object([
                            // Stable across stop/start and re-creation: cloud-init's instance-id.
                            "firmware": .object(["uuid": .string(context.firmwareUUID)]),
                            "cpu": .object(["cores": .int(options.cpuCores)]),
                            "resources": .object(["requests": .object(["memory": .string(options.memory)])]),
                            "devices": .object([
                                "disks": [
                                    .object(["name": .string(rootDisk), "disk": .object(["bus": "virtio"])]),
                                    .object(["name": .string(cloudInitDisk), "disk": .object(["bus": "virtio"])]),
                                ],
                                "interfaces": [.object(["name": .string(podNetwork), "masquerade": .object([])])],
                                "rng": .object([]),
                            ]),
                        ]),
                        "networks": [.object(["name": .string(podNetwork), "pod": .object([])])],
                        "readinessProbe": readinessProbe(port: context.spec.readiness.port),
                        "volumes": [
                            .object(["name": .string(rootDisk), "dataVolume": .object(["name": .string(names.dataVolume)])]),
                            .object(["name": .string(cloudInitDisk),
                                     "cloudInitNoCloud": .object(["secretRef": .object(["name": .string(names.secret)])])]),
                        ],
                    ]),
                ]),
            ]),
        ])
    }

    /// A not-ready VM only drops out of its Service (no restart), so the
    /// probe can be patient: boot and first convergence take minutes.
    static func readinessProbe(port: Int) -> YAMLValue {
        .object([
            "httpGet": .object(["port": .int(port), "path": "/readyz"]),
            "initialDelaySeconds": 20,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
            "successThreshold": 1,
        ])
    }
}

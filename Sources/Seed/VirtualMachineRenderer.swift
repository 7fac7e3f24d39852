/// The KubeVirt VirtualMachine: root disk from the DataVolume, user-data
/// (and the spec's network-config) from the Secret, masquerade networking on
/// the pod network, and a readiness probe that asks the daemon (so the
/// Service only resolves once the workspace is ready).
public enum VirtualMachineRenderer {
    static let rootDisk = "rootdisk"
    static let cloudInitDisk = "cloudinitdisk"
    static let podNetwork = "default"
    /// Exits 0 exactly when `/readyz` would answer 200.
    public static let probeCommand = ["coder-vm-bootstrap", "status", "--probe"]

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
                        "readinessProbe": readinessProbe(options.readinessProbe, port: context.spec.readiness.port),
                        "volumes": [
                            .object(["name": .string(rootDisk), "dataVolume": .object(["name": .string(names.dataVolume)])]),
                            .object(["name": .string(cloudInitDisk), "cloudInitNoCloud": cloudInitNoCloud(context)]),
                        ],
                    ]),
                ]),
            ]),
        ])
    }

    /// KubeVirt reads only `userdata` through `secretRef`; network-config
    /// comes only through `networkDataSecretRef`, here the same Secret.
    static func cloudInitNoCloud(_ context: RenderContext) -> YAMLValue {
        let secret = YAMLValue.object(["name": .string(context.names.secret)])
        return .object([
            "secretRef": secret,
            "networkDataSecretRef": context.spec.network == nil ? nil : secret,
        ])
    }

    /// A not-ready VM only drops out of its Service (no restart), so the
    /// probe can be patient: boot and first convergence take minutes.
    static func readinessProbe(_ kind: ReadinessProbeKind, port: Int) -> YAMLValue {
        let action: (String, YAMLValue) =
            switch kind {
            case .http: ("httpGet", .object(["port": .int(port), "path": "/readyz"]))
            case .exec: ("exec", .object(["command": .list(probeCommand.map(YAMLValue.string))]))
            }
        return .object([
            action,
            ("initialDelaySeconds", 20),
            ("periodSeconds", 10),
            ("timeoutSeconds", 5),
            ("failureThreshold", 3),
            ("successThreshold", 1),
        ])
    }
}

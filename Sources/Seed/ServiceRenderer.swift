/// A headless Service over the VM's pod, so the workspace answers at
/// `coder-<owner>-<workspace>.<namespace>.svc.cluster.local` once its
/// readiness probe passes.
public enum ServiceRenderer {
    public static func render(_ context: RenderContext) -> YAMLValue {
        let spec = context.spec
        var ports: [YAMLValue] = []
        if spec.ssh.enabled { ports.append(port("ssh", spec.ssh.port)) }
        ports.append(port("readiness", spec.readiness.port))
        return .object([
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": context.metadata(name: context.names.service),
            "spec": .object([
                "clusterIP": "None",
                "selector": .object([(WorkspaceLabels.vmKey, YAMLValue.string(context.names.virtualMachine))]),
                "ports": .list(ports),
            ]),
        ])
    }

    static func port(_ name: String, _ number: Int) -> YAMLValue {
        .object(["name": .string(name), "protocol": "TCP", "port": .int(number), "targetPort": .int(number)])
    }
}

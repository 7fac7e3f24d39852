import WorkspaceSpec

/// Every kind of component the daemon knows, and which of them a spec turns
/// on. The one list a new component is added to.
public enum ComponentCatalog {
    public static func components(for spec: WorkspaceSpec, host: HostDetection) -> [any Component] {
        var components: [any Component] = [UserComponent(spec: spec)]
        if spec.ssh.enabled { components.append(SSHComponent(spec: spec, host: host)) }
        if spec.docker.enabled { components.append(DockerComponent(spec: spec)) }
        if spec.codeServer.enabled { components.append(CodeServerComponent(spec: spec)) }
        if let coder = spec.coder { components.append(CoderAgentComponent(spec: spec, coder: coder)) }
        return components
    }

    /// The one component named `name` this spec turns on (for the units'
    /// `prepare-start`).
    public static func component(_ name: ComponentName, for spec: WorkspaceSpec, host: HostDetection) -> (any Component)? {
        components(for: spec, host: host).first { $0.name == name }
    }
}

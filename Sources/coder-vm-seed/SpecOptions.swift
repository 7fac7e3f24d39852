import ArgumentParser
import Foundation
import Seed
import WorkspaceSpec

/// The spec file and the flags that override or complete it.
struct SpecOptions: ParsableArguments {
    @Argument(help: "Spec file (YAML or JSON); - reads standard input. Optional when the flags give a whole spec.")
    var file: String?

    @Option(help: "Coder user name (workspace.owner).")
    var owner: String?
    @Option(help: "Workspace name (workspace.name).")
    var workspace: String?
    @Option(name: .customLong("workspace-id"), help: "Coder workspace id (workspace.id); the firmware UUID derives from it.")
    var workspaceID: String?
    @Option(help: "Host name of the VM (default coder-<owner>-<workspace>).")
    var hostname: String?
    @Option(help: "Login user (user.name).")
    var user: String?
    @Option(name: .customLong("ssh-key"), help: "An authorized_keys line to add (repeatable).")
    var sshKeys: [String] = []
    @Option(name: .customLong("ssh-key-file"), help: "A file of authorized_keys lines to add, e.g. ~/.ssh/id_ed25519.pub (repeatable).")
    var sshKeyFiles: [String] = []
    @Option(name: .customLong("access-url"), help: "Coder access URL (coder.accessURL).")
    var accessURL: String?
    @Option(name: .customLong("agent-url"), help: "URL the agent uses, if not the access URL (coder.agentURL).")
    var agentURL: String?
    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp(
            "File holding the agent token (becomes coder.token).",
            discussion: "The token is never taken as a flag: other users can read a process's arguments."))
    var tokenFile: String?
    @Option(name: .customLong("install-url"), help: "Package of coder-vm-bootstrap for images without it (install.packageURL).")
    var installURL: String?
    @Option(name: .customLong("install-sha256"), help: "SHA-256 of that package (install.sha256).")
    var installSHA256: String?

    func overrides() throws(SeedError) -> SpecOverrides {
        var overrides = SpecOverrides()
        overrides.owner = owner
        overrides.workspaceName = workspace
        overrides.workspaceID = workspaceID
        overrides.hostname = hostname
        overrides.userName = user
        overrides.sshAuthorizedKeys = sshKeys
        for path in sshKeyFiles {
            let text = try SpecInput.readText(path: path)
            overrides.sshAuthorizedKeys += text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        overrides.accessURL = accessURL
        overrides.agentURL = agentURL
        if let tokenFile {
            if tokenFile == SpecInput.standardInput, file == SpecInput.standardInput {
                throw .invalidOption("--token-file - and a spec on standard input cannot both read it")
            }
            let token = try SpecInput.readText(path: tokenFile).trimmingCharacters(in: .whitespacesAndNewlines)
            if token.isEmpty { throw .invalidOption("--token-file \(tokenFile) is empty") }
            overrides.token = token
        }
        overrides.installPackageURL = installURL
        overrides.installSHA256 = installSHA256
        return overrides
    }

    func load() throws(SeedError) -> WorkspaceSpec {
        try SpecInput.load(path: file, overrides: try overrides())
    }
}

/// Where the objects go and which distribution the VM boots.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Namespace of every object (default: none written, kubectl's applies).")
    var namespace: String?
    @Option(help: "Distribution preset: \(DistributionPreset.names.joined(separator: ", ")).")
    var distro: String = DistributionPreset.default.name
    @Option(
        name: .customLong("readiness-probe"),
        help: ArgumentHelp(
            "How KubeVirt asks whether the workspace is ready: http or exec.",
            discussion: """
                http: GET /readyz on the readiness port over the pod network. exec: coder-vm-bootstrap status --probe \
                inside the guest through qemu-guest-agent (which the image must run), for clusters whose pod network \
                cannot reach the VM (IPv6-only, bridge binding).
                """))
    var readinessProbe: ReadinessProbeKind = .http

    func apply(to options: inout RenderOptions) throws(SeedError) {
        options.namespace = namespace
        options.readinessProbe = readinessProbe
        guard let preset = DistributionPreset.named(distro) else {
            throw .invalidOption("--distro \(distro): not a preset (\(DistributionPreset.names.joined(separator: ", ")))")
        }
        options.distribution = preset
    }
}

/// Size and disk of the VM.
struct MachineOptions: ParsableArguments {
    @Option(help: "CPU cores.")
    var cpu: Int = 2
    @Option(help: "Memory (Kubernetes quantity).")
    var memory: String = "4Gi"
    @Option(help: "Root disk size (Kubernetes quantity).")
    var disk: String = "16Gi"
    @Option(name: .customLong("storage-class"), help: "Storage class of the root disk (default: the cluster's).")
    var storageClass: String?
    @Option(name: .customLong("access-mode"), help: "Access mode of the root disk (default: from the StorageProfile).")
    var accessMode: String?
    @Option(name: .customLong("image-url"), help: "Cloud image to import instead of the preset's.")
    var imageURL: String?
    @Option(name: .customLong("clone-pvc"), help: "NAMESPACE/NAME of a golden-image PVC to clone instead.")
    var clonePVC: String?
    @Flag(help: "Render runStrategy: Halted (the Coder workspace is stopped; the disk stays).")
    var halted = false
    @Option(name: .customLong("run-strategy"), help: "KubeVirt run strategy (default Always, or Halted with --halted).")
    var runStrategy: String?

    func apply(to options: inout RenderOptions) throws(SeedError) {
        options.cpuCores = cpu
        options.memory = memory
        options.diskSize = disk
        options.storageClass = storageClass
        options.accessMode = accessMode
        switch (imageURL, clonePVC) {
        case (let url?, nil): options.rootDisk = .http(url: url)
        case (nil, let pvc?): options.rootDisk = try RootDiskSource.pvc(pvc)
        case (nil, nil): options.rootDisk = .preset
        case (_?, _?): throw .invalidOption("--image-url and --clone-pvc: give one of them")
        }
        if let runStrategy {
            guard let strategy = RunStrategy(rawValue: runStrategy) else {
                throw .invalidOption("--run-strategy \(runStrategy): not one of \(RunStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if halted, strategy != .halted { throw .invalidOption("--halted and --run-strategy \(runStrategy) disagree") }
            options.runStrategy = strategy
        } else {
            options.runStrategy = halted ? .halted : .always
        }
    }
}

extension ReadinessProbeKind: ExpressibleByArgument {}

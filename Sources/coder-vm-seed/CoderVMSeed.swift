import ArgumentParser
import WorkspaceSpec

@main
struct CoderVMSeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coder-vm-seed",
        abstract: "Render the cloud-init Secret and KubeVirt objects that make a VM a Coder workspace.",
        discussion: """
            The spec (YAML or JSON) is checked on the host, then carried into the VM as JSON in the \
            cloud-init user-data, where coder-vm-bootstrap reads it on every boot.
            Exit codes: 0 done, 64 bad option, 66 spec file missing or unreadable, 78 invalid spec.
            """,
        version: BuildInfo.version,
        subcommands: [
            CheckConfigCommand.self, RenderSpecCommand.self, RenderUserDataCommand.self,
            RenderSecretCommand.self, RenderVMCommand.self, RenderAllCommand.self,
            TerraformExternalCommand.self,
        ]
    )
}

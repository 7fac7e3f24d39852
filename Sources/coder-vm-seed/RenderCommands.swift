import ArgumentParser
import Foundation
import Seed
import WorkspaceSpec

struct RenderSpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-spec",
        abstract: "Print the normalized spec as the daemon reads it: one line of JSON, keys sorted.")

    @OptionGroup var spec: SpecOptions
    @Flag(help: "Indent the JSON for people (the daemon's copy is one line).")
    var pretty = false

    func run() throws {
        try reportingErrors { () throws(SeedError) in
            let loaded = try spec.load()
            let normalized: WorkspaceSpec
            do throws(InvalidSpec) {
                normalized = try SpecNormalizer.normalize(loaded)
            } catch {
                throw .invalidSpec(error)
            }
            do {
                let json = try SpecDelivery.json(normalized)
                writeOutput((pretty ? try prettyJSON(json) : json) + "\n")
            } catch {
                throw .invalidOption("cannot encode the spec: \(error)")
            }
        }
    }

    private func prettyJSON(_ json: String) throws -> String {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// What every render command shares: spec, cluster and machine options.
struct RenderInputs: ParsableArguments {
    @OptionGroup var spec: SpecOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var machine: MachineOptions

    func context() throws(SeedError) -> RenderContext {
        let workspace = try spec.load()
        var options = RenderOptions()
        try cluster.apply(to: &options)
        try machine.apply(to: &options)
        do {
            return try RenderContext(spec: workspace, options: options)
        } catch .invalidSpec(var invalid) {
            invalid.source = spec.file.map(SpecInput.displayName) ?? "the flags"
            throw .invalidSpec(invalid)
        }
    }

    /// Renders with `body`, reporting errors with their exit codes.
    func render(_ body: (RenderContext) throws -> String) throws {
        try reportingErrors { () throws(SeedError) in
            let context = try context()
            do {
                writeOutput(try body(context))
            } catch let error as SeedError {
                throw error
            } catch {
                throw .invalidOption("cannot render: \(error)")
            }
        }
    }
}

struct RenderUserDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-userdata",
        abstract: "Print the #cloud-config user-data (what the Secret holds, decoded).")
    @OptionGroup var inputs: RenderInputs

    func run() throws { try inputs.render { try CloudConfig.render($0) } }
}

struct RenderSecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-secret",
        abstract: "Print the Secret that holds the cloud-init user-data (key userdata).")
    @OptionGroup var inputs: RenderInputs

    func run() throws { try inputs.render { try WorkspaceManifests.yaml([try SecretRenderer.render($0)]) } }
}

struct RenderVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-vm",
        abstract: "Print the DataVolume, VirtualMachine and Service.")
    @OptionGroup var inputs: RenderInputs

    func run() throws { try inputs.render { try WorkspaceManifests.yaml(WorkspaceManifests.machine($0)) } }
}

struct RenderAllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-all",
        abstract: "Print Secret, DataVolume, VirtualMachine and Service as one stream for `kubectl apply -f -`.")
    @OptionGroup var inputs: RenderInputs

    func run() throws { try inputs.render { try WorkspaceManifests.yaml(try WorkspaceManifests.all($0)) } }
}

struct TerraformExternalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terraform-external",
        abstract: "Speak Terraform's external data source protocol (JSON object of strings in and out).",
        discussion: """
            Input keys: \(TerraformExternal.inputKeys.sorted().joined(separator: ", ")) (only spec_json is required).
            Output keys: \(TerraformExternal.outputKeys.joined(separator: ", ")).
            See examples/kubevirt-template/README.md.
            """)

    func run() throws {
        try reportingErrors { () throws(SeedError) in
            let input = FileHandle.standardInput.readDataToEndOfFile()
            writeOutput(String(decoding: try TerraformExternal.respond(to: input), as: UTF8.self))
        }
    }
}

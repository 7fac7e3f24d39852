import Foundation
import WorkspaceSpec

/// Terraform's `external` data source protocol: one JSON object of string
/// values on standard input, one JSON object of string values on standard
/// output, or a message on standard error and a non-zero exit.
///
/// The spec (with the agent token) arrives inside the JSON on standard
/// input, never in the program's arguments, which any user on the machine
/// can read.
///
/// Input keys (all strings; only `spec_json` is required):
/// - `spec_json`: the workspace spec as JSON (`jsonencode(...)` in HCL)
/// - `namespace`: the namespace of every object (empty: none written)
/// - `distro`: a distribution preset (default `debian-12`)
/// - `cpu`: cores (default `2`); `memory` (default `4Gi`); `disk` (default `16Gi`)
/// - `run_strategy`: `Always` (default) or `Halted` (the workspace is stopped), or another KubeVirt strategy
/// - `storage_class`, `access_mode`: for the DataVolume (default: the cluster's)
/// - `image_url`: a cloud image instead of the preset's; `clone_pvc`: `NAMESPACE/NAME` of a golden-image PVC
/// - `readiness_probe`: `http` (default) or `exec` (through qemu-guest-agent), see `ReadinessProbeKind`
///
/// Output keys (all strings): see `outputKeys`.
public enum TerraformExternal {
    public static let inputKeys: Set<String> = [
        "spec_json", "namespace", "distro", "cpu", "memory", "disk", "run_strategy",
        "storage_class", "access_mode", "image_url", "clone_pvc", "readiness_probe",
    ]

    public static let outputKeys = [
        "secret_name", "datavolume_name", "virtualmachine_name", "service_name", "namespace",
        "hostname", "service_host", "firmware_uuid", "userdata", "networkdata", "spec_json", "labels_json",
        "secret_json", "datavolume_json", "virtualmachine_json", "service_json", "manifests_yaml",
    ]

    /// The whole exchange: standard input's bytes in, standard output's bytes out.
    public static func respond(to input: Data) throws(SeedError) -> Data {
        let query = try parseQuery(input)
        let context = try renderContext(query)
        do {
            let secret = try SecretRenderer.render(context)
            let dataVolume = DataVolumeRenderer.render(context)
            let virtualMachine = VirtualMachineRenderer.render(context)
            let service = ServiceRenderer.render(context)
            let names = context.names
            let namespace = context.options.namespace ?? ""
            let result: [String: String] = [
                "secret_name": names.secret,
                "datavolume_name": names.dataVolume,
                "virtualmachine_name": names.virtualMachine,
                "service_name": names.service,
                "namespace": namespace,
                "hostname": context.spec.hostname,
                "service_host": namespace.isEmpty ? names.service : "\(names.service).\(namespace).svc.cluster.local",
                "firmware_uuid": context.firmwareUUID,
                "userdata": try CloudConfig.render(context),
                "networkdata": try SecretRenderer.networkData(context.spec) ?? "",
                "spec_json": try SpecDelivery.json(context.spec),
                "labels_json": try YAMLValue.strings(context.labels).jsonText(),
                "secret_json": try secret.jsonText(),
                "datavolume_json": try dataVolume.jsonText(),
                "virtualmachine_json": try virtualMachine.jsonText(),
                "service_json": try service.jsonText(),
                "manifests_yaml": try WorkspaceManifests.yaml([secret, dataVolume, virtualMachine, service]),
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(result) + Data("\n".utf8)
        } catch let error as SeedError {
            throw error
        } catch {
            throw .invalidOption("cannot render: \(error)")
        }
    }

    static func parseQuery(_ input: Data) throws(SeedError) -> [String: String] {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: input)
        } catch {
            throw .invalidOption("terraform-external: standard input is not JSON (Terraform sends the data source's query as one JSON object)")
        }
        guard case .object(let fields) = value else {
            throw .invalidOption("terraform-external: standard input must be a JSON object, not \(kind(value))")
        }
        var query: [String: String] = [:]
        var problems: [String] = []
        for key in fields.keys.sorted() {
            guard inputKeys.contains(key) else {
                problems.append("\(key): unknown key (known: \(inputKeys.sorted().joined(separator: ", ")))")
                continue
            }
            guard case .string(let text) = fields[key]! else {
                problems.append(
                    "\(key): must be a string, not \(kind(fields[key]!)) (the external data source passes strings only; use tostring() or jsonencode())")
                continue
            }
            query[key] = text
        }
        if query["spec_json"] == nil, !fields.keys.contains("spec_json") {
            problems.append("spec_json: is required (the workspace spec as jsonencode({...}))")
        }
        if !problems.isEmpty { throw .invalidOption("terraform-external: " + problems.joined(separator: "\n  ")) }
        return query
    }

    static func renderContext(_ query: [String: String]) throws(SeedError) -> RenderContext {
        let spec: WorkspaceSpec
        do throws(InvalidSpec) {
            spec = try SpecDecoder.decode(json: Data((query["spec_json"] ?? "").utf8), source: "spec_json")
        } catch {
            throw .invalidSpec(error)
        }
        var options = RenderOptions()
        func nonEmpty(_ key: String) -> String? { query[key].flatMap { $0.isEmpty ? nil : $0 } }
        options.namespace = nonEmpty("namespace")
        if let name = nonEmpty("distro") {
            guard let preset = DistributionPreset.named(name) else {
                throw .invalidOption("distro: \"\(name)\" is not a preset (\(DistributionPreset.names.joined(separator: ", ")))")
            }
            options.distribution = preset
        }
        if let cpu = nonEmpty("cpu") {
            guard let cores = Int(cpu) else { throw .invalidOption("cpu: \"\(cpu)\" is not a whole number of cores") }
            options.cpuCores = cores
        }
        options.memory = nonEmpty("memory") ?? options.memory
        options.diskSize = nonEmpty("disk") ?? options.diskSize
        if let strategy = nonEmpty("run_strategy") {
            guard let value = RunStrategy(rawValue: strategy) else {
                throw .invalidOption("run_strategy: \"\(strategy)\" is not one of \(RunStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.runStrategy = value
        }
        if let probe = nonEmpty("readiness_probe") {
            guard let kind = ReadinessProbeKind(rawValue: probe) else {
                throw .invalidOption("readiness_probe: \"\(probe)\" is not one of \(ReadinessProbeKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.readinessProbe = kind
        }
        options.storageClass = nonEmpty("storage_class")
        options.accessMode = nonEmpty("access_mode")
        if let url = nonEmpty("image_url") { options.rootDisk = .http(url: url) }
        if let pvc = nonEmpty("clone_pvc") {
            guard nonEmpty("image_url") == nil else { throw .invalidOption("image_url and clone_pvc: give one of them") }
            options.rootDisk = try RootDiskSource.pvc(pvc)
        }
        return try RenderContext(spec: spec, options: options)
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

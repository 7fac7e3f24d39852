import Foundation

/// The VM's `spec.template.spec.domain.firmware.uuid`. KubeVirt (>= 1.6)
/// otherwise picks a random one when the VirtualMachine object is created,
/// and cloud-init takes a new UUID for a new instance: users, runcmd and SSH
/// host keys would run again on the kept disk after a delete and re-create.
/// A name-based UUID (RFC 9562 version 5) of the Coder workspace id is the
/// same every time, and differs between workspaces.
public enum FirmwareUUID {
    /// This project's namespace for version 5 UUIDs. Never change it: every
    /// existing workspace's firmware UUID depends on it.
    public static let namespace = UUID(uuidString: "cc99ae8a-c223-4691-99a6-f284622c16dc")!

    /// The firmware UUID of the workspace with Coder id `workspaceID`
    /// (lowercased first, so the spelling of a UUID does not matter).
    public static func forWorkspace(id workspaceID: String) -> String {
        nameBased(namespace: namespace, name: workspaceID.lowercased()).uuidString.lowercased()
    }

    /// RFC 9562 section 5.5: SHA-1 of namespace bytes + name, version and variant bits set.
    public static func nameBased(namespace: UUID, name: String) -> UUID {
        let space = withUnsafeBytes(of: namespace.uuid) { Array($0) }
        var hash = SHA1.digest(space + Array(name.utf8))
        hash[6] = (hash[6] & 0x0F) | 0x50
        hash[8] = (hash[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7],
                hash[8], hash[9], hash[10], hash[11], hash[12], hash[13], hash[14], hash[15]
            ))
    }
}

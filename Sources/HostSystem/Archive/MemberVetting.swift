/// Decides, member by member and without touching the file system, what an
/// extractor may create from an archive under an ArchivePolicy. It
/// remembers what the archive created so far, so it is one per archive.
///
/// Rules: names are checked as ArchivePath and the policy's top folders
/// stripped (the same for every member); modes lose setuid, setgid, sticky
/// and group/world write; a symlink's target must be relative and, resolved
/// from the link's own directory, stay inside the tree, with "..", if any,
/// only as leading steps (after a name, ".." could climb out through another
/// symlink); a hard link must name a regular file that came earlier; no
/// member may lie under an earlier file or symlink or repeat a path; any
/// other type fails the archive.
public final class MemberVetting {
    public let policy: ArchivePolicy
    private let tree: ArchiveTree
    private var members = 0
    private var unpackedBytes: Int64 = 0
    /// The components --strip-components removes, as far as seen so far.
    private var topFolder: [String] = []

    public init(policy: ArchivePolicy) {
        self.policy = policy
        tree = ArchiveTree(maxPaths: policy.maxEntries)
    }

    public func vet(_ member: TarMember) throws(ArchiveError) -> VettedEntry {
        do {
            return try decide(member)
        } catch {
            throw .refused(member: member.path, offset: member.offset, reason: error)
        }
    }

    private func decide(_ member: TarMember) throws(ArchiveRefusal) -> VettedEntry {
        members += 1
        guard members <= policy.maxEntries else { throw .tooManyEntries(limit: policy.maxEntries) }
        let kind: ArchiveTree.Kind
        switch member.type {
        case .directory: kind = .directory
        case .regular, .hardLink: kind = .file
        case .symbolicLink: kind = .symlink
        default: throw .unsupportedType(member.type)
        }
        let name = try ArchivePath.components(of: member.path)
        guard !name.trailingSlash || kind == .directory else { throw .trailingSlash }
        guard let path = try stripped(name.components, isDirectory: kind == .directory) else { return .skip }

        let entry: VettedEntry
        switch member.type {
        case .directory:
            entry = .directory(path, mode: ArchivePolicy.sanitisedMode(member.mode))
        case .regular:
            guard member.size <= policy.maxUnpackedBytes - unpackedBytes else { throw .unpackedSizeLimit(limit: policy.maxUnpackedBytes) }
            unpackedBytes += member.size
            entry = .file(path, mode: ArchivePolicy.sanitisedMode(member.mode), size: member.size)
        case .symbolicLink:
            entry = .symlink(path, target: try symlinkTarget(member.linkTarget, of: path))
        default:
            entry = .hardLink(path, to: try hardLinkTarget(member.linkTarget))
        }
        do {
            try tree.insert(path, as: kind)
        } catch {
            switch error {
            case .duplicate: throw .duplicatePath
            case .underNonDirectory(let parent): throw .underNonDirectory(parent.description)
            case .tooManyPaths: throw .tooManyEntries(limit: policy.maxEntries)
            }
        }
        return entry
    }

    /// The path below the top folders, or nil for a top folder itself.
    private func stripped(_ components: [String], isDirectory: Bool) throws(ArchiveRefusal) -> ArchivePath? {
        let count = policy.stripComponents
        let top = components.prefix(count)
        let known = min(top.count, topFolder.count)
        guard top.prefix(known).elementsEqual(topFolder.prefix(known), by: Self.sameBytes), components.count > count || isDirectory else {
            throw .outsideTopFolder(expected: topFolder.joined(separator: "/"))
        }
        if top.count > topFolder.count { topFolder = Array(top) }
        return components.count > count ? ArchivePath(checked: components[count...]) : nil
    }

    /// A symlink target as it will be created: relative, "." and empty
    /// components dropped, "../" steps first, never above the tree.
    private func symlinkTarget(_ target: String, of link: ArchivePath) throws(ArchiveRefusal) -> String {
        func unsafe(_ why: String) -> ArchiveRefusal { .unsafeSymlinkTarget(target: target, why: why) }
        let bytes = target.utf8
        guard !bytes.isEmpty else { throw unsafe("is empty") }
        guard !ArchivePath.hasControlCharacter(target) else { throw unsafe("has a NUL or control character") }
        guard bytes.first != UInt8(ascii: "/") else { throw unsafe("is absolute") }
        guard bytes.count <= ArchivePath.maxPathBytes else { throw unsafe("is longer than 4095 bytes") }
        var climbs = 0
        var names: [Substring.UTF8View] = []
        for part in ArchivePath.slashSeparated(target) where !part.isEmpty && !part.elementsEqual(".".utf8) {
            if part.elementsEqual("..".utf8) {
                guard names.isEmpty else { throw unsafe("has '..' after a name, which could climb out through another symlink") }
                climbs += 1
            } else {
                names.append(part)
            }
        }
        guard climbs < link.components.count else { throw unsafe("points outside the tree") }
        let steps = Array(repeating: "..", count: climbs) + names.map { String(decoding: $0, as: UTF8.self) }
        return steps.isEmpty ? "." : steps.joined(separator: "/")
    }

    private static func sameBytes(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// A hard link's target names an earlier member from the archive's
    /// root, so it loses the same top folders.
    private func hardLinkTarget(_ target: String) throws(ArchiveRefusal) -> ArchivePath {
        let refusal = ArchiveRefusal.hardLinkTargetNotAnEarlierFile(target)
        guard let name = try? ArchivePath.components(of: target), !name.trailingSlash,
            name.components.count > policy.stripComponents,
            name.components.prefix(policy.stripComponents).elementsEqual(topFolder, by: Self.sameBytes)
        else { throw refusal }
        let path = ArchivePath(checked: name.components[policy.stripComponents...])
        guard tree.kind(of: path) == .file else { throw refusal }
        return path
    }
}

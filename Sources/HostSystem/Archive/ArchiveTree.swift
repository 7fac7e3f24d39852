/// The paths an archive has created so far, as a tree of components (each
/// name stored once), so that MemberVetting can refuse a member under an
/// earlier file or symlink and a path that repeats. Parents a member
/// implies count as directories.
final class ArchiveTree {
    enum Kind { case directory, file, symlink }

    enum Conflict: Error {
        case underNonDirectory(ArchivePath)
        case duplicate
        case tooManyPaths
    }

    private final class Node {
        let kind: Kind
        /// Keyed by the name's bytes: two canonically equivalent names are two files.
        var children: [[UInt8]: Node] = [:]
        init(kind: Kind) { self.kind = kind }
    }

    private let root = Node(kind: .directory)
    private let maxPaths: Int
    private(set) var count = 0

    init(maxPaths: Int) { self.maxPaths = maxPaths }

    func kind(of path: ArchivePath) -> Kind? {
        var node = root
        for component in path.components {
            guard let child = node.children[Array(component.utf8)] else { return nil }
            node = child
        }
        return node.kind
    }

    /// Adds `path`, creating its parents as directories. A directory may be
    /// added again; anything else only once.
    func insert(_ path: ArchivePath, as kind: Kind) throws(Conflict) {
        var node = root
        for (depth, component) in path.components.enumerated() {
            let isLast = depth == path.components.count - 1
            let key = Array(component.utf8)
            if let child = node.children[key] {
                guard !isLast else {
                    guard child.kind == .directory, kind == .directory else { throw .duplicate }
                    return
                }
                guard child.kind == .directory else {
                    throw .underNonDirectory(ArchivePath(checked: path.components[...depth]))
                }
                node = child
            } else {
                guard count < maxPaths else { throw .tooManyPaths }
                let child = Node(kind: isLast ? kind : .directory)
                node.children[key] = child
                count += 1
                node = child
            }
        }
    }
}

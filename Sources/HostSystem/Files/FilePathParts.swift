/// A path split into its folder and last name, without Foundation's NSString.
public struct FilePathParts: Equatable, Sendable {
    public var directory: String
    public var name: String

    public init(_ path: String) {
        guard let slash = path.lastIndex(of: "/") else {
            directory = "."
            name = path
            return
        }
        directory = slash == path.startIndex ? "/" : String(path[..<slash])
        name = String(path[path.index(after: slash)...])
    }
}

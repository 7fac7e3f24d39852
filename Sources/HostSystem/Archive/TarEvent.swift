/// What TarReader reports as the bytes of an archive arrive. Every
/// `.member` is followed by its data, if it carries any, as `.data` events
/// adding up to exactly its size, then by one `.endOfMember`; `.end` comes
/// once, after the two zero blocks that close the archive.
public enum TarEvent {
    case member(TarMember)
    /// A piece of the current member's data; valid only during the call.
    case data(UnsafeRawBufferPointer)
    case endOfMember
    case end
}

import CLinuxExtensions

/// Memory the allocator holds but the program has freed.
public enum FreeHeapPages {
    /// malloc_trim(3) with no padding: since glibc 2.8 it gives every whole
    /// free page of every arena back to the kernel (MADV_DONTNEED), not
    /// only the top of the main heap, so what a burst of work allocated
    /// and freed stops counting in the resident set.
    /// - Returns: whether any memory was given back.
    @discardableResult
    public static func release() -> Bool { malloc_trim(0) == 1 }
}

import Foundation

/// Isolates the one Foundation query the kernels need.
enum ProcessInfoShim {
    static let activeProcessorCount = ProcessInfo.processInfo.activeProcessorCount
}

import Foundation

/// A progress bar on standard error, shown only once an operation has taken over a second.
final class ProgressBar: @unchecked Sendable {
    // Safe: all state is touched under the lock.
    private let total: Int
    private let label: String
    private let started = Date()
    private var shown = false
    private let lock = NSLock()

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func update(_ done: Int) {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(started) > 1 || shown else { return }
        shown = true
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)".utf8))
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

import Foundation
import Logging
import Pipeline
import Study

/// Log lines for a person at a terminal: the message alone, "warning:" or "error:" before the
/// serious ones, on standard error so that standard output stays for results.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .error ? "error: " : event.level >= .warning ? "warning: " : ""
        Console.shared.line("\(prefix)\(event.message)")
    }

    static func logger() -> Logger {
        Logger(label: "repro") { _ in ConsoleLogHandler() }
    }
}

/// Standard error, with one progress bar that log lines print above.
final class Console: @unchecked Sendable {
    static let shared = Console()
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var barShown = false
    private let lock = NSLock()

    func line(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        if barShown { write("\r\u{1B}[K") }
        write(text + "\n")
        barShown = false
    }

    /// The latest report of each study training now, in the order they started.
    private var active: [TrainingProgress] = []
    private var lastPlainLine: [String: Double] = [:]

    /// A progress bar on a terminal (redrawn in place), one segment per study when several train
    /// side by side; elsewhere, a plain line per study at most every 20 seconds.
    func progress(_ p: TrainingProgress) {
        lock.lock()
        defer { lock.unlock() }
        if let index = active.firstIndex(where: { $0.study == p.study }) { active[index] = p } else { active.append(p) }
        let eta = etaText(p)
        let eval = p.evalLoss.map { String(format: ", held-out %.3f", $0) } ?? ""
        let text = String(format: "%@ step %d/%d  loss %.3f%@  %.1f samples/s  %@", p.study, p.step, p.totalSteps, p.trainLoss, eval, p.samplesPerSecond, eta)
        if isTerminal {
            if active.count == 1 {
                write("\r\u{1B}[K\(bar(p, width: 24)) \(text)")
            } else {
                // Several studies: the short name (before its first dash), a bar and the step of each.
                let segments = active.map { "\($0.study.split(separator: "-").first ?? "") \(bar($0, width: 10)) \($0.step)/\($0.totalSteps)" }
                write("\r\u{1B}[K" + segments.joined(separator: "  "))
            }
            barShown = true
        } else {
            let now = Date().timeIntervalSince1970
            if now - (lastPlainLine[p.study] ?? 0) >= 20 || p.step == p.totalSteps || p.evalLoss != nil {
                write(text + "\n")
                lastPlainLine[p.study] = now
            }
        }
    }

    /// Takes a study that is done (trained and evaluated, or failed) out of the progress bar.
    func finished(_ study: String) {
        lock.lock()
        defer { lock.unlock() }
        active.removeAll { $0.study == study }
    }

    private func bar(_ p: TrainingProgress, width: Int) -> String {
        let filled = min(width, p.step * width / max(p.totalSteps, 1))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
    }

    private var started: [String: (Date, Int)] = [:]

    /// Time left, from the rate since this study's first report.
    private func etaText(_ p: TrainingProgress) -> String {
        let now = Date()
        guard let (start, firstStep) = started[p.study] else {
            started[p.study] = (now, p.step)
            return ""
        }
        let done = p.step - firstStep
        guard done > 0 else { return "" }
        let seconds = now.timeIntervalSince(start) / Double(done) * Double(p.totalSteps - p.step)
        return seconds >= 60 ? String(format: "ETA %dm%02ds", Int(seconds) / 60, Int(seconds) % 60) : String(format: "ETA %ds", Int(seconds))
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

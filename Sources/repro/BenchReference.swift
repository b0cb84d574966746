import ArgumentParser
import Foundation
import Model

/// Runs tools/bench_hf.py (transformers + peft on PyTorch) on the same model configuration, with
/// `arguments` naming what to time, and returns the JSON object it prints.
func runHuggingFaceReference(_ config: InstructBlipConfig, python: String, arguments: [String]) throws -> [String: Any] {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-bench-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try config.huggingFaceJSON().write(to: folder.appendingPathComponent("config.json"))
    let script = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("../../tools/bench_hf.py").standardized
    let scriptPath = FileManager.default.fileExists(atPath: script.path) ? script.path : "tools/bench_hf.py"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, scriptPath, "--config", folder.appendingPathComponent("config.json").path] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONWARNINGS"] = "ignore"
    environment["TRANSFORMERS_VERBOSITY"] = "error"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let result = try? JSONSerialization.jsonObject(with: output) as? [String: Any] else {
        throw ValidationError("--reference: \(scriptPath) failed (exit \(process.terminationStatus)); it needs torch, transformers and peft (see tools/bench_hf.py)")
    }
    return result
}

import CBLAS
import Foundation

/// Chooses OpenBLAS's compute kernel.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent Xeon models and falls back to its generic
/// "Prescott" kernel, five times slower than the AVX-512 one. OpenBLAS reads `OPENBLAS_CORETYPE`
/// only when the library loads, so a program that wants another kernel must set the variable
/// and execute itself again before its first BLAS call.
public enum BLASKernel {
    /// The environment variable OpenBLAS reads when it loads.
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"
    /// Set alongside it when repro (not the user) made the choice: the core OpenBLAS had detected.
    static let detectedVariable = "REPRO_OPENBLAS_DETECTED"

    public enum Source: Equatable, Sendable {
        /// OpenBLAS's own detection was kept.
        case detected
        /// The user set `OPENBLAS_CORETYPE`; repro never overrides it.
        case user
        /// repro replaced OpenBLAS's choice (named here) because the CPU supports a faster kernel.
        case replaced(detected: String)
    }

    /// The kernel in use and who chose it.
    public struct Selection: Sendable {
        public let coreName: String
        public let source: Source

        public var explanation: String {
            switch source {
            case .detected: return "detected by OpenBLAS"
            case .user: return "set by the user in \(BLASKernel.coreTypeVariable)"
            case .replaced(let detected):
                return "chosen by repro: OpenBLAS detected \(detected), the CPU supports \(coreName)"
            }
        }
    }

    /// The kernel OpenBLAS loaded with.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    public static var selection: Selection {
        let env = ProcessInfo.processInfo.environment
        guard env[coreTypeVariable] != nil else { return Selection(coreName: coreName, source: .detected) }
        if let detected = env[detectedVariable] {
            return Selection(coreName: coreName, source: .replaced(detected: detected))
        }
        return Selection(coreName: coreName, source: .user)
    }

    /// How long OpenBLAS's idle workers spin before they sleep, as log2 of CPU cycles (default 28,
    /// about 0.1 s). Spinning workers take the cores from the engine's own threads between products:
    /// attention went from 158 to 106 ms per default training step with 4. 12 (4,096 cycles) keeps
    /// that, and decoding's back-to-back small products still find the workers awake (batch-8
    /// greedy decoding: 790-830 tokens/s with 4, 880-960 with 12, 890-910 with 28).
    public static let threadTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT"
    static let threadTimeout = "12"

    /// Call first thing in `main`, before any BLAS call. Sets what OpenBLAS reads when it loads and
    /// the user has not set: a faster kernel than the one it detected, if the CPU has one, and a
    /// short spin for idle workers; then re-executes the program (this function then does not
    /// return). Returns at once when there is nothing to set.
    public static func selectBeforeFirstUse() {
        let env = ProcessInfo.processInfo.environment
        var settings: [(variable: String, value: String)] = []
        let detected = coreName
        if env[coreTypeVariable] == nil, let better = betterKernel(detected: detected, cpuFlags: cpuFlags()) {
            settings += [(coreTypeVariable, better), (detectedVariable, detected)]
        }
        if env[threadTimeoutVariable] == nil { settings.append((threadTimeoutVariable, threadTimeout)) }
        guard !settings.isEmpty else { return }
        for setting in settings { setenv(setting.variable, setting.value, 1) }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed: carry on as OpenBLAS loaded, and say so.
        for setting in settings { unsetenv(setting.variable) }
        FileHandle.standardError.write(Data(
            "warning: could not re-execute with \(settings.map { "\($0.variable)=\($0.value)" }.joined(separator: " ")) (errno \(errno)); BLAS runs as OpenBLAS loaded (\(detected) kernel)\n".utf8))
    }

    /// The kernel to use instead of `detected`, or nil when `detected` already uses what the CPU has.
    public static func betterKernel(detected: String, cpuFlags: Set<String>) -> String? {
        let cpu = capability(ofFlags: cpuFlags)
        guard capability(ofCore: detected) < cpu else { return nil }
        switch cpu {
        case 3: return "SkylakeX"
        case 2: return "Haswell"
        case 1: return "Sandybridge"
        default: return nil
        }
    }

    /// 0 generic SSE, 1 AVX, 2 AVX2 with FMA, 3 AVX-512 (F, BW, DQ, VL: what the SkylakeX kernel uses).
    static func capability(ofFlags flags: Set<String>) -> Int {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return 3 }
        if flags.contains("avx2") && flags.contains("fma") { return 2 }
        if flags.contains("avx") { return 1 }
        return 0
    }

    /// The vector width an OpenBLAS core name's kernels use, on the same scale.
    static func capability(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen", "excavator": return 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return 1
        default: return 0
        }
    }

    /// The CPU's feature flags, from /proc/cpuinfo (empty where it does not exist).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// The CPU's model name, from /proc/cpuinfo.
    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":")
        else { return "unknown CPU" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}

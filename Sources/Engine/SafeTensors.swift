import Foundation

/// The safetensors format of the Hugging Face ecosystem: an 8-byte little-endian header length,
/// a JSON header (`name: {dtype, shape, data_offsets}` and optional string `__metadata__`), then
/// the raw little-endian tensor data.
public enum SafeTensors {
    /// Element types this reader understands.
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        public var size: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .i8, .u8, .bool: return 1
            }
        }

        var isFloatingPoint: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
    }

    /// One tensor's entry in the header.
    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    /// The header length is capped so that a damaged length field cannot ask for gigabytes.
    static let maximumHeaderBytes = 100 << 20

    /// A file read into memory with its header checked.
    public struct File {
        public let path: String
        public let entries: [String: Entry]
        public let metadata: [String: String]
        let data: Data
        let dataStart: Int

        /// Tensor names, sorted.
        public var names: [String] { entries.keys.sorted() }

        /// A floating-point tensor as Float32 (F16, BF16 and F64 are converted).
        public func tensor(_ name: String) throws -> Tensor {
            let entry = try self.entry(name)
            guard entry.dtype.isFloatingPoint else {
                throw SafeTensorsError(path: path, problem: "tensor \(name) is \(entry.dtype.rawValue), not a floating-point type")
            }
            let tensor = Tensor(zeros: entry.shape)
            let count = tensor.count
            let out = tensor.data
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let base = raw.baseAddress! + dataStart + entry.range.lowerBound
                switch entry.dtype {
                case .f32: for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case .f64: for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
                case .f16: for i in 0..<count { out[i] = floatFromHalf(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                case .bf16: for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
                default: break
                }
            }
            return tensor
        }

        /// An integer or boolean tensor's values (token ids, masks), with its shape.
        public func integers(_ name: String) throws -> (values: [Int64], shape: [Int]) {
            let entry = try self.entry(name)
            let count = entry.shape.reduce(1, *)
            let values: [Int64] = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int64]? in
                let base = raw.baseAddress! + dataStart + entry.range.lowerBound
                switch entry.dtype {
                case .i64: return (0..<count).map { Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
                case .i32: return (0..<count).map { Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
                case .i16: return (0..<count).map { Int64(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
                case .i8: return (0..<count).map { Int64(base.load(fromByteOffset: $0, as: Int8.self)) }
                case .u8, .bool: return (0..<count).map { Int64(base.load(fromByteOffset: $0, as: UInt8.self)) }
                default: return nil
                }
            } ?? []
            guard !entry.dtype.isFloatingPoint else {
                throw SafeTensorsError(path: path, problem: "tensor \(name) is \(entry.dtype.rawValue), not an integer type")
            }
            return (values, entry.shape)
        }

        public func entry(_ name: String) throws -> Entry {
            guard let entry = entries[name] else {
                throw SafeTensorsError(path: path, problem: "no tensor named \(name) (it has \(entries.count): \(names.prefix(5).joined(separator: ", "))\(entries.count > 5 ? ", ..." : ""))")
            }
            return entry
        }
    }

    /// Reads and checks a safetensors file.
    public static func read(_ url: URL) throws -> File {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafeTensorsError(path: path, problem: "cannot be read (\((error as NSError).localizedDescription))")
        }
        return try parse(data, path: path)
    }

    /// Checks and indexes the bytes of a safetensors file; `path` names it in errors.
    public static func parse(_ data: Data, path: String) throws -> File {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(path: path, problem: problem) }
        guard data.count >= 8 else { throw fail("is \(data.count) bytes long, shorter than the 8-byte header length: truncated") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(maximumHeaderBytes) else { throw fail("declares a header of \(headerLength) bytes: not a safetensors file, or damaged") }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= data.count else { throw fail("declares a \(headerLength)-byte header but has \(data.count - 8) bytes after the length: truncated") }
        let header: [String: HeaderValue]
        do {
            header = try JSONDecoder().decode([String: HeaderValue].self, from: data.subdata(in: 8..<dataStart))
        } catch {
            throw fail("has a header that is not valid JSON (or not a JSON object)")
        }
        let dataSize = data.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard case .metadata(let fields) = value else { throw fail("has __metadata__ that is not an object of strings") }
                metadata = fields
                continue
            }
            guard case .tensor(let dtypeName, let shape, let offsets) = value else {
                throw fail("tensor \(name): entry is not an object with a dtype")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("tensor \(name): unsupported dtype \(dtypeName)") }
            guard let shape, shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor \(name): shape is not a list of non-negative integers") }
            guard let offsets, offsets.count == 2 else { throw fail("tensor \(name): data_offsets is not a pair of integers") }
            let (start, end) = (offsets[0], offsets[1])
            guard start >= 0, start <= end else { throw fail("tensor \(name): data_offsets [\(start), \(end)] are not an ordered range") }
            guard end <= dataSize else { throw fail("tensor \(name): data ends at byte \(end) of a \(dataSize)-byte data section: truncated") }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (product, o) = acc.0.multipliedReportingOverflow(by: d)
                return (product, acc.1 || o)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: dtype.size).partialValue == end - start else {
                throw fail("tensor \(name): shape \(shape) of \(dtype.rawValue) needs \(elements * dtype.size) bytes, data_offsets give \(end - start)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: start..<end)
        }
        // Tensors must not share bytes.
        let ranges = entries.map { ($0.key, $0.value.range) }.filter { !$0.1.isEmpty }.sorted { $0.1.lowerBound < $1.1.lowerBound }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.1.lowerBound < previous.1.upperBound {
            throw fail("tensors \(previous.0) and \(next.0) overlap")
        }
        return File(path: path, entries: entries, metadata: metadata, data: data, dataStart: dataStart)
    }

    /// One value of the header object: a tensor's description, the metadata, or something else.
    private enum HeaderValue: Decodable {
        case tensor(dtype: String, shape: [Int]?, offsets: [Int]?)
        case metadata([String: String])
        case other

        private enum Keys: String, CodingKey { case dtype, shape, data_offsets }

        init(from decoder: Decoder) throws {
            if let fields = try? decoder.container(keyedBy: Keys.self), let dtype = try? fields.decode(String.self, forKey: .dtype) {
                self = .tensor(dtype: dtype, shape: try? fields.decode([Int].self, forKey: .shape),
                               offsets: try? fields.decode([Int].self, forKey: .data_offsets))
            } else if let fields = try? decoder.singleValueContainer().decode([String: String].self) {
                self = .metadata(fields)
            } else {
                self = .other
            }
        }
    }

    /// The bytes of a safetensors file holding `tensors` as F32, entries sorted by name.
    public static func serialize(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            let t = tensors[name]!
            // Float32 is little-endian on every platform Swift runs this on.
            out.append(UnsafeBufferPointer(start: t.data, count: t.count))
        }
        return out
    }

    /// Writes `tensors` to `url` atomically: a temporary file beside it, flushed, then renamed,
    /// so that a crash leaves either the old file or the new one.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try writeAtomically(serialize(tensors, metadata: metadata), to: url)
    }
}

/// A safetensors file that cannot be used, and why.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Writes `data` to `url` through a temporary file in the same folder, fsync'd and renamed.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
    }
    do {
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        guard rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    }
}

/// IEEE 754 half precision to single.
func floatFromHalf(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int(bits >> 10) & 0x1f
    let mantissa = UInt32(bits & 0x3ff)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa * 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 0x1f:
        return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }
}

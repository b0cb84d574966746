import CCairo
import Foundation

/// An 8-bit RGB image: rows top to bottom, channels interleaved (r, g, b).
public struct RGBImage: Hashable, Sendable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public let bytes: [UInt8]

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * 3, "\(bytes.count) bytes for a \(width)x\(height) RGB image")
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    /// The pixel at (x, y).
    public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let i = (y * width + x) * 3
        return (bytes[i], bytes[i + 1], bytes[i + 2])
    }

    /// Reads a PNG file and resizes it to `size` x `size` (as InstructBLIP's processor does, without
    /// keeping the aspect ratio); transparent pixels are shown over white.
    public init(png url: URL, resizedTo size: Int) throws {
        do {
            self = try RGBImage.readPNG(url, resizedTo: size)
        } catch {
            throw DataError("\(url.path) \(error)")
        }
    }

    /// Why a file could not be read as a PNG image.
    enum PNGProblem: Error, CustomStringConvertible {
        case missing, jpeg, notPNG
        case undecodable(String)

        private static let howToConvert = "convert it, for example with Pillow: "
            + "Image.open(path).convert('RGB').save(new_path), or export the dataset with tools/export_vlrewardbench.py, which writes PNG"

        var description: String {
            switch self {
            case .missing: "does not exist"
            case .jpeg: "is a JPEG, and only PNG is read: \(Self.howToConvert)"
            case .notPNG: "is not a PNG, and only PNG is read: \(Self.howToConvert)"
            case .undecodable(let status): "is not a readable PNG (cairo: \(status))"
            }
        }
    }

    /// Reads and resizes a PNG, telling a missing file, a JPEG and another format apart by their first bytes.
    static func readPNG(_ url: URL, resizedTo size: Int) throws(PNGProblem) -> RGBImage {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw .missing }
        let head = [UInt8](handle.readData(ofLength: 8))
        try? handle.close()
        guard head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw head.starts(with: [0xFF, 0xD8, 0xFF]) ? .jpeg : .notPNG
        }
        let source = cairo_image_surface_create_from_png(url.path)
        defer { cairo_surface_destroy(source) }
        let status = cairo_surface_status(source)
        guard status == CAIRO_STATUS_SUCCESS else { throw .undecodable(String(cString: cairo_status_to_string(status))) }
        let width = Double(cairo_image_surface_get_width(source))
        let height = Double(cairo_image_surface_get_height(source))
        return RGBImage.draw(width: size, height: size) { context in
            cairo_set_source_rgb(context, 1, 1, 1)
            cairo_paint(context)
            cairo_scale(context, Double(size) / width, Double(size) / height)
            cairo_set_source_surface(context, source, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_GOOD)
            // Pad the edges so that the border pixels do not fade into the white underneath.
            cairo_pattern_set_extend(cairo_get_source(context), CAIRO_EXTEND_PAD)
            cairo_paint(context)
        }
    }

    /// Writes the image as a PNG file.
    public func writePNG(to url: URL) throws {
        let surface = makeSurface()
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_write_to_png(surface, url.path)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DataError("cannot write PNG \(url.path): \(String(cString: cairo_status_to_string(status)))")
        }
    }

    /// Draws on a fresh RGB surface and returns its pixels.
    static func draw(width: Int, height: Int, _ body: (OpaquePointer) -> Void) -> RGBImage {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))!
        defer { cairo_surface_destroy(surface) }
        // Cairo hands back an error surface without pixels for a size it cannot make (over 32,767 a side).
        let status = cairo_surface_status(surface)
        precondition(status == CAIRO_STATUS_SUCCESS, "cairo cannot make a \(width)x\(height) image: \(String(cString: cairo_status_to_string(status)))")
        let context = cairo_create(surface)!
        body(context)
        cairo_destroy(context)
        return RGBImage(surface: surface)
    }

    /// The pixels of an RGB24 surface (each pixel a native-endian 0x00RRGGBB word).
    init(surface: OpaquePointer) {
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface))
        let height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let pixel = row[x]
                let i = (y * width + x) * 3
                bytes[i] = UInt8(truncatingIfNeeded: pixel >> 16)
                bytes[i + 1] = UInt8(truncatingIfNeeded: pixel >> 8)
                bytes[i + 2] = UInt8(truncatingIfNeeded: pixel)
            }
        }
        self.init(width: width, height: height, bytes: bytes)
    }

    /// A new RGB24 surface holding the pixels; the caller destroys it.
    func makeSurface() -> OpaquePointer {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))!
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        for y in 0..<height {
            let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let i = (y * width + x) * 3
                row[x] = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            }
        }
        cairo_surface_mark_dirty(surface)
        return surface
    }
}

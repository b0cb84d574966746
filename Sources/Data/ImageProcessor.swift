import Engine

/// Turns RGB images into the pixel tensors the vision encoder reads, as InstructBLIP's image
/// processor does: bytes scaled to [0, 1], then normalised per channel with CLIP's mean and std.
public enum ImageProcessor {
    /// CLIP's per-channel mean (r, g, b), as InstructBLIP's processor config gives it.
    public static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    /// CLIP's per-channel standard deviation (r, g, b).
    public static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// One image as a `[3, H, W]` tensor.
    public static func pixelValues(_ image: RGBImage) -> Tensor {
        let tensor = Tensor(zeros: [3, image.height, image.width])
        write(image, into: tensor.data)
        return tensor
    }

    /// Images of one size as a `[B, 3, H, W]` tensor.
    public static func pixelValues(_ images: [RGBImage]) -> Tensor {
        precondition(!images.isEmpty, "a batch needs at least one image")
        let (width, height) = (images[0].width, images[0].height)
        precondition(images.allSatisfy { $0.width == width && $0.height == height },
                     "a batch's images must share one size; the first is \(width)x\(height)")
        let tensor = Tensor(zeros: [images.count, 3, height, width])
        for (i, image) in images.enumerated() {
            write(image, into: tensor.data + i * 3 * height * width)
        }
        return tensor
    }

    /// Writes one image's normalised channels, planar (all red, then green, then blue).
    private static func write(_ image: RGBImage, into destination: UnsafeMutablePointer<Float>) {
        let plane = image.width * image.height
        // One multiply-add per value: (byte / 255 - mean) / std.
        let scale = (0..<3).map { 1 / (255 * std[$0]) }
        let shift = (0..<3).map { -mean[$0] / std[$0] }
        image.bytes.withUnsafeBufferPointer { bytes in
            for p in 0..<plane {
                for c in 0..<3 {
                    destination[c * plane + p] = Float(bytes[p * 3 + c]) * scale[c] + shift[c]
                }
            }
        }
    }
}
